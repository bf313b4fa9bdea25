import rrulePkg from 'rrule';
import { instantToWallTime, type WallTime, wallToFloating } from './wall-time.js';

const { RRule } = rrulePkg;

/**
 * The part of RFC 5545 §3.3.10 (RECUR) a commune's announcements need: daily, weekly, monthly or
 * yearly repetition narrowed by weekday, day of month and month, ended by COUNT or UNTIL. Finer
 * frequencies and BYHOUR/BYMINUTE would multiply plays within a day; BYSETPOS, BYWEEKNO and
 * BYYEARDAY have no use here and make rules hard to read back.
 */
const FREQUENCIES = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const;
type Frequency = (typeof FREQUENCIES)[number];
const KEYS = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'WKST']);
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
const BYDAY_ITEM = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/;
const UNTIL_VALUE = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/;
const DAY_MS = 86_400_000;

/** The upper-case rule without an `RRULE:` prefix: the form stored and expanded. */
export function normalizeRecurrence(rule: string): string {
  return rule
    .trim()
    .replace(/^RRULE:/i, '')
    .toUpperCase();
}

interface ParsedRule {
  freq: Frequency;
  interval: number;
  /** Plain weekdays, 0 = Monday as in rrule. */
  weekdays: number[];
  /** [weekday, n]: the n-th (from the end when negative) weekday of the month or year. */
  nthWeekdays: [number, number][];
  monthdays: number[];
  months: number[];
  /** The weekday weeks start on (WKST), 0 = Monday. */
  weekStart: number;
}

const intList = (value: string) =>
  value.split(',').map((item) => (/^[+-]?\d+$/.test(item) ? Number(item) : NaN));

/**
 * Checks a rule's syntax against the supported subset; returns the problem, or the parsed rule.
 * The messages speak to an operator typing a rule into a form.
 */
function parse(rule: string): ParsedRule | string {
  const text = normalizeRecurrence(rule);
  if (text.length === 0) return 'is empty';
  if (text.length > 300) return 'is longer than 300 characters';
  const parts = new Map<string, string>();
  for (const part of text.split(';')) {
    const [key, value, extra] = part.split('=');
    if (!key || value === undefined || value === '' || extra !== undefined)
      return `"${part}" is not KEY=VALUE`;
    if (key === 'DTSTART' || key === 'TZID')
      return `${key} is not allowed: the schedule's start and timezone give it`;
    if (!KEYS.has(key))
      return `${key} is not supported (use FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, WKST)`;
    if (parts.has(key)) return `${key} is given twice`;
    parts.set(key, value);
  }
  const freq = parts.get('FREQ');
  if (!freq) return 'FREQ is required';
  if (!(FREQUENCIES as readonly string[]).includes(freq)) {
    return `FREQ=${freq} is not supported: announcements repeat DAILY, WEEKLY, MONTHLY or YEARLY`;
  }
  const frequency = freq as Frequency;
  // RFC 5545 §3.3.10: "The UNTIL or COUNT rule parts are OPTIONAL, but they MUST NOT occur in the
  // same 'recur'."
  if (parts.has('COUNT') && parts.has('UNTIL')) return 'COUNT and UNTIL must not both be given';
  const interval = parts.has('INTERVAL') ? Number(parts.get('INTERVAL')) : 1;
  if (!Number.isInteger(interval) || interval < 1 || interval > 999) return 'INTERVAL must be 1 to 999';
  if (parts.has('COUNT')) {
    const count = Number(parts.get('COUNT'));
    if (!Number.isInteger(count) || count < 1 || count > 10_000) return 'COUNT must be 1 to 10000';
  }
  const until = parts.get('UNTIL');
  if (until !== undefined && !untilToFloating(until, 'UTC')) {
    return 'UNTIL must be a date (YYYYMMDD) or a date-time (YYYYMMDDTHHMMSS, with Z for UTC)';
  }
  const wkst = parts.get('WKST');
  if (wkst !== undefined && !(WEEKDAYS as readonly string[]).includes(wkst)) return 'WKST must be MO..SU';

  const months = parts.has('BYMONTH') ? intList(parts.get('BYMONTH') ?? '') : [];
  if (months.some((m) => !Number.isInteger(m) || m < 1 || m > 12)) return 'BYMONTH values must be 1 to 12';

  const monthdays = parts.has('BYMONTHDAY') ? intList(parts.get('BYMONTHDAY') ?? '') : [];
  if (monthdays.some((d) => !Number.isInteger(d) || d === 0 || d < -31 || d > 31)) {
    return 'BYMONTHDAY values must be 1 to 31 or -31 to -1';
  }
  // RFC 5545 §3.3.10: "The BYMONTHDAY rule part MUST NOT be specified when the FREQ rule part is
  // set to WEEKLY."
  if (monthdays.length > 0 && frequency === 'WEEKLY') return 'BYMONTHDAY cannot be used with FREQ=WEEKLY';

  const weekdays: number[] = [];
  const nthWeekdays: [number, number][] = [];
  for (const item of parts.has('BYDAY') ? (parts.get('BYDAY') ?? '').split(',') : []) {
    const match = BYDAY_ITEM.exec(item);
    if (!match) return `BYDAY value "${item}" is not a weekday such as MO, 1MO or -1FR`;
    const weekday = WEEKDAYS.indexOf(match[2] as (typeof WEEKDAYS)[number]);
    if (match[1] === undefined) {
      weekdays.push(weekday);
      continue;
    }
    const n = Number(match[1]);
    // RFC 5545 §3.3.10: numbered BYDAY values only with MONTHLY or YEARLY; within a month they
    // run to ±5, within a year to ±53.
    if (frequency !== 'MONTHLY' && frequency !== 'YEARLY') {
      return `BYDAY value "${item}" has a number, allowed only with FREQ=MONTHLY or YEARLY`;
    }
    const limit = frequency === 'YEARLY' && months.length === 0 ? 53 : 5;
    if (n === 0 || Math.abs(n) > limit)
      return `BYDAY value "${item}": the number must be 1 to ${limit} or -${limit} to -1`;
    nthWeekdays.push([weekday, n]);
  }
  // rrule applies plain and numbered weekdays as two filters that must both hold, so "MO,1FR"
  // would never occur rather than mean "Mondays and the first Friday".
  if (weekdays.length > 0 && nthWeekdays.length > 0)
    return 'BYDAY cannot mix plain (MO) and numbered (1FR) weekdays';

  try {
    RRule.parseString(text);
  } catch (error) {
    return (error as Error).message;
  }
  const weekStart = wkst === undefined ? 0 : WEEKDAYS.indexOf(wkst as (typeof WEEKDAYS)[number]);
  return { freq: frequency, interval, weekdays, nthWeekdays, monthdays, months, weekStart };
}

/** The problem with a rule's syntax, or null when it is one this platform expands. */
export function recurrenceSyntaxProblem(rule: string): string | null {
  const parsed = parse(rule);
  return typeof parsed === 'string' ? parsed : null;
}

/**
 * The problem with a rule for a schedule starting at this wall time, or null. Beyond syntax, a
 * rule that can never occur (30 February, the 5th Monday of a February in years the interval
 * never visits) is refused: rrule would search for it until the year 9999, seconds of work on
 * every expansion.
 */
export function recurrenceProblem(rule: string, start: WallTime): string | null {
  const parsed = parse(rule);
  if (typeof parsed === 'string') return parsed;
  return occursEver(withDefaults(parsed, start), start)
    ? null
    : 'never occurs: no date matches every part of the rule';
}

/** rrule's defaults when no BYxxx narrows the rule: the start's day, weekday and month. */
function withDefaults(rule: ParsedRule, start: WallTime): ParsedRule {
  if (rule.monthdays.length > 0 || rule.weekdays.length > 0 || rule.nthWeekdays.length > 0) return rule;
  const startWeekday = (new Date(wallToFloating(start)).getUTCDay() + 6) % 7;
  switch (rule.freq) {
    case 'YEARLY':
      return { ...rule, months: rule.months.length > 0 ? rule.months : [start.m], monthdays: [start.d] };
    case 'MONTHLY':
      return { ...rule, monthdays: [start.d] };
    case 'WEEKLY':
      return { ...rule, weekdays: [startWeekday] };
    default:
      return rule;
  }
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const monthLength = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Whether one day passes every filter, as rrule's iterator tests it. */
function dayMatches(rule: ParsedRule, floating: number, yearlyScope: boolean): boolean {
  const date = new Date(floating);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth() + 1;
  const d = date.getUTCDate();
  const weekday = (date.getUTCDay() + 6) % 7;
  if (rule.months.length > 0 && !rule.months.includes(m)) return false;
  if (rule.weekdays.length > 0 && !rule.weekdays.includes(weekday)) return false;
  if (rule.monthdays.length > 0) {
    const fromEnd = d - monthLength(y, m) - 1;
    if (!rule.monthdays.includes(d) && !rule.monthdays.includes(fromEnd)) return false;
  }
  if (rule.nthWeekdays.length > 0) {
    // A numbered weekday counts within the year for YEARLY without BYMONTH, else within the month.
    const index = yearlyScope ? (floating - Date.UTC(y, 0, 1)) / DAY_MS + 1 : d;
    const length = yearlyScope ? (isLeap(y) ? 366 : 365) : monthLength(y, m);
    const nth = Math.ceil(index / 7);
    const nthFromEnd = -Math.ceil((length - index + 1) / 7);
    if (!rule.nthWeekdays.some(([w, n]) => w === weekday && (n === nth || n === nthFromEnd))) return false;
  }
  return true;
}

/**
 * Walks the rule's periods through one whole cycle of the Gregorian calendar (400 years =
 * 146 097 days = 20 871 weeks = 4 800 months) combined with the interval: if no day matches in
 * that cycle, none ever will. At most about 150 000 day tests, and usually one.
 */
function occursEver(rule: ParsedRule, start: WallTime): boolean {
  const first = Date.UTC(start.y, start.m - 1, start.d);
  const n = rule.interval;
  const yearlyScope = rule.freq === 'YEARLY' && rule.months.length === 0;
  const anyDay = (from: number, days: number) => {
    for (let i = 0; i < days; i++) if (dayMatches(rule, from + i * DAY_MS, yearlyScope)) return true;
    return false;
  };
  switch (rule.freq) {
    case 'DAILY': {
      const periods = 146_097 / gcd(n, 146_097);
      for (let k = 0; k < periods; k++) if (dayMatches(rule, first + k * n * DAY_MS, false)) return true;
      return false;
    }
    case 'WEEKLY': {
      // rrule's weekly periods are whole weeks from WKST, starting with the one holding the start.
      const weekday = (new Date(first).getUTCDay() + 6) % 7;
      const week = first - ((weekday - rule.weekStart + 7) % 7) * DAY_MS;
      const periods = 20_871 / gcd(n, 20_871);
      for (let k = 0; k < periods; k++) if (anyDay(week + k * n * 7 * DAY_MS, 7)) return true;
      return false;
    }
    case 'MONTHLY': {
      const periods = 4_800 / gcd(n, 4_800);
      for (let k = 0; k < periods; k++) {
        const monthStart = Date.UTC(start.y, start.m - 1 + k * n, 1);
        const date = new Date(monthStart);
        if (anyDay(monthStart, monthLength(date.getUTCFullYear(), date.getUTCMonth() + 1))) return true;
      }
      return false;
    }
    case 'YEARLY': {
      const periods = 400 / gcd(n, 400);
      for (let k = 0; k < periods; k++) {
        const year = start.y + k * n;
        if (anyDay(Date.UTC(year, 0, 1), isLeap(year) ? 366 : 365)) return true;
      }
      return false;
    }
  }
}

/**
 * The rule's UNTIL as a wall time read as UTC ("floating"), or null when malformed. RFC 5545
 * §3.3.10 has UNTIL in UTC (with Z) when the start carries a zone; a local date-time is taken as
 * wall time, and a bare date as the end of that day.
 */
export function untilToFloating(value: string, timeZone: string): number | null {
  const match = UNTIL_VALUE.exec(value);
  if (!match) return null;
  const [y, m, d, h, mi, s] = match
    .slice(1, 7)
    .map((part) => (part === undefined ? undefined : Number(part)));
  if (y === undefined || m === undefined || d === undefined) return null;
  const date = Date.UTC(y, m - 1, d);
  const check = new Date(date);
  if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return null;
  if (h === undefined || mi === undefined || s === undefined) return date + DAY_MS - 1000;
  if (h > 23 || mi > 59 || s > 59) return null;
  const floating = date + ((h * 60 + mi) * 60 + s) * 1000;
  if (match[7] !== 'Z') return floating;
  // An instant: shown as the zone's wall time, so it compares with occurrences expanded as wall time.
  return wallToFloating(instantToWallTime(floating, timeZone));
}
