import fc from 'fast-check';
import rrulePkg from 'rrule';
import { describe, expect, it } from 'vitest';
import { recurrenceProblem } from '../../services/schedules/recurrence-rule.js';
import {
  type ExpandableSchedule,
  expandOccurrences,
  MAX_OCCURRENCES,
  nextOccurrence,
} from '../../services/schedules/schedule-expansion.js';
import { parseWallTime, wallTimeToInstant, wallToFloating } from '../../services/schedules/wall-time.js';

const { RRule } = rrulePkg;

const HCM = 'Asia/Ho_Chi_Minh';
const at = (text: string) => Date.parse(text);
const isoList = (list: { start: number }[]) => list.map((o) => new Date(o.start).toISOString());
const schedule = (overrides: Partial<ExpandableSchedule>): ExpandableSchedule => ({
  startsLocal: '2026-12-01T06:00:00',
  timezone: HCM,
  rrule: null,
  exdates: [],
  durationS: 600,
  ...overrides,
});

describe('expandOccurrences', () => {
  it('a weekday 06:00 recurring bulletin expands correctly over a month, exceptions included', () => {
    const bulletin = schedule({
      rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
      exdates: ['2026-12-25T06:00', '2026-12-31T06:00:00'],
    });
    // December 2026 in Hanoi time: 1 December 00:00 +07:00 to 1 January 00:00 +07:00.
    const found = expandOccurrences(bulletin, at('2026-11-30T17:00:00Z'), at('2026-12-31T17:00:00Z'));
    // 06:00 at +07:00 is 23:00 UTC the day before; 1 December 2026 is a Tuesday.
    expect(isoList(found)).toEqual([
      '2026-11-30T23:00:00.000Z',
      '2026-12-01T23:00:00.000Z',
      '2026-12-02T23:00:00.000Z',
      '2026-12-03T23:00:00.000Z',
      '2026-12-06T23:00:00.000Z',
      '2026-12-07T23:00:00.000Z',
      '2026-12-08T23:00:00.000Z',
      '2026-12-09T23:00:00.000Z',
      '2026-12-10T23:00:00.000Z',
      '2026-12-13T23:00:00.000Z',
      '2026-12-14T23:00:00.000Z',
      '2026-12-15T23:00:00.000Z',
      '2026-12-16T23:00:00.000Z',
      '2026-12-17T23:00:00.000Z',
      '2026-12-20T23:00:00.000Z',
      '2026-12-21T23:00:00.000Z',
      '2026-12-22T23:00:00.000Z',
      '2026-12-23T23:00:00.000Z',
      // 25 December (Friday) is excepted.
      '2026-12-27T23:00:00.000Z',
      '2026-12-28T23:00:00.000Z',
      '2026-12-29T23:00:00.000Z',
      // 31 December (Thursday) is excepted.
    ]);
    expect(found).toHaveLength(21);
    for (const o of found) expect(o.end - o.start).toBe(600_000);
  });

  it('stops a daily rule after COUNT occurrences, counting from the start even in a later window', () => {
    const daily = schedule({ startsLocal: '2026-12-01T18:30:00', rrule: 'FREQ=DAILY;COUNT=5' });
    const all = expandOccurrences(daily, at('2026-11-01T00:00:00Z'), at('2027-12-31T00:00:00Z'));
    expect(isoList(all)).toEqual([
      '2026-12-01T11:30:00.000Z',
      '2026-12-02T11:30:00.000Z',
      '2026-12-03T11:30:00.000Z',
      '2026-12-04T11:30:00.000Z',
      '2026-12-05T11:30:00.000Z',
    ]);
    const later = expandOccurrences(daily, at('2026-12-03T00:00:00Z'), at('2026-12-31T00:00:00Z'));
    expect(later).toHaveLength(3);
  });

  it('ends a monthly BYMONTHDAY=1 rule at UNTIL: a bare date includes that day, a UTC time is exact', () => {
    const window = [at('2026-11-01T00:00:00Z'), at('2028-01-01T00:00:00Z')] as const;
    const throughApril = schedule({
      startsLocal: '2026-12-01T07:30',
      rrule: 'FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20270401',
    });
    expect(isoList(expandOccurrences(throughApril, ...window))).toEqual([
      '2026-12-01T00:30:00.000Z',
      '2027-01-01T00:30:00.000Z',
      '2027-02-01T00:30:00.000Z',
      '2027-03-01T00:30:00.000Z',
      '2027-04-01T00:30:00.000Z',
    ]);
    // 1 March 07:30 in Hanoi is 00:30 UTC, after an UNTIL of 00:00 UTC.
    const beforeMarch = schedule({
      startsLocal: '2026-12-01T07:30',
      rrule: 'FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20270301T000000Z',
    });
    expect(expandOccurrences(beforeMarch, ...window)).toHaveLength(3);
  });

  it('plays on the given weekdays only', () => {
    const mwf = schedule({ startsLocal: '2026-12-07T17:00', rrule: 'FREQ=WEEKLY;BYDAY=MO,WE,FR' });
    const found = expandOccurrences(mwf, at('2026-12-06T17:00:00Z'), at('2026-12-20T17:00:00Z'));
    expect(isoList(found)).toEqual([
      '2026-12-07T10:00:00.000Z',
      '2026-12-09T10:00:00.000Z',
      '2026-12-11T10:00:00.000Z',
      '2026-12-14T10:00:00.000Z',
      '2026-12-16T10:00:00.000Z',
      '2026-12-18T10:00:00.000Z',
    ]);
  });

  it('returns a one-off inside the window and nothing outside it', () => {
    const once = schedule({ startsLocal: '2026-12-12T08:15:00', durationS: 900 });
    expect(expandOccurrences(once, at('2026-12-12T00:00:00Z'), at('2026-12-13T00:00:00Z'))).toEqual([
      { start: at('2026-12-12T01:15:00Z'), end: at('2026-12-12T01:30:00Z') },
    ]);
    expect(expandOccurrences(once, at('2026-12-13T00:00:00Z'), at('2026-12-14T00:00:00Z'))).toEqual([]);
  });

  it('includes an occurrence that began before the window and is still running, not one that just ended', () => {
    const daily = schedule({ startsLocal: '2026-12-01T06:00', rrule: 'FREQ=DAILY', durationS: 1_800 });
    // 06:10 local on 3 December: the 06:00 play runs until 06:30.
    const running = expandOccurrences(daily, at('2026-12-02T23:10:00Z'), at('2026-12-03T00:00:00Z'));
    expect(isoList(running)).toEqual(['2026-12-02T23:00:00.000Z']);
    const ended = expandOccurrences(daily, at('2026-12-02T23:30:00Z'), at('2026-12-03T00:00:00Z'));
    expect(ended).toEqual([]);
  });

  it('keeps 06:00 wall time across the March daylight-saving change in Europe/Berlin', () => {
    const berlin = schedule({
      startsLocal: '2026-03-27T06:00',
      timezone: 'Europe/Berlin',
      rrule: 'FREQ=DAILY',
    });
    const found = expandOccurrences(berlin, at('2026-03-26T00:00:00Z'), at('2026-03-31T00:00:00Z'));
    // Clocks go forward on Sunday 29 March 2026: +01:00 before, +02:00 after.
    expect(isoList(found)).toEqual([
      '2026-03-27T05:00:00.000Z',
      '2026-03-28T05:00:00.000Z',
      '2026-03-29T04:00:00.000Z',
      '2026-03-30T04:00:00.000Z',
    ]);
  });

  it('caps a runaway rule at MAX_OCCURRENCES', () => {
    // Validation refuses MINUTELY; the expansion is bounded even without it.
    const minutely = schedule({ startsLocal: '2026-12-01T00:00', rrule: 'FREQ=MINUTELY', durationS: 30 });
    const found = expandOccurrences(minutely, at('2026-11-30T17:00:00Z'), at('2027-11-30T17:00:00Z'));
    expect(found).toHaveLength(MAX_OCCURRENCES);
  });

  it('finds the next occurrence, and none once a rule has ended', () => {
    const weekly = schedule({ rrule: 'FREQ=WEEKLY;BYDAY=SU;COUNT=3' });
    expect(nextOccurrence(weekly, at('2026-12-01T00:00:00Z'))?.start).toBe(at('2026-12-05T23:00:00Z'));
    expect(nextOccurrence(weekly, at('2026-12-25T00:00:00Z'))).toBeNull();
  });
  it('matches rrule walking from the very first occurrence, whatever the window', () => {
    const ruleArb = fc
      .record({
        freq: fc.constantFrom('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
        interval: fc.integer({ min: 1, max: 5 }),
        months: fc.subarray([1, 2, 6, 12], { maxLength: 2 }),
        monthdays: fc.subarray([1, 15, 29, 31, -1], { maxLength: 2 }),
        weekdays: fc.subarray(['MO', 'TH', 'SU'], { maxLength: 2 }),
        nth: fc.subarray(['1MO', '-1FR', '3WE'], { maxLength: 2 }),
        start: fc.constantFrom('2025-01-31T06:00', '2025-03-15T21:30', '2024-02-29T05:00'),
        windowDays: fc.integer({ min: 0, max: 2_500 }),
        spanDays: fc.integer({ min: 1, max: 10 }),
      })
      .map((r) => {
        const parts = [`FREQ=${r.freq}`, `INTERVAL=${r.interval}`];
        if (r.months.length) parts.push(`BYMONTH=${r.months.join(',')}`);
        if (r.monthdays.length && r.freq !== 'WEEKLY') parts.push(`BYMONTHDAY=${r.monthdays.join(',')}`);
        const byday =
          r.freq === 'MONTHLY' || r.freq === 'YEARLY' ? (r.nth.length ? r.nth : r.weekdays) : r.weekdays;
        if (byday.length) parts.push(`BYDAY=${byday.join(',')}`);
        const from = Date.parse('2025-01-01T00:00:00Z') + r.windowDays * 86_400_000;
        return { rule: parts.join(';'), start: r.start, from, to: from + r.spanDays * 86_400_000 };
      })
      .filter(
        ({ rule, start }) =>
          recurrenceProblem(rule, parseWallTime(start) ?? { y: 0, m: 0, d: 0, h: 0, mi: 0, s: 0 }) === null,
      );
    fc.assert(
      fc.property(ruleArb, ({ rule, start, from, to }) => {
        const found = expandOccurrences(
          schedule({ startsLocal: start, rrule: rule, durationS: 60 }),
          from,
          to,
        );
        // Hanoi is UTC+7 all year, so wall time is the instant plus seven hours.
        const offset = 7 * 3_600_000;
        const first = wallToFloating(parseWallTime(start) ?? { y: 0, m: 0, d: 0, h: 0, mi: 0, s: 0 });
        const reference = new RRule({ ...RRule.parseString(rule), dtstart: new Date(first) }, true)
          .between(new Date(from + offset - 60_000), new Date(to + offset), false)
          .map((d) => d.getTime() - offset)
          .filter((instant) => instant + 60_000 > from && instant < to);
        expect(
          found.map((o) => o.start),
          rule,
        ).toEqual(reference);
      }),
      { seed: 20_261_202, numRuns: 300 },
    );
  });
});

describe('wallTimeToInstant', () => {
  const wall = (text: string) => parseWallTime(text) ?? { y: 0, m: 0, d: 0, h: 0, mi: 0, s: 0 };

  it('applies a fixed offset', () => {
    expect(wallTimeToInstant(wall('2026-12-01T06:00'), HCM)).toBe(at('2026-11-30T23:00:00Z'));
    expect(wallTimeToInstant(wall('2026-12-01T06:00'), 'Asia/Kolkata')).toBe(at('2026-12-01T00:30:00Z'));
  });

  it('reads a wall time skipped by clocks going forward with the offset from before (RFC 5545 §3.3.5)', () => {
    expect(wallTimeToInstant(wall('2026-03-29T02:30'), 'Europe/Berlin')).toBe(at('2026-03-29T01:30:00Z'));
  });

  it('takes the first of a wall time repeated by clocks going back (RFC 5545 §3.3.5)', () => {
    expect(wallTimeToInstant(wall('2026-10-25T02:30'), 'Europe/Berlin')).toBe(at('2026-10-25T00:30:00Z'));
  });
});
