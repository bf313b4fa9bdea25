import { z } from 'zod';

/**
 * The Vietnamese lunisolar calendar (âm lịch), computed astronomically for a time zone given in
 * hours east of UTC: 7 for Vietnam, which has reckoned it at UTC+7 since 1967 (the North) and 1975
 * (the South). 8 gives the Chinese calendar, the one RFC 7529 and most libraries implement; it
 * parts from Vietnam's a few times a decade, when a new moon or a principal term falls between
 * midnight in Hanoi and midnight in Beijing: Tết 2007 and 2030 a day apart, 1985 a month apart after
 * China repeated month 10 of 1984 and Vietnam month 2 of 1985.
 *
 * The rules, as Hồ Ngọc Đức states them after the Explanatory Supplement to the Astronomical
 * Almanac (https://www.informatik.uni-leipzig.de/~duc/amlich/calrules_vn.html):
 *  1. a month begins on the local day that contains the new moon (sóc);
 *  2. the December solstice always falls in month 11;
 *  3. when 13 months run from one month 11 to the next, the first of them after month 11 that holds
 *     no principal term (trung khí: the Sun at a multiple of 30° of longitude) is the leap month
 *     and takes the number of the month before it.
 * New moons come from Meeus, Astronomical Algorithms (2nd ed., 1998) ch. 49, the Sun's longitude
 * from its ch. 25 (the 0.01° method): only a new moon or a principal term within a minute or so of
 * local midnight could land on the wrong day.
 */

export interface LunarDate {
  year: number;
  month: number;
  day: number;
  leap: boolean;
}

export interface SolarDate {
  year: number;
  month: number;
  day: number;
}

export const VIETNAM_UTC_OFFSET = 7;

const DAY_MS = 86_400_000;
const UNIX_EPOCH_JDN = 2_440_588; // Julian Day Number of 1970-01-01
const J2000 = 2_451_545; // JD of 2000-01-01 12:00 TT
const SYNODIC_MONTH = 29.530588861;
const NEW_MOON_EPOCH = 2_451_550.1; // about the new moon of 2000-01-06, number 0 in Meeus' count
const RAD = Math.PI / 180;

function dayNumber(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new RangeError(`${year}-${month}-${day} is not a Gregorian date`);
  }
  return Math.round(date.getTime() / DAY_MS) + UNIX_EPOCH_JDN;
}

function solarDate(jdn: number): SolarDate {
  const date = new Date((jdn - UNIX_EPOCH_JDN) * DAY_MS);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

const isoDate = (jdn: number) => new Date((jdn - UNIX_EPOCH_JDN) * DAY_MS).toISOString().slice(0, 10);

const polynomial = (t: number, coefficients: readonly number[]) =>
  coefficients.reduceRight((sum, c) => sum * t + c, 0);

/**
 * ΔT = TT − UT in days: Espenak & Meeus' polynomials (NASA, Five Millennium Canon of Solar
 * Eclipses, 2006) for 1900–2150, their long-term parabola outside. Meeus' formulas run on TT.
 */
const DELTA_T: readonly [until: number, epoch: number, coefficients: readonly number[]][] = [
  [1920, 1900, [-2.79, 1.494119, -0.0598939, 0.0061966, -0.000197]],
  [1941, 1920, [21.2, 0.84493, -0.0761, 0.0020936]],
  [1961, 1950, [29.07, 0.407, -1 / 233, 1 / 2547]],
  [1986, 1975, [45.45, 1.067, -1 / 260, -1 / 718]],
  [2005, 2000, [63.86, 0.3345, -0.060374, 0.0017275, 0.000651814, 0.00002373599]],
  [2050, 2000, [62.92, 0.32217, 0.005589]],
];
function deltaT(jd: number): number {
  const year = 2000 + (jd - J2000) / 365.25;
  const u = (year - 1820) / 100;
  let seconds = -20 + 32 * u * u;
  if (year >= 2050 && year < 2150) seconds -= 0.5628 * (2150 - year);
  else if (year >= 1900 && year < 2050) {
    const piece = DELTA_T.find(([until]) => year < until);
    if (piece) seconds = polynomial(year - piece[1], piece[2]);
  }
  return seconds / 86_400;
}

/** Meeus table 49.A, new moon column: [coefficient, power of E, multiples of M, M′, F, Ω]. */
const NEW_MOON_TERMS: readonly (readonly [number, number, number, number, number, number])[] = [
  [-0.4072, 0, 0, 1, 0, 0],
  [0.17241, 1, 1, 0, 0, 0],
  [0.01608, 0, 0, 2, 0, 0],
  [0.01039, 0, 0, 0, 2, 0],
  [0.00739, 1, -1, 1, 0, 0],
  [-0.00514, 1, 1, 1, 0, 0],
  [0.00208, 2, 2, 0, 0, 0],
  [-0.00111, 0, 0, 1, -2, 0],
  [-0.00057, 0, 0, 1, 2, 0],
  [0.00056, 1, 1, 2, 0, 0],
  [-0.00042, 0, 0, 3, 0, 0],
  [0.00042, 1, 1, 0, 2, 0],
  [0.00038, 1, 1, 0, -2, 0],
  [-0.00024, 1, -1, 2, 0, 0],
  [-0.00017, 0, 0, 0, 0, 1],
  [-0.00007, 0, 2, 1, 0, 0],
  [0.00004, 0, 0, 2, -2, 0],
  [0.00004, 0, 3, 0, 0, 0],
  [0.00003, 0, 1, 1, -2, 0],
  [0.00003, 0, 0, 2, 2, 0],
  [-0.00003, 0, 1, 1, 2, 0],
  [0.00003, 0, -1, 1, 2, 0],
  [-0.00002, 0, -1, 1, -2, 0],
  [-0.00002, 0, 1, 3, 0, 0],
  [0.00002, 0, 0, 4, 0, 0],
];
/** Meeus' planetary arguments A1…A14 (ch. 49): [degrees at k = 0, per lunation, per T², coefficient]. */
const PLANETARY_TERMS: readonly (readonly [number, number, number, number])[] = [
  [299.77, 0.107408, -0.009173, 0.000325],
  [251.88, 0.016321, 0, 0.000165],
  [251.83, 26.651886, 0, 0.000164],
  [349.42, 36.412478, 0, 0.000126],
  [84.66, 18.206239, 0, 0.00011],
  [141.74, 53.303771, 0, 0.000062],
  [207.14, 2.453732, 0, 0.00006],
  [154.84, 7.30686, 0, 0.000056],
  [34.52, 27.261239, 0, 0.000047],
  [207.19, 0.121824, 0, 0.000042],
  [291.34, 1.844379, 0, 0.00004],
  [161.72, 24.198154, 0, 0.000037],
  [239.56, 25.513099, 0, 0.000035],
  [331.55, 3.592518, 0, 0.000023],
];

/** JD (UT) of new moon number k, k = 0 being that of 2000-01-06 (Meeus 49.1 and table 49.A). */
function newMoon(k: number): number {
  const t = k / 1236.85;
  const mean = polynomial(t, [
    2_451_550.09766 + SYNODIC_MONTH * k,
    0,
    0.00015437,
    -0.00000015,
    0.00000000073,
  ]);
  const e = polynomial(t, [1, -0.002516, -0.0000074]);
  const m = polynomial(t, [2.5534 + 29.1053567 * k, 0, -0.0000014, -0.00000011]) * RAD;
  const mPrime = polynomial(t, [201.5643 + 385.81693528 * k, 0, 0.0107582, 0.00001238, -0.000000058]) * RAD;
  const f = polynomial(t, [160.7108 + 390.67050284 * k, 0, -0.0016118, -0.00000227, 0.000000011]) * RAD;
  const omega = polynomial(t, [124.7746 - 1.56375588 * k, 0, 0.0020672, 0.00000215]) * RAD;
  let jde = mean;
  for (const [c, ePower, nM, nMPrime, nF, nOmega] of NEW_MOON_TERMS) {
    jde += c * e ** ePower * Math.sin(nM * m + nMPrime * mPrime + nF * f + nOmega * omega);
  }
  for (const [a0, perLunation, perT2, c] of PLANETARY_TERMS) {
    jde += c * Math.sin((a0 + perLunation * k + perT2 * t * t) * RAD);
  }
  return jde - deltaT(jde);
}

/** The local day (as a JDN) that holds new moon k. */
const newMoonDay = (k: number, tz: number) => Math.floor(newMoon(k) + 0.5 + tz / 24);

/** The Sun's apparent longitude in degrees at JD (UT) `jd`: Meeus ch. 25, low accuracy. */
function sunLongitude(jd: number): number {
  const t = (jd + deltaT(jd) - J2000) / 36525;
  const l0 = polynomial(t, [280.46646, 36000.76983, 0.0003032]);
  const m = polynomial(t, [357.52911, 35999.05029, -0.0001537]) * RAD;
  const center =
    polynomial(t, [1.914602, -0.004817, -0.000014]) * Math.sin(m) +
    (0.019993 - 0.000101 * t) * Math.sin(2 * m) +
    0.000289 * Math.sin(3 * m);
  const omega = (125.04 - 1934.136 * t) * RAD;
  const apparent = l0 + center - 0.00569 - 0.00478 * Math.sin(omega);
  return ((apparent % 360) + 360) % 360;
}

/** Which 30° sector of longitude the Sun is in at the local midnight that starts day `jdn`. */
const termSector = (jdn: number, tz: number) => Math.floor(sunLongitude(jdn - 0.5 - tz / 24) / 30);

/** Number (as in `newMoon`) of the new moon that begins month 11, the one holding the December solstice of `year`. */
function month11(year: number, tz: number): number {
  const k = Math.floor((dayNumber(year, 12, 31) - NEW_MOON_EPOCH) / SYNODIC_MONTH);
  // Sun already past 270° when that month begins: the solstice was in the month before.
  return termSector(newMoonDay(k, tz), tz) >= 9 ? k - 1 : k;
}

interface LunarMonth {
  year: number;
  month: number;
  leap: boolean;
  /** JDN of its first day. */
  start: number;
  length: number;
}

/** The lunar months from month 11 of Gregorian `year - 1` up to, not including, month 11 of `year`. */
function monthsBetweenSolstices(year: number, tz: number): LunarMonth[] {
  const first = month11(year - 1, tz);
  const count = month11(year, tz) - first; // 12, or 13 with a leap month
  const starts = Array.from({ length: count + 1 }, (_, i) => newMoonDay(first + i, tz));
  const sectors = starts.map((start) => termSector(start, tz));
  // Month i holds no principal term when the Sun is in the same sector at its start and at the next month's.
  const leapIndex =
    count === 13 ? sectors.findIndex((s, i) => i >= 1 && i < count && s === sectors[i + 1]) : -1;
  let month = 10;
  let newYear = false;
  return starts.slice(0, -1).map((start, i) => {
    const leap = i === leapIndex;
    if (!leap) month = (month % 12) + 1;
    if (month === 1 && !leap) newYear = true;
    return { year: newYear ? year : year - 1, month, leap, start, length: (starts[i + 1] ?? start) - start };
  });
}

/** Lunar month `month` (the leap one when `leap`) of lunar year `year`, if that year has it. */
function findLunarMonth(year: number, month: number, leap: boolean, tz: number): LunarMonth | undefined {
  if (!Number.isInteger(month) || month < 1 || month > 12) throw new RangeError(`no lunar month ${month}`);
  // Months 11 and 12 begin before the Gregorian year that ends at the next solstice's month 11.
  const months = monthsBetweenSolstices(month >= 11 ? year + 1 : year, tz);
  return months.find((m) => m.year === year && m.month === month && m.leap === leap);
}

/** The lunar date of a Gregorian date. */
export function solarToLunar(year: number, month: number, day: number, tz = VIETNAM_UTC_OFFSET): LunarDate {
  const jdn = dayNumber(year, month, day);
  const inMonth = (m: LunarMonth) => m.start <= jdn && jdn < m.start + m.length;
  // Month 11 of `year - 1` begins before 1 January, so these months reach back far enough.
  const found =
    monthsBetweenSolstices(year, tz).find(inMonth) ?? monthsBetweenSolstices(year + 1, tz).find(inMonth);
  if (!found) throw new Error(`no lunar month holds ${year}-${month}-${day}`);
  return { year: found.year, month: found.month, day: jdn - found.start + 1, leap: found.leap };
}

/** The Gregorian date of a lunar date, or null when that year has no such leap month or the month no day 30. */
export function lunarToSolar(
  year: number,
  month: number,
  day: number,
  leap: boolean,
  tz = VIETNAM_UTC_OFFSET,
): SolarDate | null {
  if (!Number.isInteger(day) || day < 1 || day > 30) throw new RangeError(`no lunar day ${day}`);
  const found = findLunarMonth(year, month, leap, tz);
  return found && day <= found.length ? solarDate(found.start + day - 1) : null;
}

/** 29 or 30 days; null when lunar year `year` has no such (leap) month. */
export function lunarMonthLength(
  year: number,
  month: number,
  leap: boolean,
  tz = VIETNAM_UTC_OFFSET,
): number | null {
  return findLunarMonth(year, month, leap, tz)?.length ?? null;
}

/** The month that lunar year `lunarYear` repeats as a leap month, or null in a 12-month year. */
export function leapMonthOf(lunarYear: number, tz = VIETNAM_UTC_OFFSET): number | null {
  const months = [...monthsBetweenSolstices(lunarYear, tz), ...monthsBetweenSolstices(lunarYear + 1, tz)];
  return months.find((m) => m.leap && m.year === lunarYear)?.month ?? null;
}

const lunarDay = z.int().min(1).max(30);
/**
 * Day 30 in a 29-day month: 'last-day' holds it on day 29, as Vietnamese practice does (in a year
 * whose twelfth month is short, tất niên and giao thừa fall on the 29th, and a giỗ on the 30th is
 * kept on the last day of the month); 'skip' drops that occurrence.
 */
const shortMonth = z.enum(['last-day', 'skip']).default('last-day');

/**
 * A recurrence on lunar dates. Monthly rules fall on day `day` of every lunar month; with `leap`
 * 'also' (the default) a leap month gets its own occurrence as well, since mùng 1 and rằm are kept in
 * a leap month like in any other, and 'skip' leaves leap months out. Yearly rules fall on day `day`
 * of month `month`; when a year repeats that month, only the regular one counts, never the leap
 * repetition, as for Tết, festivals and anniversaries.
 */
export const lunarRuleSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('monthly'),
    day: lunarDay,
    leap: z.enum(['also', 'skip']).default('also'),
    shortMonth,
  }),
  z.object({ kind: z.literal('yearly'), month: z.int().min(1).max(12), day: lunarDay, shortMonth }),
]);
export type LunarRule = z.input<typeof lunarRuleSchema>;
/** A rule with its defaults filled in, as schedules store it. */
export type ParsedLunarRule = z.output<typeof lunarRuleSchema>;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
function parseIsoDate(text: string): number {
  const match = ISO_DATE.exec(text);
  if (!match) throw new RangeError(`${text} is not yyyy-mm-dd`);
  return dayNumber(Number(match[1]), Number(match[2]), Number(match[3]));
}

/** The Gregorian dates (yyyy-mm-dd, ascending) on which `rule` falls from `from` to `to`, both included. */
export function lunarRuleDates(rule: LunarRule, from: string, to: string, tz = VIETNAM_UTC_OFFSET): string[] {
  const parsed = lunarRuleSchema.parse(rule);
  const first = parseIsoDate(from);
  const last = parseIsoDate(to);
  const dates: string[] = [];
  for (let year = Number(from.slice(0, 4)); year <= Number(to.slice(0, 4)) + 1; year++) {
    for (const m of monthsBetweenSolstices(year, tz)) {
      const wanted =
        parsed.kind === 'monthly' ? !m.leap || parsed.leap === 'also' : m.month === parsed.month && !m.leap;
      if (!wanted || (parsed.day > m.length && parsed.shortMonth === 'skip')) continue;
      const jdn = m.start + Math.min(parsed.day, m.length) - 1;
      if (jdn >= first && jdn <= last) dates.push(isoDate(jdn));
    }
  }
  return dates;
}

export interface LunarPreset {
  id: string;
  /** Vietnamese name, as the calendar shows it. */
  name: string;
  rule: LunarRule;
}

export const LUNAR_PRESETS = [
  { id: 'mung-1', name: 'Mùng 1', rule: { kind: 'monthly', day: 1 } },
  { id: 'ram', name: 'Rằm', rule: { kind: 'monthly', day: 15 } },
  { id: 'tet-nguyen-dan', name: 'Tết Nguyên Đán', rule: { kind: 'yearly', month: 1, day: 1 } },
  { id: 'ram-thang-gieng', name: 'Rằm tháng Giêng', rule: { kind: 'yearly', month: 1, day: 15 } },
  { id: 'gio-to-hung-vuong', name: 'Giỗ Tổ Hùng Vương', rule: { kind: 'yearly', month: 3, day: 10 } },
  { id: 'tet-doan-ngo', name: 'Tết Đoan Ngọ', rule: { kind: 'yearly', month: 5, day: 5 } },
  { id: 'vu-lan', name: 'Vu Lan (Rằm tháng Bảy)', rule: { kind: 'yearly', month: 7, day: 15 } },
  { id: 'tet-trung-thu', name: 'Tết Trung Thu', rule: { kind: 'yearly', month: 8, day: 15 } },
  { id: 'ong-cong-ong-tao', name: 'Ông Công Ông Táo', rule: { kind: 'yearly', month: 12, day: 23 } },
] as const satisfies readonly LunarPreset[];
