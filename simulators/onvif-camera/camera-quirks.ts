import type { CameraFault, CameraFaultKind } from './faults.js';
import { answerMedia2, MEDIA2_NAMESPACE, MEDIA2_SERVICE_PATH } from './media2-service.js';

export { MEDIA2_SERVICE_PATH };

import { answerDevice, answerMedia, type ServiceAnswer, type ServiceContext } from './onvif-services.js';
import { FAULTS, type SoapRequest } from './soap.js';

/**
 * Answers that differ from the ONVIF book the way field cameras do (faults.ts lists them). Each
 * returns undefined when no quirk applies, and the standard service answers.
 */

type Faults = ReadonlyMap<CameraFaultKind, CameraFault>;

/** Vietnam, UTC+7 all year. */
const LOCAL_OFFSET_MS = 7 * 3600 * 1000;

/** A firmware update moved the streams; ONVIF still names this old path (Hikvision's former one). */
export const GONE_STREAM_PATH = '/h264/ch1/main/av_stream';

/** How far the camera's idea of UTC is off because of a quirk (local time set as UTC). */
export function quirkClockOffsetMs(faults: Faults): number {
  return faults.has('local-time-as-utc') ? LOCAL_OFFSET_MS : 0;
}

export function answerQuirk(
  service: 'device' | 'media' | 'media2',
  request: SoapRequest,
  context: ServiceContext,
  faults: Faults,
): ServiceAnswer | undefined {
  if (service === 'media2') return goneStream(answerMedia2(request, context), request, context, faults);
  if (service === 'media') {
    if (faults.has('media2-only')) return { ok: false, fault: FAULTS.actionNotSupported(request.action) };
    return faults.has('stream-path-gone')
      ? goneStream(answerMedia(request, context), request, context, faults)
      : undefined;
  }
  switch (request.action) {
    case 'GetSystemDateAndTime':
      if (faults.has('no-system-time'))
        return { ok: false, fault: FAULTS.actionNotSupported(request.action) };
      if (faults.has('local-time-as-utc')) {
        // The installer left the zone at GMT and set the clock to what the wall clock says.
        return systemDateAndTime('GMT0', context.cameraNowMs, context.cameraNowMs);
      }
      if (faults.has('local-time-only')) {
        return systemDateAndTime('ICT-7', null, context.cameraNowMs + LOCAL_OFFSET_MS);
      }
      return undefined;
    case 'GetCapabilities': {
      if (!faults.has('media2-only')) return undefined;
      const answer = answerDevice(request, context);
      // Capabilities have no room for Media2: a Media2-only camera lists no Media there.
      return answer.ok ? { ok: true, body: answer.body.replace(/<tt:Media>.*?<\/tt:Media>/s, '') } : answer;
    }
    case 'GetServices': {
      if (!faults.has('media2-only')) return undefined;
      const answer = answerDevice(request, context);
      if (!answer.ok) return answer;
      const media2 = new URL(MEDIA2_SERVICE_PATH, context.endpoints.deviceXAddr).toString();
      const entry =
        `<tds:Service><tds:Namespace>${MEDIA2_NAMESPACE}</tds:Namespace><tds:XAddr>${media2}</tds:XAddr>` +
        '<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>';
      return {
        ok: true,
        body: answer.body.replace(
          /<tds:Service><tds:Namespace>http:\/\/www\.onvif\.org\/ver10\/media\/wsdl<\/tds:Namespace>.*?<\/tds:Service>/s,
          entry,
        ),
      };
    }
    default:
      return undefined;
  }
}

/** The stream URI renamed to a path the RTSP server does not serve. */
function goneStream(
  answer: ServiceAnswer,
  request: SoapRequest,
  context: ServiceContext,
  faults: Faults,
): ServiceAnswer {
  if (!answer.ok || request.action !== 'GetStreamUri' || !faults.has('stream-path-gone')) return answer;
  const base = context.endpoints.rtspBase;
  let body = answer.body;
  for (const profile of context.media.profiles)
    body = body.replace(`${base}${profile.path}<`, `${base}${GONE_STREAM_PATH}<`);
  return { ok: true, body };
}

function dateTimeXml(ms: number): string {
  const d = new Date(ms);
  return (
    `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>`
  );
}

/** A clock set by hand (DateTimeType Manual), as the installer left it. */
function systemDateAndTime(tz: string, utcMs: number | null, localMs: number): ServiceAnswer {
  return {
    ok: true,
    body:
      '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
      '<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
      `<tt:TimeZone><tt:TZ>${tz}</tt:TZ></tt:TimeZone>` +
      (utcMs === null ? '' : `<tt:UTCDateTime>${dateTimeXml(utcMs)}</tt:UTCDateTime>`) +
      `<tt:LocalDateTime>${dateTimeXml(localMs)}</tt:LocalDateTime>` +
      '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
  };
}
