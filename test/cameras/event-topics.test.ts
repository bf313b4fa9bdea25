import { describe, expect, it } from 'vitest';
import {
  groupChannels,
  parseMedia2Profiles,
  parseMediaProfiles,
} from '../../devices/onvif-camera/channels.js';
import {
  chooseTopics,
  EVENT_TOPICS,
  eventSource,
  eventState,
  topicPath,
} from '../../devices/onvif-camera/event-topics.js';
import { parseNotifications, parseTopicSet } from '../../devices/onvif-camera/pullpoint.js';
import { child, createSoapParser } from '../../devices/onvif-camera/soap.js';

/* The pure parts of reading ONVIF events and channels, on answers as firmware writes them. */
const body = (xml: string) =>
  child(
    createSoapParser().parse(
      `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${xml}</s:Body></s:Envelope>`,
    ),
    'Envelope',
    'Body',
  );

describe('event topics', () => {
  it('compares topics by local names, whatever prefix the camera bound', () => {
    expect(topicPath('tns1:VideoSource/MotionAlarm')).toBe('VideoSource/MotionAlarm');
    expect(topicPath(' ns0:RuleEngine/ns0:CellMotionDetector/Motion ')).toBe(
      'RuleEngine/CellMotionDetector/Motion',
    );
  });

  it('uses one topic per kind, the most specific the camera offers, so one motion is one event', () => {
    const chosen = chooseTopics([
      'VideoSource/MotionAlarm',
      'RuleEngine/CellMotionDetector/Motion',
      'VideoSource/GlobalSceneChange/ImagingService',
      'Device/Trigger/DigitalInput',
    ]);
    expect(chosen.map((t) => `${t.kind}:${t.path}`)).toEqual([
      'motion:RuleEngine/CellMotionDetector/Motion',
      'tamper:VideoSource/GlobalSceneChange/ImagingService',
    ]);
    expect(chooseTopics(['Device/Trigger/DigitalInput'])).toEqual([]);
    // A camera that would not list its topics: every known one is read.
    expect(chooseTopics(null)).toHaveLength(EVENT_TOPICS.length);
  });

  it('reads the state from the topic’s item, as true/false or 1/0', () => {
    const [motion] = chooseTopics(['RuleEngine/CellMotionDetector/Motion']);
    if (!motion) throw new Error('no motion topic');
    expect(eventState(motion, { IsMotion: 'true' })).toBe(true);
    expect(eventState(motion, { IsMotion: '0' })).toBe(false);
    expect(eventState(motion, { State: '1' })).toBe(true);
    expect(eventState(motion, { Other: 'x' })).toBeNull();
  });

  it('finds the video source an event is about, through the configuration for rule engine events', () => {
    const configs = new Map([['VideoSourceConfig_3', 'VideoSource_3']]);
    expect(eventSource({ Source: 'VideoSource_2' }, configs)).toBe('VideoSource_2');
    expect(eventSource({ VideoSourceConfigurationToken: 'VideoSourceConfig_3', Rule: 'r' }, configs)).toBe(
      'VideoSource_3',
    );
    expect(eventSource({ Rule: 'r' }, configs)).toBeNull();
  });
});

describe('PullPoint answers', () => {
  it('lists the topics of a TopicSet by their leaves', () => {
    const topics = parseTopicSet(
      body(
        '<tev:GetEventPropertiesResponse xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wstop="http://docs.oasis-open.org/wsn/t-1" xmlns:tns1="http://www.onvif.org/ver10/topics" xmlns:tt="http://www.onvif.org/ver10/schema">' +
          '<wstop:TopicSet><tns1:VideoSource><MotionAlarm wstop:topic="true"><tt:MessageDescription IsProperty="true"/></MotionAlarm>' +
          '<GlobalSceneChange><ImagingService wstop:topic="true"/></GlobalSceneChange></tns1:VideoSource>' +
          '<tns1:RuleEngine><CellMotionDetector><Motion wstop:topic="true"/></CellMotionDetector></tns1:RuleEngine>' +
          '</wstop:TopicSet></tev:GetEventPropertiesResponse>',
      ),
    );
    expect(topics.sort()).toEqual([
      'RuleEngine/CellMotionDetector/Motion',
      'VideoSource/GlobalSceneChange/ImagingService',
      'VideoSource/MotionAlarm',
    ]);
  });

  it('reads each notification’s topic, time, operation, source and data', () => {
    const response = child(
      body(
        '<tev:PullMessagesResponse xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema">' +
          '<tev:CurrentTime>2026-11-22T00:00:10Z</tev:CurrentTime><tev:TerminationTime>2026-11-22T00:02:00Z</tev:TerminationTime>' +
          '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:VideoSource/MotionAlarm</wsnt:Topic>' +
          '<wsnt:Message><tt:Message UtcTime="2026-11-22T00:00:09.500Z" PropertyOperation="Changed">' +
          '<tt:Source><tt:SimpleItem Name="Source" Value="VideoSource_1"/></tt:Source>' +
          '<tt:Data><tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>' +
          '</tev:PullMessagesResponse>',
      ),
      'PullMessagesResponse',
    );
    expect(parseNotifications(response)).toEqual([
      {
        topic: 'tns1:VideoSource/MotionAlarm',
        utcTime: Date.UTC(2026, 10, 22, 0, 0, 9, 500),
        operation: 'Changed',
        source: { Source: 'VideoSource_1' },
        data: { State: 'true' },
      },
    ]);
  });
});

describe('channels', () => {
  it('groups Media and Media2 profiles by video source, each profile once', () => {
    const media = parseMediaProfiles(
      body(
        '<trt:GetProfilesResponse xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">' +
          '<trt:Profiles token="main1"><tt:Name>main</tt:Name><tt:VideoSourceConfiguration token="vsc1"><tt:SourceToken>src1</tt:SourceToken></tt:VideoSourceConfiguration>' +
          '<tt:VideoEncoderConfiguration><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>' +
          '</trt:GetProfilesResponse>',
      ),
    );
    const media2 = parseMedia2Profiles(
      body(
        '<tr2:GetProfilesResponse xmlns:tr2="http://www.onvif.org/ver20/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">' +
          '<tr2:Profiles token="main1"><tt:Name>main</tt:Name><tr2:Configurations><tr2:VideoSource token="vsc1"><tt:SourceToken>src1</tt:SourceToken></tr2:VideoSource></tr2:Configurations></tr2:Profiles>' +
          '<tr2:Profiles token="h265-2"><tt:Name>ch2</tt:Name><tr2:Configurations><tr2:VideoSource token="vsc2"><tt:SourceToken>src2</tt:SourceToken></tr2:VideoSource>' +
          '<tr2:VideoEncoder><tt:Encoding>H265</tt:Encoding><tt:Resolution><tt:Width>2560</tt:Width><tt:Height>1440</tt:Height></tt:Resolution></tr2:VideoEncoder></tr2:Configurations></tr2:Profiles>' +
          '</tr2:GetProfilesResponse>',
      ),
    );
    const channels = groupChannels(
      [{ token: 'src1', width: 1920, height: 1080, framerate: 25 }],
      [...media, ...media2],
    );
    expect(channels).toEqual([
      {
        videoSourceToken: 'src1',
        width: 1920,
        height: 1080,
        framerate: 25,
        profiles: [
          {
            token: 'main1',
            name: 'main',
            encoding: 'H264',
            width: 1920,
            height: 1080,
            service: 'media',
            videoSourceConfigurationToken: 'vsc1',
          },
        ],
      },
      {
        videoSourceToken: 'src2',
        width: null,
        height: null,
        framerate: null,
        profiles: [
          {
            token: 'h265-2',
            name: 'ch2',
            encoding: 'H265',
            width: 2560,
            height: 1440,
            service: 'media2',
            videoSourceConfigurationToken: 'vsc2',
          },
        ],
      },
    ]);
  });
});
