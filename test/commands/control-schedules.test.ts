import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet, twoVillages } from '../support/simulated-fleet.js';

/*
 * "Amplifiers off at 22:00 every night": a control schedule sends the command on time, in the
 * commune's zone, to the clusters of its targets; real simulated clusters acknowledge it.
 */
describe('volume and power on a calendar', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it("switches a village's amplifiers off at 22:00 in Hà Nội, and records who acknowledged", async () => {
    // 21:59 in Hướng Đạo (UTC+7) on 7 December 2026.
    const clock = new ManualClock(Date.parse('2026-12-07T21:59:00+07:00'));
    t = await startTestPlatform({ clock, config: { HEARTBEAT_MISSED_LIMIT: 20 } });
    fleet = await startFleet(t, await twoVillages(t), { clock, heartbeatIntervalS: 30 });
    await t.api('/api/v1/clusters/control?waitMs=5000', {
      method: 'POST',
      as: 'operator',
      body: { targets: { communeIds: ['xa'] }, command: { type: 'power', on: true } },
    });

    const created = await t.api('/api/v1/control-schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Tắt tăng âm ban đêm',
        targets: { villageIds: ['thon-1'] },
        command: { type: 'power', on: false },
        start: '2026-12-07T22:00',
        rrule: 'FREQ=DAILY',
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.next).toBe('2026-12-07T15:00:00.000Z');

    for (let i = 0; i < 59; i++) clock.advance(1000);
    expect(fleet.get('xa-c1')?.status().power).toBe(true);
    clock.advance(1000);
    await vi.waitFor(async () => {
      const [schedule] = (await t.api('/api/v1/control-schedules', { as: 'operator' })).body;
      expect(schedule.lastRun).toMatchObject({
        at: '2026-12-07T15:00:00.000Z',
        done: 2,
        offline: 0,
        failed: 0,
      });
    });
    expect(fleet.get('xa-c1')?.status().power).toBe(false);
    expect(fleet.get('xa-c2')?.status().power).toBe(false);
    expect(fleet.get('xa-c3')?.status().power).toBe(true);
    const after = await t.api(`/api/v1/control-schedules/${created.body.id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { enabled: false },
    });
    expect(after.body).toMatchObject({ enabled: false, next: null });
  });
});
