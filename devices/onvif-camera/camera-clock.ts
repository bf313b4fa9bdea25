import { child, text } from './soap.js';

/**
 * The camera's clock as GetSystemDateAndTime reports it (ONVIF Core, tt:SystemDateTime), and the
 * two ways installers get it wrong that are not drift.
 */

export interface CameraClockReading {
  /** The camera's idea of UTC, epoch ms. */
  utcMs: number;
  /** UTCDateTime, or LocalDateTime shifted by the time zone (some firmware sends only that). */
  source: 'UTCDateTime' | 'LocalDateTime';
  /** LocalDateTime came without a time zone the probe could read: the commune's was assumed. */
  zoneAssumed: boolean;
}

/** tt:DateTime (Date: Year/Month/Day, Time: Hour/Minute/Second) as epoch ms, or null if unusable. */
export function parseUtcDateTime(node: unknown): number | null {
  const n = (...path: string[]) => Number(text(child(node, ...path)));
  const parts = [
    n('Date', 'Year'),
    n('Date', 'Month'),
    n('Date', 'Day'),
    n('Time', 'Hour'),
    n('Time', 'Minute'),
    n('Time', 'Second'),
  ];
  if (parts.some((p) => !Number.isFinite(p))) return null;
  const [y, mo, d, h, mi, s] = parts as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/**
 * East-of-UTC seconds of a POSIX TZ string as ONVIF uses it (tt:TimeZone/TZ, IEEE 1003.1 §8.3):
 * `ICT-7` is UTC+7, `CST-8:00:00` UTC+8, `<+07>-7` UTC+7; the sign is west-positive. Null when
 * unreadable.
 */
export function posixTzOffsetS(tz: string | undefined): number | null {
  if (!tz) return null;
  const match = /^\s*(?:<[^>]+>|[A-Za-z]{3,})([+-]?)(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}))?/.exec(tz);
  if (!match) return null;
  const west =
    (Number(match[2]) * 3600 + Number(match[3] ?? 0) * 60 + Number(match[4] ?? 0)) *
    (match[1] === '-' ? -1 : 1);
  return west === 0 ? 0 : -west;
}

/**
 * Reads the camera's UTC from a GetSystemDateAndTimeResponse body: UTCDateTime when present,
 * otherwise LocalDateTime less the camera's time zone (or the commune's, `fallbackOffsetS`, when
 * the camera names none).
 */
export function readCameraClock(body: unknown, fallbackOffsetS: number): CameraClockReading | null {
  const sdt = child(body, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime');
  const utc = parseUtcDateTime(child(sdt, 'UTCDateTime'));
  if (utc !== null) return { utcMs: utc, source: 'UTCDateTime', zoneAssumed: false };
  const local = parseUtcDateTime(child(sdt, 'LocalDateTime'));
  if (local === null) return null;
  const zone = posixTzOffsetS(text(child(sdt, 'TimeZone', 'TZ')));
  return {
    utcMs: local - (zone ?? fallbackOffsetS) * 1000,
    source: 'LocalDateTime',
    zoneAssumed: zone === null,
  };
}

/**
 * A camera whose clock shows the right local time but is configured as UTC (time zone left at
 * GMT) reports UTC off by the local offset: +25,200 s in Vietnam, for good. That is a setting to
 * correct, not drift to chase. Recognised as a whole number of quarter hours (every zone in use
 * is) within an hour of the commune's offset, give or take ordinary drift.
 *
 * Returns the quarter-hour error in seconds, or null when the offset reads as plain drift.
 */
export function localTimeAsUtcS(
  offsetS: number,
  communeOffsetS: number,
  driftToleranceS = 120,
): number | null {
  const quarterHours = Math.round(offsetS / 900) * 900;
  if (quarterHours === 0 || communeOffsetS === 0) return null;
  if (Math.abs(offsetS - quarterHours) > driftToleranceS) return null;
  if (Math.abs(quarterHours - communeOffsetS) > 3600) return null;
  return quarterHours;
}
