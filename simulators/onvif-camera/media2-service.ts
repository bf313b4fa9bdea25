import { type ServiceAnswer, type ServiceContext, STREAM_ENCODING, snapshotUriOf } from './onvif-services.js';
import { escapeXml, FAULTS, type SoapRequest, text } from './soap.js';

export const MEDIA2_SERVICE_PATH = '/onvif/media2_service';
export const MEDIA2_NAMESPACE = 'http://www.onvif.org/ver20/media/wsdl';

/**
 * ONVIF Media Service 2.0 (ver20, Profile T), what H.265 cameras offer, some of them alone: the
 * same profiles as Media, with configurations grouped under tr2:Configurations and URIs answered
 * as a bare tr2:Uri.
 */
export function answerMedia2(request: SoapRequest, context: ServiceContext): ServiceAnswer {
  const { media, endpoints } = context;
  const token = text(request.params.ProfileToken);
  const profile = media.profiles.find((p) => p.token === token);
  switch (request.action) {
    case 'GetProfiles': {
      const listed = token === undefined ? media.profiles : media.profiles.filter((p) => p.token === token);
      return ok(`<tr2:GetProfilesResponse>${listed.map(profileXml).join('')}</tr2:GetProfilesResponse>`);
    }
    case 'GetVideoSourceConfigurations':
      return ok(
        `<tr2:GetVideoSourceConfigurationsResponse>${media.sources
          .map(
            (source) =>
              `<tr2:Configurations token="${source.configToken}"><tt:Name>VideoSourceConfig</tt:Name>` +
              `<tt:UseCount>1</tt:UseCount><tt:SourceToken>${source.token}</tt:SourceToken>` +
              `<tt:Bounds x="0" y="0" width="${source.width}" height="${source.height}"/></tr2:Configurations>`,
          )
          .join('')}</tr2:GetVideoSourceConfigurationsResponse>`,
      );
    case 'GetStreamUri':
      if (!profile) return { ok: false, fault: FAULTS.noProfile(token ?? '') };
      return ok(
        `<tr2:GetStreamUriResponse><tr2:Uri>${escapeXml(`${endpoints.rtspBase}${profile.path}`)}</tr2:Uri></tr2:GetStreamUriResponse>`,
      );
    case 'GetSnapshotUri':
      if (!profile) return { ok: false, fault: FAULTS.noProfile(token ?? '') };
      return ok(
        `<tr2:GetSnapshotUriResponse><tr2:Uri>${escapeXml(snapshotUriOf(endpoints, media, profile))}</tr2:Uri></tr2:GetSnapshotUriResponse>`,
      );
    default:
      return { ok: false, fault: FAULTS.actionNotSupported(request.action) };
  }
}

const ok = (body: string): ServiceAnswer => ({ ok: true, body });

function profileXml(profile: ServiceContext['media']['profiles'][number]): string {
  const { source } = profile;
  return (
    `<tr2:Profiles token="${profile.token}" fixed="true"><tr2:Name>${profile.name}</tr2:Name><tr2:Configurations>` +
    `<tr2:VideoSource token="${source.configToken}"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:SourceToken>${source.token}</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${source.width}" height="${source.height}"/></tr2:VideoSource>` +
    `<tr2:VideoEncoder token="${profile.encoderToken}">` +
    `<tt:Name>${profile.encoderToken}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${STREAM_ENCODING}</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${profile.width}</tt:Width><tt:Height>${profile.height}</tt:Height></tt:Resolution>` +
    `<tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>${profile.fps}</tt:FrameRateLimit>` +
    `<tt:BitrateLimit>${profile.bitrateKbps}</tt:BitrateLimit></tt:RateControl><tt:Quality>4</tt:Quality>` +
    '</tr2:VideoEncoder></tr2:Configurations></tr2:Profiles>'
  );
}
