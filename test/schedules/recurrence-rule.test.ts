import fc from 'fast-check';
import rrulePkg from 'rrule';
import { describe, expect, it } from 'vitest';
import { recurrenceProblem, recurrenceSyntaxProblem } from '../../services/schedules/recurrence-rule.js';
import { parseWallTime, type WallTime } from '../../services/schedules/wall-time.js';

const { RRule } = rrulePkg;
const wall = (text: string): WallTime => parseWallTime(text) ?? { y: 0, m: 0, d: 0, h: 0, mi: 0, s: 0 };
const start = wall('2026-12-01T06:00');

/**
 * Whether rrule itself ever yields the rule, asked so that it cannot search for long: the
 * calendar repeats every 400 years (and the interval's phase with it), so moving the start by
 * whole 400-year cycles to just before rrule's year 9999 limit leaves the answer unchanged while
 * bounding rrule's search to a few centuries.
 */
function rruleEverOccurs(rule: string, from: WallTime): boolean {
  const year = from.y + 400 * Math.floor((9_300 - from.y) / 400);
  const dtstart = new Date(Date.UTC(year, from.m - 1, from.d, from.h, from.mi, from.s));
  const options = { ...RRule.parseString(rule), dtstart };
  return new RRule(options, true).all((_date, index) => index < 1).length > 0;
}

describe('recurrence rules', () => {
  it('accepts the rules bulletins use', () => {
    for (const rule of [
      'FREQ=DAILY',
      'RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
      'FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20271231',
      'FREQ=MONTHLY;BYDAY=-1FR;COUNT=12',
      'freq=weekly;interval=2;byday=sa',
      'FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=2',
    ]) {
      expect(recurrenceProblem(rule, start), rule).toBeNull();
    }
  });

  it('names what is wrong with a rule', () => {
    expect(recurrenceSyntaxProblem('FREQ=MINUTELY')).toMatch(/not supported/);
    expect(recurrenceSyntaxProblem('FREQ=DAILY;DTSTART=20261201T060000')).toMatch(/DTSTART is not allowed/);
    expect(recurrenceSyntaxProblem('FREQ=DAILY;COUNT=3;UNTIL=20270101')).toMatch(/COUNT and UNTIL/);
    expect(recurrenceSyntaxProblem('FREQ=WEEKLY;BYDAY=XX')).toMatch(/BYDAY/);
    expect(recurrenceSyntaxProblem('FREQ=WEEKLY;BYDAY=1MO')).toMatch(/only with FREQ=MONTHLY or YEARLY/);
    expect(recurrenceSyntaxProblem('FREQ=WEEKLY;BYMONTHDAY=1')).toMatch(/BYMONTHDAY cannot be used/);
    expect(recurrenceSyntaxProblem('FREQ=DAILY;BYHOUR=6')).toMatch(/BYHOUR is not supported/);
    expect(recurrenceSyntaxProblem('FREQ=DAILY;UNTIL=20270230')).toMatch(/UNTIL/);
    expect(recurrenceSyntaxProblem('BYDAY=MO')).toMatch(/FREQ is required/);
    expect(recurrenceSyntaxProblem('every day')).toMatch(/KEY=VALUE/);
  });

  it('refuses, quickly, a rule that can never occur', () => {
    const began = performance.now();
    expect(recurrenceProblem('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', start)).toMatch(/never occurs/);
    expect(recurrenceProblem('FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31', start)).toMatch(/never occurs/);
    // Every fourth year from 2027 is never a leap year, so never has a 29 February.
    const rule = 'FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29';
    expect(recurrenceProblem(rule, wall('2027-01-01T06:00'))).toMatch(/never occurs/);
    expect(recurrenceProblem(rule, wall('2028-01-01T06:00'))).toBeNull();
    expect(performance.now() - began).toBeLessThan(2_000);
  });

  it('agrees with rrule on whether a rule ever occurs', () => {
    const list = <T>(values: readonly T[]) => fc.subarray([...values], { maxLength: 3 });
    const ruleArb = fc
      .record({
        freq: fc.constantFrom('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
        interval: fc.integer({ min: 1, max: 6 }),
        months: list([2, 4, 9, 11, 12]),
        monthdays: list([1, 15, 28, 29, 30, 31, -1, -30, -31]),
        weekdays: list(['MO', 'WE', 'FR', 'SU']),
        nth: list(['1MO', '-1FR', '5TU', '4SU']),
        start: fc.constantFrom('2026-12-01T06:00', '2027-01-31T07:00', '2028-02-29T05:30'),
      })
      .map(({ freq, interval, months, monthdays, weekdays, nth, start: s }) => {
        const parts = [`FREQ=${freq}`, `INTERVAL=${interval}`];
        if (months.length) parts.push(`BYMONTH=${months.join(',')}`);
        if (monthdays.length && freq !== 'WEEKLY') parts.push(`BYMONTHDAY=${monthdays.join(',')}`);
        const byday = freq === 'MONTHLY' || freq === 'YEARLY' ? (nth.length ? nth : weekdays) : weekdays;
        if (byday.length) parts.push(`BYDAY=${byday.join(',')}`);
        return { rule: parts.join(';'), start: wall(s) };
      });
    fc.assert(
      fc.property(ruleArb, ({ rule, start: from }) => {
        expect(recurrenceSyntaxProblem(rule), rule).toBeNull();
        expect(recurrenceProblem(rule, from) === null, rule).toBe(rruleEverOccurs(rule, from));
      }),
      { seed: 20_261_201, numRuns: 60 },
    );
  }, 60_000);
});
