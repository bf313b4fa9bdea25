import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { Command } from '../../devices/index.js';
import { AckSchema, buildCommand, DeviceEventSchema } from '../../devices/index.js';
import { formatListLine, formatStatus } from '../../simulators/speaker-cluster/console-commands.js';
import type { PlayOf } from '../../simulators/speaker-cluster/media-fetcher.js';
import { type PlayLog, playLogSink } from '../../simulators/speaker-cluster/play-log.js';
import type { SimulatedCluster } from '../../simulators/speaker-cluster/simulated-cluster.js';
import { SignalMeter } from '../../simulators/speaker-cluster/stream-analysis.js';
import { UNDECODABLE_BYTES } from '../../simulators/speaker-cluster/stream-player.js';
import { StreamRecorder } from '../../simulators/speaker-cluster/stream-report.js';
import { harnessWithMediaEachTest } from '../support/simulator-fixtures.js';
import type { LiveResponse } from './media-server.js';
import { mp3ToneStream } from './mp3-tones.js';
import { is } from './mqtt-harness.js';

function sine(hz: number, seconds: number, sampleRate: number, amplitude = 0.5): Float32Array {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < samples.length; i++)
    samples[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate);
  return samples;
}

/** Feeds samples in chunks of odd sizes, as a decoder hands them out. */
function pushInChunks(meter: SignalMeter, samples: Float32Array, sampleRate: number): void {
  for (let offset = 0; offset < samples.length; offset += 1_151) {
    meter.push(samples.subarray(offset, offset + 1_151), sampleRate);
  }
}

/** vi.waitFor's guard, as long as the harness's: a shared 2-core machine may be slow, never wrong. */
const WAIT = { timeout: 5_000 };

const within = (actual: number | null | undefined, expected: number, tolerance: number) => {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual ?? Number.NaN) - expected)).toBeLessThanOrEqual(tolerance);
};

describe('stream analysis', () => {
  it.each([
    [440, 48_000],
    [1_000, 48_000],
    [440, 44_100],
    [1_000, 44_100],
  ])('finds a pure %i Hz sine sampled at %i Hz within 5 %%, and its RMS', (hz, sampleRate) => {
    const meter = new SignalMeter();
    pushInChunks(meter, sine(hz, 2, sampleRate), sampleRate);
    const { dominantHz, rms, tones } = meter.summary();
    within(dominantHz, hz, hz * 0.05);
    within(rms, 0.5 / Math.SQRT2, 0.01);
    expect(tones).toHaveLength(1);
    expect(tones[0]).toMatchObject({ startS: 0 });
    within(tones[0]?.durationS, 2, 0.1);
  });

  it('places steady tones in the order decoded; silence carries no pitch but lowers the level', () => {
    const meter = new SignalMeter();
    pushInChunks(meter, sine(440, 1, 48_000), 48_000);
    pushInChunks(meter, new Float32Array(24_000), 48_000);
    pushInChunks(meter, sine(1_000, 2, 48_000), 48_000);
    const { dominantHz, rms, tones } = meter.summary();
    // The longer tone holds more energy.
    within(dominantHz, 1_000, 50);
    within(rms, (0.5 / Math.SQRT2) * (3 / 3.5), 0.01);
    expect(tones.map((tone) => Math.round(tone.hz / 10) * 10)).toEqual([440, 1_000]);
    within(tones[1]?.startS, 1.5, 0.1);
  });

  it('has no pitch for silence, and none for hiss below the gate', () => {
    const meter = new SignalMeter();
    meter.push(new Float32Array(48_000), 48_000);
    meter.push(sine(440, 1, 48_000, 0.005), 48_000);
    expect(meter.summary()).toEqual({ dominantHz: null, rms: expect.any(Number), tones: [] });
  });

  it('counts a pause of more than a second in the arrival of audio as a gap, one at the end too', () => {
    const play: PlayOf<'stream'> = {
      type: 'play',
      id: 'cmd-gaps-0001',
      issuedAt: 1_000_000,
      expiresAt: 2_000_000,
      broadcastId: 'bc-1',
      level: 'normal',
      source: { kind: 'stream', url: 'http://127.0.0.1:9/live.mp3?sig=s3cr3t' },
      startAt: 1_000_000,
      repeat: 1,
    };
    const recorder = new StreamRecorder(play, 1_000_000);
    const tick = sine(440, 0.1, 48_000);
    expect(recorder.report(1_000_000)).toMatchObject({
      health: 'opening',
      url: 'http://127.0.0.1:9/live.mp3?…',
    });
    recorder.decoded(tick, 48_000, 1_000_100);
    recorder.decoded(tick, 48_000, 1_001_100);
    expect(recorder.report(1_001_100).gaps).toEqual([]);
    expect(recorder.report(1_002_101).health).toBe('gap');
    expect(recorder.decoded(tick, 48_000, 1_003_600)).toEqual({ startAt: 1_001_100, durationMs: 2_500 });
    recorder.finish('stopped', 1_005_000);
    expect(recorder.report(1_009_000)).toMatchObject({
      health: 'ended',
      ended: 'stopped',
      endedAt: 1_005_000,
      decodedS: 0.3,
      gaps: [
        { startAt: 1_001_100, durationMs: 2_500 },
        { startAt: 1_003_600, durationMs: 1_400 },
      ],
    });
  });
});

describe('simulated cluster: playing an MP3 stream', () => {
  const fixture = harnessWithMediaEachTest();

  const streamPlay = (path: string, params: { broadcastId: string; startAt?: number; endAt?: number }) =>
    buildCommand(
      'play',
      {
        level: 'emergency',
        source: { kind: 'stream', url: `${fixture.media.url(path)}?exp=1&sig=s3cr3t` },
        startAt: fixture.h.clock.now(),
        repeat: 1,
        ...params,
      },
      fixture.h.clock.now(),
      3_600_000,
    );

  const acksFor = (cmdId: string) =>
    fixture.h.observer
      .all(is('hd-01', 'ack', { cmdId }))
      .map((m) => AckSchema.parse(m.json))
      .map((ack) => (ack.error === undefined ? ack.status : `${ack.status}:${ack.error}`));

  const eventsFor = (cmdId: string) =>
    fixture.h.observer.all(is('hd-01', 'event', { cmdId })).map((m) => DeviceEventSchema.parse(m.json));

  const lastReport = (cluster: SimulatedCluster) => {
    const report = cluster.streamReports().at(-1);
    if (!report) throw new Error('no stream report yet');
    return report;
  };

  /** Sends bytes and counts them, then waits until the cluster has received (and decoded) them all. */
  const sender = (cluster: SimulatedCluster) => {
    let sent = 0;
    return {
      get sent() {
        return sent;
      },
      async send(response: LiveResponse, bytes: Buffer) {
        await response.write(bytes);
        sent += bytes.length;
        await vi.waitFor(() => expect(lastReport(cluster).bytes).toBe(sent), WAIT);
      },
      async end(response: LiveResponse, bytes: Buffer) {
        await response.end(bytes);
        sent += bytes.length;
      },
    };
  };

  async function startPlaying(play: Command, path: string) {
    const { h, media } = fixture;
    const live = media.live(path);
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'accepted' }), 'accepted');
    return live;
  }

  it('decodes what the server sends as it arrives: seconds, tones in order, a 2 s pause as a gap, and the end of the response as end-of-stream with ack done', async () => {
    const { h } = fixture;
    const played: PlayLog[] = [];
    const cluster = await h.startCluster({ logger: pino({ level: 'info' }, playLogSink(played)) });
    const startAt = h.clock.now() + 5_000;
    const play = streamPlay('/live/talk.mp3', { broadcastId: 'live-1', startAt });
    const live = await startPlaying(play, '/live/talk.mp3');
    const mp3 = await mp3ToneStream(48_000);
    const bytes = sender(cluster);

    h.clock.advance(5_000);
    const response = await live.next();
    await bytes.send(response, mp3.tone(440, 2));
    const started = await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');
    expect(started.json).toMatchObject({ cmdId: play.id, broadcastId: 'live-1', ts: startAt });
    within(lastReport(cluster).decodedS, 2, 0.2);
    expect(cluster.status().stream).toMatchObject({ cmdId: play.id, health: 'decoding' });

    // The sender pauses for 2 s: the cluster keeps the connection and waits.
    const pausedAt = h.clock.now();
    h.clock.advance(2_000);
    expect(cluster.status().stream?.health).toBe('gap');
    expect(formatListLine(cluster.status())).toMatch(/ stream=gap$/);
    await bytes.send(response, mp3.tone(1_000, 3));
    await bytes.end(response, mp3.finish());

    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(acksFor(play.id)).toEqual(['accepted', 'done']);
    expect(eventsFor(play.id)).toEqual([
      expect.objectContaining({ type: 'playback-started' }),
      expect.objectContaining({ type: 'playback-finished', code: 'completed', ts: startAt + 2_000 }),
    ]);
    await response.closed;

    const report = lastReport(cluster);
    expect(report).toMatchObject({
      cmdId: play.id,
      broadcastId: 'live-1',
      url: expect.stringMatching(/\/live\/talk\.mp3\?…$/),
      openedAt: startAt,
      contentType: 'audio/mpeg',
      bytes: bytes.sent,
      sampleRate: 48_000,
      firstAudioAt: startAt,
      gaps: [{ startAt: pausedAt, durationMs: 2_000 }],
      reconnects: [],
      health: 'ended',
      ended: 'end-of-stream',
      endedAt: startAt + 2_000,
    });
    within(report.decodedS, 5, 0.2);
    within(report.dominantHz, 1_000, 50);
    within(report.rms, 0.5 / Math.SQRT2, 0.05);
    expect(report.tones).toHaveLength(2);
    const [low, high] = report.tones;
    within(low?.hz, 440, 22);
    within(low?.durationS, 2, 0.2);
    within(high?.hz, 1_000, 50);
    within(high?.startS, 2, 0.2);
    within(high?.durationS, 3, 0.2);
    expect(cluster.streamReports()).toEqual([report]);
    expect(formatStatus(cluster.status())).toMatch(
      /stream: +ended, 5\.\d s decoded, \d+ Hz, 1 gap, 0 reconnects \(live-1\); end-of-stream/,
    );

    // The play log carries the report, for suites that read what a fleet played.
    const logged = played.filter((line) => line.msg === 'stream report');
    expect(logged).toEqual([
      expect.objectContaining({ deviceId: 'hd-01', broadcastId: 'live-1', stream: report }),
    ]);
  });

  it('a stop command closes the connection and ends the report with stopped (44.1 kHz)', async () => {
    const { h } = fixture;
    const cluster = await h.startCluster();
    const play = streamPlay('/live/stop.mp3', { broadcastId: 'live-2' });
    const live = await startPlaying(play, '/live/stop.mp3');
    const mp3 = await mp3ToneStream(44_100);
    const response = await live.next();
    await sender(cluster).send(response, mp3.tone(1_000, 1.5));
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');

    const stop = buildCommand('stop', { broadcastId: 'live-2' }, h.clock.now());
    await h.observer.sendCommand('hd-01', stop);
    await response.closed;
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(eventsFor(play.id).map((event) => event.code)).toEqual([undefined, 'stopped']);
    const report = lastReport(cluster);
    expect(report).toMatchObject({ sampleRate: 44_100, health: 'ended', ended: 'stopped' });
    within(report.decodedS, 1.5, 0.2);
    within(report.dominantHz, 1_000, 50);
    expect(cluster.status().playing).toBe(false);
  });

  it('keeps the connection through a long gap and closes it at endAt', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    const startAt = h.clock.now();
    const play = streamPlay('/live/window.mp3', { broadcastId: 'live-3', endAt: startAt + 60_000 });
    const live = await startPlaying(play, '/live/window.mp3');
    const mp3 = await mp3ToneStream();
    const bytes = sender(cluster);
    const response = await live.next();
    await bytes.send(response, mp3.tone(440, 1));
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');

    h.clock.advance(30_000);
    expect(cluster.status()).toMatchObject({ playing: true, stream: { health: 'gap' } });
    await bytes.send(response, mp3.tone(440, 1));
    expect(cluster.status().stream?.health).toBe('decoding');
    expect(media.requestsFor('/live/window.mp3')).toHaveLength(1);

    h.clock.advance(30_000);
    await response.closed;
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(eventsFor(play.id).at(-1)).toMatchObject({ type: 'playback-finished', code: 'end-at' });
    expect(lastReport(cluster)).toMatchObject({
      ended: 'endAt',
      endedAt: startAt + 60_000,
      gaps: [
        { startAt, durationMs: 30_000 },
        { startAt: startAt + 30_000, durationMs: 30_000 },
      ],
    });
  });

  it('opens the stream again when the connection breaks, up to 3 times 1 s apart, then fails fetch-failed', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    const startAt = h.clock.now();
    const play = streamPlay('/live/flaky.mp3', { broadcastId: 'live-4', endAt: startAt + 600_000 });
    const live = await startPlaying(play, '/live/flaky.mp3');
    const bytes = sender(cluster);
    const first = await live.next();
    await bytes.send(first, (await mp3ToneStream()).tone(440, 1));
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');

    first.destroy();
    await vi.waitFor(() => expect(cluster.status().stream?.health).toBe('reconnecting'), WAIT);
    h.clock.advance(1_000);
    const second = await live.next();
    await bytes.send(second, (await mp3ToneStream()).tone(440, 1));
    expect(cluster.status().stream?.health).toBe('decoding');
    expect(lastReport(cluster).reconnects).toEqual([
      { at: startAt + 1_000, attempt: 1, cause: expect.stringMatching(/stream broke/) },
    ]);

    second.destroy();
    await vi.waitFor(() => expect(cluster.status().stream?.health).toBe('reconnecting'), WAIT);
    for (let attempt = 1; attempt <= 3; attempt++) {
      h.clock.advance(1_000);
      (await live.next()).fail(503);
      await vi.waitFor(() => expect(lastReport(cluster).reconnects.at(-1)?.error).toMatch(/HTTP 503/), WAIT);
    }

    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed');
    expect(acksFor(play.id)).toEqual(['accepted', 'failed:fetch-failed']);
    expect(eventsFor(play.id).at(-1)).toMatchObject({
      type: 'playback-failed',
      code: 'fetch-failed',
      message: expect.stringMatching(/3 reconnects failed/),
    });
    const report = lastReport(cluster);
    expect(report).toMatchObject({ health: 'fault', ended: expect.stringMatching(/^error: fetch-failed: /) });
    expect(report.reconnects.map((r) => [r.at - startAt, r.attempt, r.error ?? 'opened'])).toEqual([
      [1_000, 1, 'opened'],
      [2_000, 1, expect.stringMatching(/HTTP 503/)],
      [3_000, 2, expect.stringMatching(/HTTP 503/)],
      [4_000, 3, expect.stringMatching(/HTTP 503/)],
    ]);
    within(report.decodedS, 2, 0.2);
    expect(media.requestsFor('/live/flaky.mp3')).toHaveLength(5);
    // The signature stays out of what technicians and logs see.
    expect(JSON.stringify(report)).not.toContain('s3cr3t');
  });

  it('takes a reconnect answered 404 (the talk ended meanwhile) as the end of the stream, with ack done', async () => {
    const { h } = fixture;
    const cluster = await h.startCluster();
    const startAt = h.clock.now();
    const play = streamPlay('/live/over.mp3', { broadcastId: 'live-6', endAt: startAt + 600_000 });
    const live = await startPlaying(play, '/live/over.mp3');
    const first = await live.next();
    await sender(cluster).send(first, (await mp3ToneStream()).tone(440, 1));
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');

    first.destroy();
    await vi.waitFor(() => expect(cluster.status().stream?.health).toBe('reconnecting'), WAIT);
    h.clock.advance(1_000);
    (await live.next()).fail(404);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(acksFor(play.id)).toEqual(['accepted', 'done']);
    expect(lastReport(cluster)).toMatchObject({ health: 'ended', ended: 'end-of-stream' });
  });

  it('a power cut closes the connection; the item is lost without events, its report ends with the cut', async () => {
    const { h } = fixture;
    const cluster = await h.startCluster();
    const play = streamPlay('/live/cut.mp3', { broadcastId: 'live-6' });
    const live = await startPlaying(play, '/live/cut.mp3');
    const response = await live.next();
    await sender(cluster).send(response, (await mp3ToneStream()).tone(440, 1));
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');

    await cluster.injectFault({ kind: 'power-cut' });
    await response.closed;
    expect(lastReport(cluster)).toMatchObject({ health: 'fault', ended: 'error: power cut' });
    expect(eventsFor(play.id).map((event) => event.type)).toEqual(['playback-started']);
  });

  it.each([
    ['a content type other than audio/mpeg', 'text/html', /content-type text\/html is not audio\/mpeg/],
    ['bytes that never decode', 'audio/mpeg', /bytes without a decodable MP3 frame/],
  ])(
    'reports a stream with %s as a stream fault: playback-failed internal, no sound',
    async (_what, type, message) => {
      const { h, media } = fixture;
      const cluster = await h.startCluster();
      const live = media.live('/live/portal', type);
      const play = streamPlay('/live/portal', { broadcastId: 'live-5' });
      await h.observer.sendCommand('hd-01', play);
      const response = await live.next();
      // A captive portal's page where the talk should be.
      const page = Buffer.from(`<html><body>${'Đăng nhập để tiếp tục. '.repeat(2_000)}</body></html>`);
      expect(page.length).toBeGreaterThan(UNDECODABLE_BYTES);
      await response.write(page);

      await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed');
      await response.closed;
      expect(acksFor(play.id)).toEqual(['accepted', 'failed:internal']);
      expect(eventsFor(play.id)).toEqual([
        expect.objectContaining({
          type: 'playback-failed',
          code: 'internal',
          message: expect.stringMatching(message),
        }),
      ]);
      expect(cluster.status()).toMatchObject({ playing: false, mediaFailures: 1 });
      expect(cluster.status().stream).toMatchObject({
        health: 'fault',
        decodedS: 0,
        firstAudioAt: null,
        ended: expect.stringMatching(/^error: internal: .*stream-fault/),
      });
      expect(formatStatus(cluster.status())).toMatch(/stream: +fault, 0\.0 s decoded, no tone/);
    },
  );
});
