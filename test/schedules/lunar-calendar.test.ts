import { describe, expect, it } from 'vitest';
import {
  LUNAR_PRESETS,
  type LunarRule,
  leapMonthOf,
  lunarMonthLength,
  lunarRuleDates,
  lunarRuleSchema,
  lunarToSolar,
  type SolarDate,
  solarToLunar,
} from '../../services/schedules/lunar-calendar.js';
import { TET_2031, VIETNAM_LUNAR_YEARS } from './lunar-table.js';

const DAY_MS = 86_400_000;
const iso = (date: SolarDate | null) =>
  date && `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
const parts = (text: string) => text.split('-').map(Number) as [number, number, number];
const addDays = (text: string, days: number) =>
  new Date(Date.parse(`${text}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS);
function* days(from: string, to: string) {
  for (let day = from; day <= to; day = addDays(day, 1)) yield day;
}

/** The table's months, labelled: the leap month follows the regular month it repeats. */
const TABLE_MONTHS = VIETNAM_LUNAR_YEARS.flatMap(({ year, leapMonth, starts }, row) => {
  const nextTet = VIETNAM_LUNAR_YEARS[row + 1]?.starts[0] ?? TET_2031;
  let month = 0;
  return starts.map((start, i) => {
    const leap = i === leapMonth;
    if (!leap) month += 1;
    const end = starts[i + 1] ?? nextTet;
    return { year, month, leap, start, length: daysBetween(start, end) };
  });
});

describe('the Vietnamese lunar calendar against Hồ Ngọc Đức’s table', () => {
  it('puts Tết 2024–2030 on the days Vietnam celebrates it', () => {
    const tet = [2024, 2025, 2026, 2027, 2028, 2029, 2030].map((year) =>
      iso(lunarToSolar(year, 1, 1, false)),
    );
    // 2030 is one of the years Vietnam's Tết comes a day before China's (3 February).
    expect(tet).toEqual([
      '2024-02-10',
      '2025-01-29',
      '2026-02-17',
      '2027-02-06',
      '2028-01-26',
      '2029-02-13',
      '2030-02-02',
    ]);
  });

  it('starts every month of lunar years 2023–2030 on the table’s day, with the table’s length', () => {
    expect(TABLE_MONTHS).toHaveLength(99);
    for (const { year, month, leap, start, length } of TABLE_MONTHS) {
      const label = `${month}${leap ? ' nhuận' : ''}/${year}`;
      expect(iso(lunarToSolar(year, month, 1, leap)), label).toBe(start);
      expect(lunarMonthLength(year, month, leap), label).toBe(length);
    }
  });

  it('puts every rằm on the fifteenth day of the table’s months', () => {
    for (const { year, month, leap, start } of TABLE_MONTHS) {
      expect(iso(lunarToSolar(year, month, 15, leap)), `rằm ${month}/${year}`).toBe(addDays(start, 14));
    }
  });

  it('gives every day of 2024–2030 the lunar date the table gives it', () => {
    let checked = 0;
    for (const day of days('2024-01-01', '2030-12-31')) {
      const month = TABLE_MONTHS.findLast((m) => m.start <= day);
      if (!month) throw new Error(`the table does not reach back to ${day}`);
      const expected = { year: month.year, month: month.month, day: daysBetween(month.start, day) + 1 };
      expect(solarToLunar(...parts(day)), day).toEqual({ ...expected, leap: month.leap });
      checked += 1;
    }
    expect(checked).toBe(2557);
  });

  it('has the table’s leap months: 2 in 2023, 6 in 2025, 5 in 2028 and none in the other years', () => {
    for (const { year, leapMonth } of VIETNAM_LUNAR_YEARS)
      expect(leapMonthOf(year), `${year}`).toBe(leapMonth);
  });

  it('places the rare leap months a former State calendar official cites: 11 in 2033, 1 in 2148', () => {
    // Trần Tiến Bình, "Is January never a leap month?" (baohaiduong.vn, 3 February 2025, after VTC
    // News): 2033 has two eleventh months; 2148 has two first days of month 1, 21 January and 20 February.
    expect(leapMonthOf(2033)).toBe(11);
    expect(iso(lunarToSolar(2148, 1, 1, false))).toBe('2148-01-21');
    expect(iso(lunarToSolar(2148, 1, 1, true))).toBe('2148-02-20');
  });

  it('answers null for lunar dates that year does not have', () => {
    expect(lunarMonthLength(2024, 1, false)).toBe(29);
    expect(lunarToSolar(2024, 1, 30, false)).toBeNull();
    expect(lunarToSolar(2024, 6, 1, true)).toBeNull();
    expect(lunarMonthLength(2025, 5, true)).toBeNull();
    expect(iso(lunarToSolar(2025, 6, 29, true))).toBe('2025-08-22');
    expect(lunarToSolar(2025, 6, 30, true)).toBeNull();
  });

  it('rejects what is no date at all', () => {
    expect(() => lunarToSolar(2025, 13, 1, false)).toThrow(RangeError);
    expect(() => lunarToSolar(2025, 1, 31, false)).toThrow(RangeError);
    expect(() => solarToLunar(2025, 2, 29)).toThrow(RangeError);
    expect(() => lunarRuleDates({ kind: 'monthly', day: 1 }, '2025-1-1', '2025-12-31')).toThrow(RangeError);
  });
});

describe('Vietnam (UTC+7) against China (UTC+8)', () => {
  // python-holidays, holidays/calendars/chinese.py (github.com/vacanza/holidays):
  // LUNAR_NEW_YEAR_DATES (China) and VIETNAMESE_CALENDAR_LUNAR_NEW_YEAR_DATES; 1985 and 2007 are
  // also the examples, and the table above agrees for the Vietnamese side.
  const tetDiffers: [year: number, vietnam: string, china: string][] = [
    [1968, '1968-01-29', '1968-01-30'],
    [1969, '1969-02-16', '1969-02-17'],
    [1985, '1985-01-21', '1985-02-20'],
    [2007, '2007-02-17', '2007-02-18'],
    [2030, '2030-02-02', '2030-02-03'],
    [2053, '2053-02-18', '2053-02-19'],
  ];
  it.each(tetDiffers)('puts Tết %i on %s in Vietnam and %s in China', (year, vietnam, china) => {
    expect(iso(lunarToSolar(year, 1, 1, false, 7))).toBe(vietnam);
    expect(iso(lunarToSolar(year, 1, 1, false, 8))).toBe(china);
  });

  it('intercalates different months where a new moon or term falls between their midnights', () => {
    // 1985: Vietnam repeats month 2, China had repeated month 10 of 1984 (hence Tết a month apart);
    // 1987: Vietnam repeats month 7, China month 6.
    expect([leapMonthOf(1984, 7), leapMonthOf(1985, 7), leapMonthOf(1987, 7)]).toEqual([null, 2, 7]);
    expect([leapMonthOf(1984, 8), leapMonthOf(1985, 8), leapMonthOf(1987, 8)]).toEqual([10, null, 6]);
  });

  it('keeps Giỗ Tổ Hùng Vương a day apart in the years python-holidays lists', () => {
    // HUNG_KINGS_DATES (China) against VIETNAMESE_CALENDAR_HUNG_KINGS_DATES, same file.
    const hungKings = { kind: 'yearly', month: 3, day: 10 } as const;
    for (const [year, vietnam, china] of [
      [2009, '2009-04-04', '2009-04-05'],
      [2037, '2037-04-24', '2037-04-25'],
      [2038, '2038-04-13', '2038-04-14'],
    ] as const) {
      expect(lunarRuleDates(hungKings, `${year}-01-01`, `${year}-12-31`, 7)).toEqual([vietnam]);
      expect(lunarRuleDates(hungKings, `${year}-01-01`, `${year}-12-31`, 8)).toEqual([china]);
    }
  });

  it('differs in 2024–2030 only at Tết 2030', () => {
    const differing = TABLE_MONTHS.filter(
      ({ year, month, leap }) =>
        iso(lunarToSolar(year, month, 1, leap, 7)) !== iso(lunarToSolar(year, month, 1, leap, 8)),
    );
    expect(differing.map(({ year, month }) => `${month}/${year}`)).toEqual(['1/2030']);
  });
});

describe('conversions both ways', () => {
  it('round-trips every day of 2020–2035, the lunar day advancing by one or starting a month', () => {
    let previous = solarToLunar(2019, 12, 31);
    for (const day of days('2020-01-01', '2035-12-31')) {
      const lunar = solarToLunar(...parts(day));
      expect(iso(lunarToSolar(lunar.year, lunar.month, lunar.day, lunar.leap)), day).toBe(day);
      if (lunar.day === 1) expect([29, 30], day).toContain(previous.day);
      else expect(lunar.day, day).toBe(previous.day + 1);
      previous = lunar;
    }
  });
});

describe('lunar rules', () => {
  const ram = { kind: 'monthly', day: 15 } as const;

  it('falls on rằm 13 times in 2026, a Gregorian year that holds 13 full moons', () => {
    expect(lunarRuleDates(ram, '2026-01-01', '2026-12-31')).toEqual([
      '2026-01-03',
      '2026-02-02',
      '2026-03-03',
      '2026-04-02',
      '2026-05-01',
      '2026-05-31',
      '2026-06-29',
      '2026-07-28',
      '2026-08-27',
      '2026-09-25',
      '2026-10-24',
      '2026-11-23',
      '2026-12-23',
    ]);
  });

  it('keeps rằm of the leap sixth month of 2025 unless told to skip leap months', () => {
    const withLeap = lunarRuleDates(ram, '2025-01-01', '2025-12-31');
    const withoutLeap = lunarRuleDates({ ...ram, leap: 'skip' }, '2025-01-01', '2025-12-31');
    expect(withLeap).toHaveLength(12);
    expect(withoutLeap).toHaveLength(11);
    expect(withLeap).toContain('2025-08-08');
    expect(withLeap.filter((date) => date !== '2025-08-08')).toEqual(withoutLeap);
  });

  it('falls on Giỗ Tổ Hùng Vương once a year', () => {
    const hungKings = { kind: 'yearly', month: 3, day: 10 } as const;
    expect(lunarRuleDates(hungKings, '2024-01-01', '2030-12-31')).toEqual([
      '2024-04-18',
      '2025-04-07',
      '2026-04-26',
      '2027-04-16',
      '2028-04-04',
      '2029-04-23',
      '2030-04-12',
    ]);
  });

  it('holds a yearly date in the regular month when the year repeats that month', () => {
    expect(lunarRuleDates({ kind: 'yearly', month: 6, day: 15 }, '2025-01-01', '2025-12-31')).toEqual([
      '2025-07-09',
    ]);
  });

  it('holds day 30 on the 29th of a short month, or skips it when asked', () => {
    // Month 12 of Giáp Thìn has 29 days, so Tết Ất Tỵ 2025 came without a "30 Tết".
    const giaoThua: LunarRule = { kind: 'yearly', month: 12, day: 30 };
    expect(lunarRuleDates(giaoThua, '2025-01-01', '2025-12-31')).toEqual(['2025-01-28']);
    expect(lunarRuleDates({ ...giaoThua, shortMonth: 'skip' }, '2025-01-01', '2025-12-31')).toEqual([]);

    const monthly30 = lunarRuleDates({ kind: 'monthly', day: 30 }, '2024-02-10', '2025-01-28');
    const only30 = lunarRuleDates(
      { kind: 'monthly', day: 30, shortMonth: 'skip' },
      '2024-02-10',
      '2025-01-28',
    );
    const year2024 = TABLE_MONTHS.filter((m) => m.year === 2024);
    expect(monthly30).toEqual(year2024.map((m) => addDays(m.start, m.length - 1)));
    expect(only30).toEqual(year2024.filter((m) => m.length === 30).map((m) => addDays(m.start, 29)));
  });

  it('includes both ends of the range', () => {
    expect(lunarRuleDates({ kind: 'yearly', month: 1, day: 1 }, '2026-02-17', '2026-02-17')).toEqual([
      '2026-02-17',
    ]);
    expect(lunarRuleDates({ kind: 'yearly', month: 1, day: 1 }, '2026-02-18', '2027-02-05')).toEqual([]);
  });

  it('rejects rules outside the lunar calendar', () => {
    expect(lunarRuleSchema.safeParse({ kind: 'monthly', day: 31 }).success).toBe(false);
    expect(lunarRuleSchema.safeParse({ kind: 'yearly', month: 13, day: 1 }).success).toBe(false);
    expect(lunarRuleSchema.safeParse({ kind: 'monthly', day: 15, leap: 'only' }).success).toBe(false);
  });
});

describe('presets', () => {
  it('has unique ids and valid rules', () => {
    expect(new Set(LUNAR_PRESETS.map((p) => p.id)).size).toBe(LUNAR_PRESETS.length);
    for (const preset of LUNAR_PRESETS)
      expect(lunarRuleSchema.safeParse(preset.rule).success, preset.id).toBe(true);
  });

  it('puts the festivals of 2025 on their days', () => {
    const in2025 = Object.fromEntries(
      LUNAR_PRESETS.filter((p) => p.rule.kind === 'yearly').map((p) => [
        p.id,
        lunarRuleDates(p.rule, '2025-01-01', '2025-12-31'),
      ]),
    );
    expect(in2025).toEqual({
      'tet-nguyen-dan': ['2025-01-29'],
      'ram-thang-gieng': ['2025-02-12'],
      'gio-to-hung-vuong': ['2025-04-07'],
      'tet-doan-ngo': ['2025-05-31'],
      'vu-lan': ['2025-09-06'],
      'tet-trung-thu': ['2025-10-06'],
      // 23 tháng Chạp of Giáp Thìn (January) and of Ất Tỵ (the next one falls in February 2026).
      'ong-cong-ong-tao': ['2025-01-22'],
    });
  });
});
