import type { OnvifSession, SoapAnswer } from './onvif-session.js';
import type { ProbeStep } from './probe.js';
import { child, text } from './soap.js';

const NS_MEDIA2 = 'http://www.onvif.org/ver20/media/wsdl';
const NS_EVENTS = 'http://www.onvif.org/ver10/events/wsdl';
const NS_MEDIA = 'http://www.onvif.org/ver10/media/wsdl';

/** Where a device serves what the platform uses, from GetServices or, on older firmware, GetCapabilities. */
export interface DeviceServices {
  mediaUrl: string | null;
  /** ONVIF Media2 (Profile T), when the device has it. */
  media2Url: string | null;
  eventsUrl: string | null;
  /** Whether the events service offers PullPoint subscriptions; null when the device did not say. */
  pullPoint: boolean | null;
}

export interface ChannelProfile {
  token: string;
  name: string | null;
  encoding: string | null;
  width: number | null;
  height: number | null;
  /** The service that listed it; the health poll uses Media, so a Media2-only profile is marked. */
  service: 'media' | 'media2';
  videoSourceConfigurationToken: string | null;
}

/** One video input of the device: a camera's sensor, or one channel of an NVR or encoder. */
export interface CameraChannel {
  videoSourceToken: string;
  width: number | null;
  height: number | null;
  framerate: number | null;
  /** Its profiles, the main stream first as the device lists it. */
  profiles: ChannelProfile[];
}

export interface VideoSourceInfo {
  token: string;
  width: number | null;
  height: number | null;
  framerate: number | null;
}

/** fast-xml-parser gives one repeated element as an object and several as an array. */
export function asArray(node: unknown): unknown[] {
  if (node === undefined || node === null || node === '') return [];
  return Array.isArray(node) ? node : [node];
}

const attr = (node: unknown, name: string): string | null => {
  const value = node && typeof node === 'object' ? (node as Record<string, unknown>)[`@_${name}`] : undefined;
  return typeof value === 'string' && value !== '' ? value : null;
};
const num = (node: unknown): number | null => {
  const value = Number(text(node));
  return text(node) !== undefined && Number.isFinite(value) ? value : null;
};

/**
 * GetServices lists each service's namespace and address (ONVIF Core, "GetServices"); with
 * IncludeCapability the events service says whether it offers PullPoint.
 */
export function parseServices(body: unknown): DeviceServices {
  const services: DeviceServices = { mediaUrl: null, media2Url: null, eventsUrl: null, pullPoint: null };
  for (const service of asArray(child(body, 'GetServicesResponse', 'Service'))) {
    const namespace = text(child(service, 'Namespace'));
    const xaddr = text(child(service, 'XAddr')) ?? null;
    if (namespace === NS_MEDIA) services.mediaUrl = xaddr;
    else if (namespace === NS_MEDIA2) services.media2Url = xaddr;
    else if (namespace === NS_EVENTS) {
      services.eventsUrl = xaddr;
      const caps = child(service, 'Capabilities', 'Capabilities');
      const pullPoint = attr(caps, 'WSPullPointSupport');
      if (pullPoint !== null) services.pullPoint = pullPoint === 'true' || pullPoint === '1';
    }
  }
  return services;
}

/** GetCapabilities (All), for devices older than GetServices. */
export function parseCapabilities(body: unknown): DeviceServices {
  const caps = child(body, 'GetCapabilitiesResponse', 'Capabilities');
  const pullPoint = text(child(caps, 'Events', 'WSPullPointSupport'));
  return {
    mediaUrl: text(child(caps, 'Media', 'XAddr')) ?? null,
    media2Url: null,
    eventsUrl: text(child(caps, 'Events', 'XAddr')) ?? null,
    pullPoint: pullPoint === undefined ? null : pullPoint === 'true',
  };
}

export function parseVideoSources(body: unknown): VideoSourceInfo[] {
  return asArray(child(body, 'GetVideoSourcesResponse', 'VideoSources')).flatMap((source) => {
    const token = attr(source, 'token');
    if (!token) return [];
    return [
      {
        token,
        width: num(child(source, 'Resolution', 'Width')),
        height: num(child(source, 'Resolution', 'Height')),
        framerate: num(child(source, 'Framerate')),
      },
    ];
  });
}

/** Media (ver10) profiles with the video source each one encodes. */
export function parseMediaProfiles(body: unknown): (ChannelProfile & { videoSourceToken: string | null })[] {
  return asArray(child(body, 'GetProfilesResponse', 'Profiles')).flatMap((profile) => {
    const token = attr(profile, 'token');
    if (!token) return [];
    const vsc = child(profile, 'VideoSourceConfiguration');
    const encoder = child(profile, 'VideoEncoderConfiguration');
    return [
      {
        token,
        name: text(child(profile, 'Name')) ?? null,
        encoding: text(child(encoder, 'Encoding')) ?? null,
        width: num(child(encoder, 'Resolution', 'Width')),
        height: num(child(encoder, 'Resolution', 'Height')),
        service: 'media' as const,
        videoSourceConfigurationToken: attr(vsc, 'token'),
        videoSourceToken: text(child(vsc, 'SourceToken')) ?? null,
      },
    ];
  });
}

/** Media2 (ver20) profiles: their configurations sit under Configurations (ONVIF Media2, GetProfiles). */
export function parseMedia2Profiles(body: unknown): (ChannelProfile & { videoSourceToken: string | null })[] {
  return asArray(child(body, 'GetProfilesResponse', 'Profiles')).flatMap((profile) => {
    const token = attr(profile, 'token');
    if (!token) return [];
    const vsc = child(profile, 'Configurations', 'VideoSource');
    const encoder = child(profile, 'Configurations', 'VideoEncoder');
    return [
      {
        token,
        name: text(child(profile, 'Name')) ?? null,
        encoding: text(child(encoder, 'Encoding')) ?? attr(encoder, 'Encoding'),
        width: num(child(encoder, 'Resolution', 'Width')),
        height: num(child(encoder, 'Resolution', 'Height')),
        service: 'media2' as const,
        videoSourceConfigurationToken: attr(vsc, 'token'),
        videoSourceToken: text(child(vsc, 'SourceToken')) ?? null,
      },
    ];
  });
}

/**
 * One channel per video source, in the device's order, each with its profiles. A profile listed by
 * both Media and Media2 (the usual case: the tokens are shared) is kept once, as Media's; sources
 * named only by profiles (no GetVideoSources) still become channels.
 */
export function groupChannels(
  sources: readonly VideoSourceInfo[],
  profiles: readonly (ChannelProfile & { videoSourceToken: string | null })[],
): CameraChannel[] {
  const channels = new Map<string, CameraChannel>();
  for (const source of sources)
    channels.set(source.token, { videoSourceToken: source.token, ...source, profiles: [] });
  const seen = new Set<string>();
  for (const { videoSourceToken, ...profile } of profiles) {
    if (!videoSourceToken || seen.has(profile.token)) continue;
    seen.add(profile.token);
    let channel = channels.get(videoSourceToken);
    if (!channel) {
      channel = { videoSourceToken, width: null, height: null, framerate: null, profiles: [] };
      channels.set(videoSourceToken, channel);
    }
    channel.profiles.push(profile);
  }
  return [...channels.values()].map(({ videoSourceToken, width, height, framerate, profiles }) => ({
    videoSourceToken,
    width,
    height,
    framerate,
    profiles,
  }));
}

/** Records a call as a step a technician can read; returns the answer's body when it succeeded. */
function stepOf(steps: ProbeStep[], name: string, answer: SoapAnswer): unknown {
  if (answer.ok) {
    steps.push({ name, ok: true, latencyMs: answer.latencyMs });
    return answer.body;
  }
  steps.push({ name, ok: false, latencyMs: answer.latencyMs, error: answer.detail });
  return undefined;
}

/** Where the device's media and events services are; the device address when it will not say. */
export async function deviceServices(session: OnvifSession, steps: ProbeStep[]): Promise<DeviceServices> {
  const deviceUrl = session.target.deviceUrl;
  const listed = stepOf(
    steps,
    'GetServices',
    await session.call(
      deviceUrl,
      '<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>',
    ),
  );
  let services = listed === undefined ? null : parseServices(listed);
  if (!services?.mediaUrl) {
    const caps = stepOf(
      steps,
      'GetCapabilities',
      await session.call(
        deviceUrl,
        '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
      ),
    );
    if (caps !== undefined) {
      const old = parseCapabilities(caps);
      services = {
        mediaUrl: old.mediaUrl,
        media2Url: services?.media2Url ?? null,
        eventsUrl: services?.eventsUrl ?? old.eventsUrl,
        pullPoint: services?.pullPoint ?? old.pullPoint,
      };
    }
  }
  const rebase = (url: string | null | undefined) => (url ? session.rebase(url) : null);
  return {
    // Many single-endpoint cameras serve media on the device address too.
    mediaUrl: rebase(services?.mediaUrl) ?? deviceUrl,
    media2Url: rebase(services?.media2Url),
    eventsUrl: rebase(services?.eventsUrl),
    pullPoint: services?.pullPoint ?? null,
  };
}

/** The device's channels: video sources and profiles from Media, and from Media2 when present. */
export async function listChannels(
  session: OnvifSession,
  services: DeviceServices,
  steps: ProbeStep[],
): Promise<CameraChannel[]> {
  const profiles: (ChannelProfile & { videoSourceToken: string | null })[] = [];
  let sources: VideoSourceInfo[] = [];
  if (services.mediaUrl) {
    const media = services.mediaUrl;
    const sourcesBody = stepOf(steps, 'GetVideoSources', await session.call(media, '<trt:GetVideoSources/>'));
    if (sourcesBody !== undefined) sources = parseVideoSources(sourcesBody);
    const profilesBody = stepOf(steps, 'GetProfiles', await session.call(media, '<trt:GetProfiles/>'));
    if (profilesBody !== undefined) profiles.push(...parseMediaProfiles(profilesBody));
  }
  if (services.media2Url) {
    const body = stepOf(
      steps,
      'Media2 GetProfiles',
      await session.call(
        services.media2Url,
        `<tr2:GetProfiles xmlns:tr2="${NS_MEDIA2}"><tr2:Type>All</tr2:Type></tr2:GetProfiles>`,
      ),
    );
    if (body !== undefined) profiles.push(...parseMedia2Profiles(body));
  }
  return groupChannels(sources, profiles);
}

/** Video source configuration token → video source token, for rule engine events. */
export function sourcesOfConfigurations(channels: readonly CameraChannel[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const channel of channels) {
    for (const profile of channel.profiles) {
      if (profile.videoSourceConfigurationToken)
        map.set(profile.videoSourceConfigurationToken, channel.videoSourceToken);
    }
  }
  return map;
}
