import { describe, expect, it } from 'vitest';
import { describeRecurrence, weekdayList } from '../../web/src/schedule-text.js';

const zone = 'Asia/Ho_Chi_Minh';
const vi = (rule: string | null, start = '2026-06-01T06:30:00') =>
  describeRecurrence(rule, start, { language: 'vi', timeZone: zone });
const en = (rule: string | null, start = '2026-06-01T06:30:00') =>
  describeRecurrence(rule, start, { language: 'en', timeZone: zone });

describe('schedule rules in words', () => {
  it('words working days as a range with the time of day', () => {
    expect(vi('FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR')).toEqual({
      text: 'Thứ Hai – Thứ Sáu, 06:30',
      worded: true,
    });
    expect(en('FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR').text).toBe('Monday – Friday, 06:30');
  });

  it('words a daily rule, and a weekly rule on all seven days, as every day', () => {
    expect(vi('FREQ=DAILY').text).toBe('Hằng ngày, 06:30');
    expect(en('FREQ=DAILY').text).toBe('Every day, 06:30');
    expect(vi('FREQ=WEEKLY;BYDAY=SU,MO,TU,WE,TH,FR,SA').text).toBe('Hằng ngày, 06:30');
  });

  it('lists separate weekdays and keeps two neighbours apart', () => {
    expect(vi('FREQ=WEEKLY;BYDAY=MO,WE').text).toBe('Thứ Hai, Thứ Tư, 06:30');
    expect(en('FREQ=WEEKLY;BYDAY=SA,SU').text).toBe('Saturday, Sunday, 06:30');
    expect(vi('FREQ=WEEKLY;BYDAY=MO,TU,WE,FR').text).toBe('Thứ Hai – Thứ Tư, Thứ Sáu, 06:30');
  });

  it('takes the weekday of the start when a weekly rule names none', () => {
    // 2026-06-03 is a Wednesday.
    expect(vi('FREQ=WEEKLY', '2026-06-03T17:00').text).toBe('Thứ Tư, 17:00');
  });

  it('words the end of a rule as a date, dd/mm/yyyy', () => {
    expect(vi('FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20261231T235959').text).toBe(
      'Thứ Hai – Thứ Sáu, 06:30, đến 31/12/2026',
    );
    expect(en('FREQ=DAILY;UNTIL=20261231').text).toBe('Every day, 06:30, until 31/12/2026');
    // 2026-12-31T20:00Z is already 1 January in Hà Nội (UTC+7).
    expect(en('FREQ=DAILY;UNTIL=20261231T200000Z').text).toBe('Every day, 06:30, until 01/01/2027');
    expect(vi('FREQ=DAILY;COUNT=10').text).toBe('Hằng ngày, 06:30, 10 lần');
    expect(en('FREQ=DAILY;COUNT=10').text).toBe('Every day, 06:30, 10 times');
  });

  it('words intervals', () => {
    expect(vi('FREQ=DAILY;INTERVAL=2').text).toBe('2 ngày một lần, 06:30');
    expect(en('FREQ=WEEKLY;INTERVAL=2;BYDAY=MO').text).toBe('Every 2 weeks on Monday, 06:30');
  });

  it('words monthly and yearly rules', () => {
    expect(vi('FREQ=MONTHLY;BYMONTHDAY=1').text).toBe('Hằng tháng vào ngày 1, 06:30');
    expect(en('FREQ=MONTHLY;BYMONTHDAY=1,15').text).toBe('Monthly on days 1, 15, 06:30');
    expect(vi('FREQ=MONTHLY;BYMONTHDAY=-1').text).toBe('Hằng tháng vào ngày cuối tháng, 06:30');
    expect(en('FREQ=MONTHLY;BYDAY=1MO').text).toBe('Monthly on the first Monday, 06:30');
    expect(vi('FREQ=MONTHLY;BYDAY=-1FR').text).toBe('Hằng tháng vào Thứ Sáu cuối cùng, 06:30');
    expect(vi('FREQ=MONTHLY').text).toBe('Hằng tháng vào ngày 1, 06:30');
    expect(vi('FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=2').text).toBe('Hằng năm vào ngày 02/09, 06:30');
    expect(en('FREQ=YEARLY', '2026-09-02T07:00').text).toBe('Yearly on 02/09, 07:00');
  });

  it('shows seconds only when a bulletin is timed to the second', () => {
    expect(vi('FREQ=DAILY', '2026-06-01T06:00:30').text).toBe('Hằng ngày, 06:00:30');
  });

  it('words a one-off with its date and time', () => {
    expect(vi(null, '2026-06-01T06:30:00').text).toBe('Một lần, 01/06/2026 06:30');
    expect(en(null, '2026-06-01T06:30:00').text).toBe('Once, 01/06/2026 06:30');
  });

  it('accepts lower case and an RRULE: prefix', () => {
    expect(vi('RRULE:freq=daily').text).toBe('Hằng ngày, 06:30');
  });

  it('falls back to the raw rule for what it cannot word', () => {
    for (const rule of [
      'FREQ=HOURLY',
      'FREQ=MONTHLY;BYDAY=MO',
      'FREQ=MONTHLY;BYDAY=-2MO',
      'FREQ=DAILY;BYMONTH=6',
      'FREQ=YEARLY;BYMONTH=6,7',
      'FREQ=DAILY;BYHOUR=6',
      'FREQ=DAILY;UNTIL=tomorrow',
      'not a rule',
    ]) {
      expect(vi(rule)).toEqual({ text: rule, worded: false });
    }
  });

  it('collapses only runs of three or more weekdays', () => {
    const names = ['1', '2', '3', '4', '5', '6', '7'];
    expect(weekdayList([0, 1, 2, 4, 5], names)).toBe('1 – 3, 5, 6');
    expect(weekdayList([6, 0], names)).toBe('1, 7');
  });
});
