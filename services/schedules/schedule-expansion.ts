import rrulePkg from 'rrule';
import { type LunarRule, lunarRuleDates } from './lunar-calendar.js';
import { untilToFloating } from './recurrence-rule.js';
import {
  floatingToWall,
  formatWallTime,
  instantToWallTime,
  parseWallTime,
  type WallTime,
  wallTimeConverter,
  wallTimeToInstant,
  wallToFloating,
} from './wall-time.js';

const { RRule } = rrulePkg;

/** At most this many occurrences come back from one expansion, whatever the rule and window. */
export const MAX_OCCURRENCES = 10_000;
const DAY_MS = 86_400_000;

/** What expansion needs of a schedule. */
export interface ExpandableSchedule {
  /** Wall time of the first occurrence, 'YYYY-MM-DDTHH:mm:ss'. */
  startsLocal: string;
  /** IANA zone the wall times are in. */
  timezone: string;
  /** RFC 5545 RRULE value (validated with recurrenceProblem), or null for a one-off. */
  rrule: string | null;
  /** A recurrence on Vietnamese lunar dates instead (absent or null: none). */
  lunar?: LunarRule | null;
  /** Wall times of occurrences that do not take place (RFC 5545 EXDATE). */
  exdates: string[];
  /** Length of one occurrence. */
  durationS: number;
}

/** A time span in UTC milliseconds, end exclusive. */
export interface Interval {
  start: number;
  end: number;
}

/**
 * The occurrences whose [start, end) overlaps [from, to), in UTC ms, sorted; an occurrence that
 * began before `from` and is still running is included.
 *
 * rrule's own time zone support shifts by the host's zone, so recurrence is expanded on wall
 * times read as UTC ("floating") and each wall time is then placed in the schedule's zone: a
 * 06:00 bulletin stays at 06:00 across a daylight-saving change. The rrule run is bounded by the
 * window (its UNTIL is clamped to the window's end) and by MAX_OCCURRENCES.
 */
export function expandOccurrences(s: ExpandableSchedule, from: number, to: number): Interval[] {
  const start = parseWallTime(s.startsLocal);
  if (!start) throw new Error(`bad schedule start "${s.startsLocal}"`);
  const durationMs = Math.round(s.durationS * 1000);
  const excluded = new Set(s.exdates.map((text) => normalizeWall(text)));
  // Wall time runs up to a day ahead of or behind UTC (UTC-12 to UTC+14): widen by a day each side,
  // and by the duration before, then keep what truly overlaps.
  const windowStart = from - durationMs - DAY_MS;
  const windowEnd = to + DAY_MS;
  // A one-off needs one lookup; a rule, many in the same span.
  const toInstant =
    s.rrule === null
      ? (floating: number) => wallTimeToInstant(floatingToWall(floating), s.timezone)
      : wallTimeConverter(s.timezone, windowStart, windowEnd);
  const found: Interval[] = [];
  const consider = (floating: number) => {
    if (excluded.size > 0 && excluded.has(formatWallTime(floatingToWall(floating)))) return;
    const instant = toInstant(floating);
    if (instant < to && instant + durationMs > from)
      found.push({ start: instant, end: instant + durationMs });
  };

  if (s.lunar) {
    // The lunar dates in the window, each at the start's time of day, from the start's date on.
    const firstDay = formatWallTime(instantToWallTime(windowStart, s.timezone)).slice(0, 10);
    const lastDay = formatWallTime(instantToWallTime(windowEnd, s.timezone)).slice(0, 10);
    const startDay = formatWallTime(start).slice(0, 10);
    const time = formatWallTime(start).slice(10);
    for (const date of lunarRuleDates(s.lunar, firstDay > startDay ? firstDay : startDay, lastDay)) {
      if (found.length >= MAX_OCCURRENCES) break;
      consider(wallToFloating(parseWallTime(`${date}${time}`) as WallTime));
    }
    return found;
  }
  if (s.rrule === null) {
    consider(wallToFloating(start));
    return found;
  }
  const parsed = RRule.parseString(s.rrule);
  const untilText = /(?:^|;)UNTIL=([^;]+)/.exec(s.rrule)?.[1];
  const ruleUntil = untilText === undefined ? null : untilToFloating(untilText, s.timezone);
  const until = Math.min(ruleUntil ?? Number.POSITIVE_INFINITY, windowEnd);
  const { options, dtstart } = fastForward(parsed, start, windowStart);
  const rule = new RRule(
    { ...options, dtstart: new Date(dtstart), until: new Date(until) },
    true, // no cache: each expansion builds its own rule
  );
  rule.all((date) => {
    const floating = date.getTime();
    if (floating >= windowEnd) return false;
    if (floating >= windowStart) consider(floating);
    return found.length < MAX_OCCURRENCES;
  });
  return found.sort((a, b) => a.start - b.start);
}

type RuleOptions = ReturnType<typeof RRule.parseString>;

/**
 * rrule walks every period from DTSTART, so a daily rule begun a year ago costs a year of steps on
 * each expansion (the dispatcher expands every second). Without COUNT, which numbers occurrences
 * from the very first, the walk may begin at a later start in the same phase: a whole number of
 * intervals on, at least one period before the window. The defaults rrule would take from DTSTART
 * (day of month, month) are made explicit first, since the later start falls on the 1st.
 */
function fastForward(
  options: RuleOptions,
  start: WallTime,
  windowStart: number,
): { options: RuleOptions; dtstart: number } {
  const first = wallToFloating(start);
  const unchanged = { options, dtstart: first };
  if (options.count != null || windowStart <= first) return unchanged;
  const interval = options.interval ?? 1;
  const timeOfDay = first - Date.UTC(start.y, start.m - 1, start.d);
  const window = floatingToWall(windowStart);
  const narrowed = options.bymonthday != null || options.byweekday != null;
  switch (options.freq) {
    case RRule.DAILY:
    case RRule.WEEKLY: {
      const period = (options.freq === RRule.DAILY ? 1 : 7) * interval * DAY_MS;
      const k = Math.floor((windowStart - first) / period) - 1;
      // Whole weeks keep the weekday, and with it the WKST-aligned weeks rrule counts intervals in.
      return k > 0 ? { options, dtstart: first + k * period } : unchanged;
    }
    case RRule.MONTHLY: {
      const months = (window.y - start.y) * 12 + (window.m - start.m);
      const k = Math.floor(months / interval) - 1;
      if (k <= 0) return unchanged;
      return {
        options: narrowed ? options : { ...options, bymonthday: start.d },
        dtstart: Date.UTC(start.y, start.m - 1 + k * interval, 1) + timeOfDay,
      };
    }
    case RRule.YEARLY: {
      const k = Math.floor((window.y - start.y) / interval) - 1;
      if (k <= 0) return unchanged;
      return {
        options: narrowed
          ? options
          : { ...options, bymonth: options.bymonth ?? start.m, bymonthday: start.d },
        dtstart: Date.UTC(start.y + k * interval, 0, 1) + timeOfDay,
      };
    }
    default:
      return unchanged;
  }
}

/**
 * The first occurrence still running at or starting after `from`, or null when there is none in
 * the next ten years. Looks a week ahead first, then a year, so common rules cost little.
 */
export function nextOccurrence(s: ExpandableSchedule, from: number): Interval | null {
  for (const span of [8 * DAY_MS, 400 * DAY_MS, 3_660 * DAY_MS]) {
    const first = expandOccurrences(s, from, from + span)[0];
    if (first) return first;
  }
  return null;
}

/** 'YYYY-MM-DDTHH:mm[:ss]' in the stored form with seconds; unparseable text is kept as given. */
export function normalizeWall(text: string): string {
  const wall = parseWallTime(text);
  return wall ? formatWallTime(wall) : text;
}
