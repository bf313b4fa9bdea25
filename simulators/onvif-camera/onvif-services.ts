import type { CameraIdentity } from './camera-identity.js';
import { EVENTS_CAPABILITIES, EVENTS_NAMESPACE } from './event-messages.js';
import { escapeXml, FAULTS, type SoapFault, type SoapRequest, text } from './soap.js';
import { VIDEO_FPS, VIDEO_HEIGHT, VIDEO_WIDTH } from './video-frames.js';

/** Where the camera's services live as seen by clients. */
export interface CameraEndpoints {
  deviceXAddr: string;
  mediaXAddr: string;
  snapshotUri: string;
  /** rtsp://host:port, profile path appended. */
  rtspBase: string;
  /** The events service, when the camera offers one. */
  eventsXAddr?: string;
}

export interface StreamProfile {
  token: string;
  name: string;
  encoderToken: string;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  /** Path on the RTSP server. */
  path: string;
}

export const VIDEO_SOURCE = {
  token: 'VideoSource_1',
  configToken: 'VideoSourceConfig_1',
  width: 1920,
  height: 1080,
};

/** The ONVIF name of the encoding the RTSP server serves: Motion JPEG (RTP/JPEG, RFC 2435). */
export const STREAM_ENCODING = 'JPEG';

/**
 * Main and sub stream, the pair nearly every Profile S camera ships with. Both announce what the
 * RTSP server sends on their path (video-frames.ts), so a client that trusts the profile is right.
 */
export const STREAM_PROFILES: readonly StreamProfile[] = [
  {
    token: 'Profile_1',
    name: 'mainStream',
    encoderToken: 'VideoEncoderConfig_1',
    width: VIDEO_WIDTH,
    height: VIDEO_HEIGHT,
    fps: VIDEO_FPS,
    bitrateKbps: 1024,
    path: '/Streaming/Channels/101',
  },
  {
    token: 'Profile_2',
    name: 'subStream',
    encoderToken: 'VideoEncoderConfig_2',
    width: VIDEO_WIDTH,
    height: VIDEO_HEIGHT,
    fps: VIDEO_FPS,
    bitrateKbps: 512,
    path: '/Streaming/Channels/102',
  },
];

export interface VideoSourceSpec {
  token: string;
  configToken: string;
  /** 1-based, as an NVR numbers its inputs. */
  channel: number;
  width: number;
  height: number;
}

export interface LayoutProfile extends StreamProfile {
  source: VideoSourceSpec;
}

/** The video inputs of a camera (one) or an NVR (one per channel) and the profiles that encode them. */
export interface MediaLayout {
  nvr: boolean;
  sources: readonly VideoSourceSpec[];
  profiles: readonly LayoutProfile[];
}

/**
 * One camera: a sensor with its main and sub stream. An NVR with n channels: n video sources, each
 * with one profile and its own stream (`/Streaming/Channels/<n>01`, the numbering NVRs use) and
 * snapshot (`?channel=<n>`).
 */
export function mediaLayout(channels = 1): MediaLayout {
  if (channels <= 1) {
    const source = { ...VIDEO_SOURCE, channel: 1 };
    return { nvr: false, sources: [source], profiles: STREAM_PROFILES.map((p) => ({ ...p, source })) };
  }
  const sources = Array.from({ length: channels }, (_, i) => ({
    token: `VideoSource_${i + 1}`,
    configToken: `VideoSourceConfig_${i + 1}`,
    channel: i + 1,
    width: VIDEO_SOURCE.width,
    height: VIDEO_SOURCE.height,
  }));
  const main = STREAM_PROFILES[0] as StreamProfile;
  return {
    nvr: true,
    sources,
    profiles: sources.map((source) => ({
      ...main,
      token: `Profile_${source.channel}`,
      name: `Channel${source.channel}`,
      encoderToken: `VideoEncoderConfig_${source.channel}`,
      path: `/Streaming/Channels/${source.channel}01`,
      source,
    })),
  };
}

/** The snapshot of a profile's video source. */
export function snapshotUriOf(
  endpoints: CameraEndpoints,
  layout: MediaLayout,
  profile: LayoutProfile,
): string {
  return layout.nvr ? `${endpoints.snapshotUri}?channel=${profile.source.channel}` : endpoints.snapshotUri;
}

export type ServiceAnswer = { ok: true; body: string } | { ok: false; fault: SoapFault };

export interface ServiceContext {
  identity: CameraIdentity;
  endpoints: CameraEndpoints;
  media: MediaLayout;
  /** The camera's own clock, drift included. */
  cameraNowMs: number;
  /** Advertised in GetScopes and ProbeMatch alike. */
  scopes: readonly string[];
}

/**
 * ONVIF Core §5.9.4.3 access class PRE_AUTH: these answer without credentials so a client can learn
 * the device time and services before it signs anything.
 */
export const PRE_AUTH_ACTIONS: ReadonlySet<string> = new Set([
  'GetSystemDateAndTime',
  'GetServices',
  'GetServiceCapabilities',
  'GetWsdlUrl',
  'GetEndpointReference',
]);

const ok = (body: string): ServiceAnswer => ({ ok: true, body });

export function answerDevice(request: SoapRequest, context: ServiceContext): ServiceAnswer {
  const { identity, endpoints } = context;
  switch (request.action) {
    case 'GetSystemDateAndTime':
      return ok(
        `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>${systemDateAndTime(context.cameraNowMs)}</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
      );
    case 'GetDeviceInformation':
      return ok(
        '<tds:GetDeviceInformationResponse>' +
          `<tds:Manufacturer>${escapeXml(identity.manufacturer)}</tds:Manufacturer>` +
          `<tds:Model>${escapeXml(identity.model)}</tds:Model>` +
          `<tds:FirmwareVersion>${escapeXml(identity.firmwareVersion)}</tds:FirmwareVersion>` +
          `<tds:SerialNumber>${escapeXml(identity.serialNumber)}</tds:SerialNumber>` +
          `<tds:HardwareId>${escapeXml(identity.hardwareId)}</tds:HardwareId>` +
          '</tds:GetDeviceInformationResponse>',
      );
    case 'GetCapabilities':
      return ok(`<tds:GetCapabilitiesResponse>${capabilities(endpoints)}</tds:GetCapabilitiesResponse>`);
    case 'GetServices':
      return ok(
        `<tds:GetServicesResponse>${services(endpoints, context.media, text(request.params.IncludeCapability) === 'true')}</tds:GetServicesResponse>`,
      );
    case 'GetScopes':
      return ok(`<tds:GetScopesResponse>${scopesXml(context.scopes)}</tds:GetScopesResponse>`);
    case 'GetHostname':
      return ok(
        `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${escapeXml(identity.serialNumber)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`,
      );
    default:
      return { ok: false, fault: FAULTS.actionNotSupported(request.action) };
  }
}

export function answerMedia(request: SoapRequest, context: ServiceContext): ServiceAnswer {
  const { media, endpoints } = context;
  const token = text(request.params.ProfileToken);
  const profile = media.profiles.find((p) => p.token === token);
  switch (request.action) {
    case 'GetProfiles':
      return ok(
        `<trt:GetProfilesResponse>${media.profiles.map((p) => profileXml(p, media)).join('')}</trt:GetProfilesResponse>`,
      );
    case 'GetProfile':
      if (!profile) return { ok: false, fault: FAULTS.noProfile(token ?? '') };
      return ok(
        `<trt:GetProfileResponse>${profileXml(profile, media).replace(/trt:Profiles/g, 'trt:Profile')}</trt:GetProfileResponse>`,
      );
    case 'GetVideoSources':
      return ok(
        `<trt:GetVideoSourcesResponse>${media.sources
          .map(
            (source) =>
              `<trt:VideoSources token="${source.token}"><tt:Framerate>25</tt:Framerate>` +
              `<tt:Resolution><tt:Width>${source.width}</tt:Width><tt:Height>${source.height}</tt:Height></tt:Resolution>` +
              '</trt:VideoSources>',
          )
          .join('')}</trt:GetVideoSourcesResponse>`,
      );
    case 'GetStreamUri':
      if (!profile) return { ok: false, fault: FAULTS.noProfile(token ?? '') };
      return ok(
        `<trt:GetStreamUriResponse>${mediaUri(`${endpoints.rtspBase}${profile.path}`)}</trt:GetStreamUriResponse>`,
      );
    case 'GetSnapshotUri':
      if (!profile) return { ok: false, fault: FAULTS.noProfile(token ?? '') };
      return ok(
        `<trt:GetSnapshotUriResponse>${mediaUri(snapshotUriOf(endpoints, media, profile))}</trt:GetSnapshotUriResponse>`,
      );
    default:
      return { ok: false, fault: FAULTS.actionNotSupported(request.action) };
  }
}

function mediaUri(uri: string): string {
  return (
    `<trt:MediaUri><tt:Uri>${escapeXml(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    '<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout></trt:MediaUri>'
  );
}

function dateTimeXml(date: Date): string {
  return (
    `<tt:Time><tt:Hour>${date.getUTCHours()}</tt:Hour><tt:Minute>${date.getUTCMinutes()}</tt:Minute>` +
    `<tt:Second>${date.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${date.getUTCFullYear()}</tt:Year><tt:Month>${date.getUTCMonth() + 1}</tt:Month>` +
    `<tt:Day>${date.getUTCDate()}</tt:Day></tt:Date>`
  );
}

/** Vietnam keeps UTC+7 all year; POSIX TZ writes that as ICT-7. */
function systemDateAndTime(nowMs: number): string {
  const utc = new Date(nowMs);
  const local = new Date(nowMs + 7 * 3600 * 1000);
  return (
    '<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
    '<tt:TimeZone><tt:TZ>ICT-7</tt:TZ></tt:TimeZone>' +
    `<tt:UTCDateTime>${dateTimeXml(utc)}</tt:UTCDateTime>` +
    `<tt:LocalDateTime>${dateTimeXml(local)}</tt:LocalDateTime>`
  );
}

function capabilities(endpoints: CameraEndpoints): string {
  return (
    '<tds:Capabilities>' +
    `<tt:Device><tt:XAddr>${escapeXml(endpoints.deviceXAddr)}</tt:XAddr>` +
    '<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration>' +
    '<tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>' +
    '<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye>' +
    '<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>' +
    '<tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>' +
    '<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>' +
    '<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2>' +
    '<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig>' +
    '<tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken>' +
    '<tt:RELToken>false</tt:RELToken></tt:Security></tt:Device>' +
    (endpoints.eventsXAddr
      ? `<tt:Events><tt:XAddr>${escapeXml(endpoints.eventsXAddr)}</tt:XAddr>` +
        '<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>' +
        '<tt:WSPullPointSupport>true</tt:WSPullPointSupport>' +
        '<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>'
      : '') +
    `<tt:Media><tt:XAddr>${escapeXml(endpoints.mediaXAddr)}</tt:XAddr>` +
    '<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>' +
    '<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>' +
    '</tds:Capabilities>'
  );
}

function services(endpoints: CameraEndpoints, media: MediaLayout, includeCapability: boolean): string {
  const service = (namespace: string, xaddr: string, caps: string) =>
    `<tds:Service><tds:Namespace>${namespace}</tds:Namespace><tds:XAddr>${escapeXml(xaddr)}</tds:XAddr>` +
    (includeCapability ? `<tds:Capabilities>${caps}</tds:Capabilities>` : '') +
    '<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>';
  return (
    service(
      'http://www.onvif.org/ver10/device/wsdl',
      endpoints.deviceXAddr,
      '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false"/>' +
        '<tds:Security UsernameToken="true" HttpDigest="true"/><tds:System DiscoveryResolve="false" DiscoveryBye="false"/></tds:Capabilities>',
    ) +
    service(
      'http://www.onvif.org/ver10/media/wsdl',
      endpoints.mediaXAddr,
      `<trt:Capabilities SnapshotUri="true" Rotation="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="${media.profiles.length}"/>` +
        '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/></trt:Capabilities>',
    ) +
    (endpoints.eventsXAddr ? service(EVENTS_NAMESPACE, endpoints.eventsXAddr, EVENTS_CAPABILITIES) : '')
  );
}

function scopesXml(scopes: readonly string[]): string {
  return scopes
    .map(
      (scope) =>
        `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${escapeXml(scope)}</tt:ScopeItem></tds:Scopes>`,
    )
    .join('');
}

function profileXml(profile: LayoutProfile, media: MediaLayout): string {
  const { source } = profile;
  const useCount = media.profiles.filter((p) => p.source === source).length;
  return (
    `<trt:Profiles token="${profile.token}" fixed="true"><tt:Name>${profile.name}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="${source.configToken}"><tt:Name>VideoSourceConfig</tt:Name>` +
    `<tt:UseCount>${useCount}</tt:UseCount><tt:SourceToken>${source.token}</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${source.width}" height="${source.height}"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="${profile.encoderToken}"><tt:Name>${profile.encoderToken}</tt:Name>` +
    `<tt:UseCount>1</tt:UseCount><tt:Encoding>${STREAM_ENCODING}</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${profile.width}</tt:Width><tt:Height>${profile.height}</tt:Height></tt:Resolution>` +
    '<tt:Quality>4</tt:Quality>' +
    `<tt:RateControl><tt:FrameRateLimit>${profile.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
    `<tt:BitrateLimit>${profile.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>' +
    '<tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    '<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration></trt:Profiles>'
  );
}
