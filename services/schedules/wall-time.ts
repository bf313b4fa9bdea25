/** A local ("wall clock") date and time in some time zone, without the zone: month is 1..12. */
export interface WallTime {
  y: number;
  m: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const DAY_MS = 86_400_000;

/** Parses 'YYYY-MM-DDTHH:mm[:ss]'; null when malformed or not a real calendar date and time. */
export function parseWallTime(text: string): WallTime | null {
  const match = WALL_TIME.exec(text);
  if (!match) return null;
  const [y, m, d, h, mi, s] = match.slice(1).map((part) => Number(part ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (h > 23 || mi > 59 || s > 59) return null;
  // Date.UTC rolls 31 February over into March; a round trip shows whether the date exists.
  const probe = new Date(Date.UTC(y, m - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) return null;
  return { y, m, d, h, mi, s };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** 'YYYY-MM-DDTHH:mm:ss', the one stored form of a wall time. */
export function formatWallTime(wall: WallTime): string {
  return `${pad(wall.y, 4)}-${pad(wall.m)}-${pad(wall.d)}T${pad(wall.h)}:${pad(wall.mi)}:${pad(wall.s)}`;
}

/** The wall time read as if it were UTC: how recurrence is expanded without a zone library. */
export function wallToFloating(wall: WallTime): number {
  return Date.UTC(wall.y, wall.m - 1, wall.d, wall.h, wall.mi, wall.s);
}

export function floatingToWall(ms: number): WallTime {
  const date = new Date(ms);
  return {
    y: date.getUTCFullYear(),
    m: date.getUTCMonth() + 1,
    d: date.getUTCDate(),
    h: date.getUTCHours(),
    mi: date.getUTCMinutes(),
    s: date.getUTCSeconds(),
  };
}

/**
 * Formatters are slow to build and are asked for on every occurrence, so one is kept per zone.
 * The cache holds only immutable Intl objects, never state.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether the runtime knows this IANA zone name. */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    formatterFor(name);
    return true;
  } catch (error) {
    // Intl answers an unknown zone with a RangeError; anything else is a real failure.
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/** The zone's offset from UTC at an instant, in ms (+07:00 → 25 200 000). */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    fields.year ?? 1970,
    (fields.month ?? 1) - 1,
    fields.day ?? 1,
    fields.hour ?? 0,
    fields.minute ?? 0,
    fields.second ?? 0,
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The wall time an instant shows in a zone. */
export function instantToWallTime(instant: number, timeZone: string): WallTime {
  return floatingToWall(instant + zoneOffsetMs(instant, timeZone));
}

/**
 * The instant a wall time denotes in a zone. The offsets a day either side are tried; when they
 * agree (always, in a fixed zone such as Asia/Ho_Chi_Minh) the answer is immediate. Around a
 * change, RFC 5545 §3.3.5 decides: a wall time that occurs twice (clocks going back) is its first
 * occurrence, and one that does not occur (clocks going forward) is read with the offset from
 * before the gap, so 02:30 on the spring-forward night in Berlin is 03:30 CEST.
 */
export function wallTimeToInstant(wall: WallTime, timeZone: string): number {
  const floating = wallToFloating(wall);
  const before = zoneOffsetMs(floating - DAY_MS, timeZone);
  const after = zoneOffsetMs(floating + DAY_MS, timeZone);
  if (before === after) return floating - before;
  const candidates = [floating - before, floating - after].filter(
    (instant) => zoneOffsetMs(instant, timeZone) === floating - instant,
  );
  if (candidates.length === 0) return floating - before;
  return Math.min(...candidates);
}

/**
 * Converts many wall times ("floating" ms) within one span to instants. A zone whose offset holds
 * across the span, as Asia/Ho_Chi_Minh's always does, is sampled weekly once instead of looked up
 * per occurrence; daylight-saving rules never change twice within a week.
 */
export function wallTimeConverter(
  timeZone: string,
  fromFloating: number,
  toFloating: number,
): (floating: number) => number {
  const perTime = (floating: number) => wallTimeToInstant(floatingToWall(floating), timeZone);
  const span = toFloating - fromFloating;
  if (!(span >= 0 && span <= 20 * 366 * DAY_MS)) return perTime;
  const offset = zoneOffsetMs(fromFloating - DAY_MS, timeZone);
  for (let t = fromFloating; ; t += 7 * DAY_MS) {
    const sample = Math.min(t, toFloating + DAY_MS);
    if (zoneOffsetMs(sample, timeZone) !== offset) return perTime;
    if (sample === toFloating + DAY_MS) break;
  }
  return (floating) => floating - offset;
}
