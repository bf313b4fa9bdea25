import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { VIETNAM_LUNAR_YEARS } from './lunar-table.js';

/** Every rằm (day 15 of a lunar month) in a Gregorian year, from the published table. */
function ramOf(year: number): string[] {
  return VIETNAM_LUNAR_YEARS.flatMap((row) => row.starts)
    .map((start) => {
      const date = new Date(`${start}T00:00:00Z`);
      date.setUTCDate(date.getUTCDate() + 14);
      return date.toISOString().slice(0, 10);
    })
    .filter((date) => date.startsWith(`${year}-`));
}

/** A 10-minute relay on every rằm at the time of `start`, to one cluster. */
const ramSchedule = (clusterId: string, start: string) => ({
  name: 'Loa rằm',
  level: 'normal',
  content: { kind: 'stream', url: 'http://radio.example/ram' },
  durationS: 600,
  start,
  lunar: { kind: 'monthly', day: 15 },
  targets: { clusterIds: [clusterId] },
});

/*
 * Announcements on the lunar calendar (mùng 1, rằm, festivals), which RRULE cannot say: the
 * platform expands them for UTC+7 and dispatches them like any schedule.
 */
describe('schedules on lunar dates', () => {
  let t: TestPlatform;
  let device: MqttClient | undefined;
  afterEach(async () => {
    await device?.endAsync();
    await t?.close();
  });

  it('puts a monthly rằm schedule on every rằm of the published table, with both dates in the calendar', async () => {
    t = await startTestPlatform();
    await t.addDevice('hd-l1');
    const created = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: ramSchedule('hd-l1', '2026-01-01T07:00'),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.schedule.lunar).toEqual({
      kind: 'monthly',
      day: 15,
      leap: 'also',
      shortMonth: 'last-day',
    });
    // The calendar answers up to 93 days at a time: the year in quarters.
    const items: { start: string; lunarDate: { day: number } }[] = [];
    for (const [from, to] of [
      ['2026-01-01', '2026-04-01'],
      ['2026-04-01', '2026-07-01'],
      ['2026-07-01', '2026-10-01'],
      ['2026-10-01', '2027-01-01'],
    ]) {
      const calendar = await t.api(
        `/api/v1/schedules/occurrences?from=${from}T00:00:00%2B07:00&to=${to}T00:00:00%2B07:00`,
        { as: 'operator' },
      );
      expect(calendar.status, JSON.stringify(calendar.body)).toBe(200);
      items.push(...calendar.body.items);
    }
    // 07:00 in Hà Nội is 00:00 UTC: the UTC date is the local one.
    expect(items.map((o) => o.start.slice(0, 10))).toEqual(ramOf(2026));
    expect(items.every((o) => o.start.endsWith('T00:00:00.000Z') && o.lunarDate.day === 15)).toBe(true);

    const both = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Hai luật',
        level: 'normal',
        content: { kind: 'stream', url: 'http://radio.example/ram' },
        durationS: 600,
        start: '2026-01-01T07:00',
        rrule: 'FREQ=DAILY',
        lunar: { kind: 'monthly', day: 1 },
        targets: { clusterIds: ['hd-l1'] },
      },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/^body\.lunar: /);
  });

  it('dispatches a rằm schedule on the Gregorian date of rằm, at its hour in Hà Nội', async () => {
    const [firstRam] = ramOf(2027) as [string];
    // 06:55 in Hà Nội (UTC+7) on the day of the first rằm of 2027.
    const clock = new ManualClock(Date.parse(`${firstRam}T06:55:00+07:00`));
    t = await startTestPlatform({ clock, config: { DISPATCH_LEAD_S: 60, HEARTBEAT_MISSED_LIMIT: 20 } });
    const secret = await t.addDevice('hd-l2');
    device = await t.connectDevice('hd-l2', secret);
    await device.subscribeAsync('sc/v1/hd-l2/cmd', { qos: 1 });
    const plays: { startAt: number }[] = [];
    device.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString());
      if (command.type === 'play') plays.push(command);
    });
    const created = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: ramSchedule('hd-l2', '2026-12-01T07:00'),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (let i = 0; i < 5 * 60; i++) clock.advance(1000);
    await vi.waitFor(() => expect(plays.length).toBeGreaterThan(0));
    expect(plays[0]?.startAt).toBe(Date.parse(`${firstRam}T07:00:00+07:00`));
  });
});
