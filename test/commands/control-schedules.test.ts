import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

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
    const { registry } = t.platform;
    registry.createCommune({ id: 'xa', name: 'Xã Thử' });
    registry.createVillage({ id: 'thon-1', communeId: 'xa', name: 'Thôn 1' });
    registry.createVillage({ id: 'thon-2', communeId: 'xa', name: 'Thôn 2' });
    const devices = [];
    for (const [id, villageId] of [
      ['xa-c1', 'thon-1'],
      ['xa-c2', 'thon-1'],
      ['xa-c3', 'thon-2'],
    ] as const) {
      registry.createCluster({ id, villageId, name: `Cụm ${id}`, location: { lat: 21.3, lon: 105.5 } });
      devices.push({ deviceId: id, secret: (await registry.issueSecret(id)).secret });
    }
    fleet = new SimulatedFleet({
      devices,
      url: t.mqttUrl,
      logger: pino({ level: 'silent' }),
      clock,
      heartbeatIntervalS: 30,
    });
    await fleet.start();
    await vi.waitFor(() => expect(t.platform.presence.onlineCount()).toBe(3), { timeout: 10_000 });
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
