/**
 * A schedule's recurrence (RFC 5545 §3.3.10 RRULE) in words an operator reads at a glance:
 * "Thứ Hai – Thứ Sáu, 06:30" rather than "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR". Covers the subset the
 * platform accepts (DAILY, WEEKLY, MONTHLY, YEARLY with INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY,
 * BYMONTH, WKST); a combination it cannot say plainly is left as the rule itself.
 */

export type RuleLanguage = 'vi' | 'en';

export interface RuleText {
  text: string;
  /** false when `text` is the raw rule, because no wording fits it. */
  worded: boolean;
}

const WEEKDAY_CODES = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
const BYDAY_ITEM = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/;
const UNTIL_VALUE = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/;
const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/;
const KNOWN_KEYS = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'WKST']);

interface Words {
  weekdays: readonly string[];
  daily: string;
  everyNDays: (n: number) => string;
  everyNWeeks: (n: number, days: string) => string;
  monthly: (n: number, what: string) => string;
  yearly: (n: number, what: string) => string;
  monthDays: (days: number[]) => string;
  lastDay: string;
  nthWeekday: (n: number, weekday: string) => string | null;
  date: (day: number, month: number) => string;
  once: (date: string) => string;
  count: (n: number) => string;
  until: (date: string) => string;
}

const ORDINALS_EN = ['first', 'second', 'third', 'fourth', 'fifth'];

const WORDS: Record<RuleLanguage, Words> = {
  vi: {
    weekdays: ['Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy', 'Chủ Nhật'],
    daily: 'Hằng ngày',
    everyNDays: (n) => `${n} ngày một lần`,
    everyNWeeks: (n, days) => `${n} tuần một lần vào ${days}`,
    monthly: (n, what) => (n === 1 ? `Hằng tháng vào ${what}` : `${n} tháng một lần vào ${what}`),
    yearly: (n, what) => (n === 1 ? `Hằng năm vào ${what}` : `${n} năm một lần vào ${what}`),
    monthDays: (days) => `ngày ${days.join(', ')}`,
    lastDay: 'ngày cuối tháng',
    nthWeekday: (n, weekday) =>
      n === 1
        ? `${weekday} đầu tiên`
        : n === -1
          ? `${weekday} cuối cùng`
          : n > 1
            ? `${weekday} thứ ${n}`
            : null,
    date: (day, month) => `ngày ${pad(day)}/${pad(month)}`,
    once: (date) => `Một lần, ${date}`,
    count: (n) => `${n} lần`,
    until: (date) => `đến ${date}`,
  },
  en: {
    weekdays: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
    daily: 'Every day',
    everyNDays: (n) => `Every ${n} days`,
    everyNWeeks: (n, days) => `Every ${n} weeks on ${days}`,
    monthly: (n, what) => (n === 1 ? `Monthly on ${what}` : `Every ${n} months on ${what}`),
    yearly: (n, what) => (n === 1 ? `Yearly on ${what}` : `Every ${n} years on ${what}`),
    monthDays: (days) => (days.length === 1 ? `day ${days[0]}` : `days ${days.join(', ')}`),
    lastDay: 'the last day',
    nthWeekday: (n, weekday) => {
      if (n === -1) return `the last ${weekday}`;
      const ordinal = ORDINALS_EN[n - 1];
      return ordinal ? `the ${ordinal} ${weekday}` : null;
    },
    date: (day, month) => `${pad(day)}/${pad(month)}`,
    once: (date) => `Once, ${date}`,
    count: (n) => (n === 1 ? 'once' : `${n} times`),
    until: (date) => `until ${date}`,
  },
};

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function dateText(year: number, month: number, day: number): string {
  return `${pad(day)}/${pad(month)}/${year}`;
}

/** Weekdays (0 = Monday) as names, with runs of three or more days as a range "Thứ Hai – Thứ Sáu". */
export function weekdayList(days: readonly number[], names: readonly string[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    const first = names[sorted[i] as number] ?? '';
    const last = names[sorted[j] as number] ?? '';
    if (j - i >= 2) parts.push(`${first} – ${last}`);
    else for (let k = i; k <= j; k++) parts.push(names[sorted[k] as number] ?? '');
    i = j + 1;
  }
  return parts.join(', ');
}

/** The date an UNTIL value ends on, in the schedule's zone (UTC values are moved into it). */
function untilDate(value: string, timeZone: string): string | null {
  const match = UNTIL_VALUE.exec(value);
  if (!match) return null;
  const [, y, m, d, hh, mm, ss, utc] = match;
  if (!utc) return dateText(Number(y), Number(m), Number(d));
  const instant = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d), Number(hh), Number(mm), Number(ss)));
  try {
    const parts = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).formatToParts(instant);
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return dateText(get('year'), get('month'), get('day'));
  } catch {
    // An unknown zone name: the UTC date is still a truthful end.
    return dateText(Number(y), Number(m), Number(d));
  }
}

function integers(value: string | undefined): number[] | null {
  if (value === undefined) return [];
  const items = value.split(',');
  if (!items.every((item) => /^[+-]?\d+$/.test(item))) return null;
  return items.map(Number);
}

/**
 * Words for a schedule's recurrence and time of day. `start` is the schedule's wall time
 * (YYYY-MM-DDTHH:mm[:ss]) in `timeZone`; its time is the time of every occurrence.
 */
export function describeRecurrence(
  rule: string | null,
  start: string,
  options: { language: RuleLanguage; timeZone: string },
): RuleText {
  const words = WORDS[options.language];
  const raw = { text: rule ?? '', worded: false };
  const wall = WALL_TIME.exec(start);
  if (!wall) return raw;
  const [, sy, sm, sd, hh, mi, ss] = wall;
  const time = ss && ss !== '00' ? `${hh}:${mi}:${ss}` : `${hh}:${mi}`;
  const startYear = Number(sy);
  const startMonth = Number(sm);
  const startDay = Number(sd);
  if (rule === null || rule.trim() === '') {
    return { text: words.once(`${dateText(startYear, startMonth, startDay)} ${time}`), worded: true };
  }

  const parts = new Map<string, string>();
  for (const part of rule
    .trim()
    .replace(/^RRULE:/i, '')
    .toUpperCase()
    .split(';')) {
    const [key, value, extra] = part.split('=');
    if (!key || !value || extra !== undefined || !KNOWN_KEYS.has(key) || parts.has(key)) return raw;
    parts.set(key, value);
  }
  const freq = parts.get('FREQ');
  const interval = parts.has('INTERVAL') ? Number(parts.get('INTERVAL')) : 1;
  if (!Number.isInteger(interval) || interval < 1) return raw;
  const months = integers(parts.get('BYMONTH'));
  const monthDays = integers(parts.get('BYMONTHDAY'));
  if (!months || !monthDays) return raw;
  const plainDays: number[] = [];
  const nthDays: [number, number][] = [];
  for (const item of parts.has('BYDAY') ? (parts.get('BYDAY') ?? '').split(',') : []) {
    const match = BYDAY_ITEM.exec(item);
    if (!match) return raw;
    const weekday = WEEKDAY_CODES.indexOf(match[2] as (typeof WEEKDAY_CODES)[number]);
    if (match[1] === undefined) plainDays.push(weekday);
    else nthDays.push([weekday, Number(match[1])]);
  }
  // The weekday of the start date, 0 = Monday.
  const startWeekday = (new Date(Date.UTC(startYear, startMonth - 1, startDay)).getUTCDay() + 6) % 7;

  let when: string | null = null;
  switch (freq) {
    case 'DAILY':
      if (months.length > 0 || monthDays.length > 0 || nthDays.length > 0) break;
      if (plainDays.length > 0) {
        if (interval !== 1) break;
        when = plainDays.length === 7 ? words.daily : weekdayList(plainDays, words.weekdays);
      } else when = interval === 1 ? words.daily : words.everyNDays(interval);
      break;
    case 'WEEKLY': {
      if (months.length > 0 || monthDays.length > 0 || nthDays.length > 0) break;
      const days = plainDays.length > 0 ? plainDays : [startWeekday];
      const list = weekdayList(days, words.weekdays);
      if (interval === 1) when = new Set(days).size === 7 ? words.daily : list;
      else when = words.everyNWeeks(interval, list);
      break;
    }
    case 'MONTHLY': {
      if (months.length > 0 || plainDays.length > 0) break;
      if (nthDays.length > 0 && monthDays.length > 0) break;
      let what: string | null;
      if (nthDays.length > 0) {
        const named = nthDays.map(([weekday, n]) => words.nthWeekday(n, words.weekdays[weekday] ?? ''));
        what = named.every((w) => w !== null) ? named.join(', ') : null;
      } else if (monthDays.length === 1 && monthDays[0] === -1) what = words.lastDay;
      else if (monthDays.some((d) => d < 1)) what = null;
      else what = words.monthDays(monthDays.length > 0 ? [...monthDays].sort((a, b) => a - b) : [startDay]);
      if (what) when = words.monthly(interval, what);
      break;
    }
    case 'YEARLY': {
      if (plainDays.length > 0 || nthDays.length > 0 || months.length > 1 || monthDays.length > 1) break;
      const day = monthDays[0] ?? startDay;
      if (day < 1) break;
      when = words.yearly(interval, words.date(day, months[0] ?? startMonth));
      break;
    }
  }
  if (when === null) return raw;

  const tail: string[] = [];
  const count = parts.get('COUNT');
  if (count !== undefined) {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1) return raw;
    tail.push(words.count(n));
  }
  const until = parts.get('UNTIL');
  if (until !== undefined) {
    const date = untilDate(until, options.timeZone);
    if (!date) return raw;
    tail.push(words.until(date));
  }
  return { text: [when, time, ...tail].join(', '), worded: true };
}
