import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseFault } from '../../simulators/speaker-cluster/faults.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';

/**
 * Moves the manual clock a second at a time to `at`, letting sockets run between steps (presence
 * and the alarms' debounce run on the same clock).
 */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  const target = clock.now() + ms;
  while (clock.now() < target) {
    clock.advance(Math.min(5_000, target - clock.now()));
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

/*
 * Alarms from what the simulated Hướng Đạo clusters really do: a power cut of a whole village is
 * one outage, not an alarm per cluster; a cluster that drops alone opens its own alarm only after
 * the rule's five minutes; alarms are acknowledged with a note and clear by themselves; a village
 * under maintenance holds its alarms.
 */
describe('alarms', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it('groups a village power cut into one outage, debounces a lone drop, and clears by itself', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T08:00:00+07:00'));
    t = await startTestPlatform({ clock, config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 3 } });
    const ids = t.platform.registry
      .listClusters({ communeId: 'huong-dao' }, { limit: 100, offset: 0 })
      .items.map((c) => c.id);
    fleet = await startFleet(t, ids, { clock, heartbeatIntervalS: 30 });
    const alarms = async (query = '') =>
      (await t.api(`/api/v1/alarms?communeId=huong-dao${query}`, { as: 'operator' })).body as Json;

    // Thôn 1 has two clusters (hd-c01, hd-c02): both lose power; hd-c05 (Thôn 4) drops alone.
    for (const id of ['hd-c01', 'hd-c02', 'hd-c05'])
      await fleet.get(id)?.injectFault(parseFault('power-cut'));
    await vi.waitFor(() =>
      expect(['hd-c01', 'hd-c02', 'hd-c05'].map((id) => t.platform.presence.isOnline(id))).toEqual([
        false,
        false,
        false,
      ]),
    );
    const incidents = await t.api('/api/v1/incidents?communeId=huong-dao&open=true', { as: 'operator' });
    expect(incidents.body.items).toHaveLength(1);
    expect(incidents.body.items[0]).toMatchObject({
      kind: 'village-outage',
      villageId: 'hd-thon-01',
      devices: [
        { deviceId: 'hd-c01', deviceKind: 'cluster', back: false },
        { deviceId: 'hd-c02', deviceKind: 'cluster', back: false },
      ],
    });
    // Not yet an alarm: offline for less than the rule's five minutes.
    expect((await alarms()).items).toEqual([]);
    await advance(clock, 301_000);
    const open = (await alarms('&state=open')).items as {
      id: string;
      deviceId: string;
      incidentId: string | null;
      kind: string;
    }[];
    expect(open.map((a) => [a.deviceId, a.kind, a.incidentId !== null])).toEqual(
      expect.arrayContaining([
        ['hd-c01', 'cluster-offline', true],
        ['hd-c02', 'cluster-offline', true],
        ['hd-c05', 'cluster-offline', false],
      ]),
    );
    expect(open).toHaveLength(3);

    // Acknowledged with a note; a second acknowledgement is refused.
    const lone = open.find((a) => a.deviceId === 'hd-c05') as { id: string };
    const ack = await t.api(`/api/v1/alarms/${lone.id}/acknowledge`, {
      method: 'POST',
      as: 'technician',
      body: { note: 'Đã cử kỹ thuật viên kiểm tra nguồn điện' },
    });
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'technician-all' });
    const again = await t.api(`/api/v1/alarms/${lone.id}/acknowledge`, {
      method: 'POST',
      as: 'technician',
      body: { note: 'x' },
    });
    expect(again.status).toBe(409);

    // Power back: the clusters boot and reconnect; the outage and every alarm clear by themselves.
    for (const id of ['hd-c01', 'hd-c02', 'hd-c05']) await fleet.get(id)?.clearFault('all');
    await vi.waitFor(() =>
      expect(['hd-c01', 'hd-c02', 'hd-c05'].every((id) => t.platform.presence.isOnline(id))).toBe(true),
    );
    await vi.waitFor(async () => expect((await alarms('&state=open,acknowledged')).items).toEqual([]));
    const over = await t.api('/api/v1/incidents?communeId=huong-dao', { as: 'operator' });
    expect(over.body.items[0].clearedAt).not.toBeNull();
    const history = (await alarms('&state=cleared')).items as { clearedAt: string | null }[];
    expect(history).toHaveLength(3);
    // The technician's device page: one device's alarms.
    const device = await t.api('/api/v1/alarms?deviceId=hd-c05', { as: 'technician' });
    expect(device.body.items.map((a: { note: string }) => a.note)).toEqual([
      'Đã cử kỹ thuật viên kiểm tra nguồn điện',
    ]);
  }, 90_000);

  it('holds the alarms of a village under maintenance, and follows a commune’s own rule', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T08:00:00+07:00'));
    t = await startTestPlatform({ clock, config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 3 } });
    fleet = await startFleet(t, ['hd-c04', 'hd-c06'], { clock, heartbeatIntervalS: 30 });
    const window = await t.api('/api/v1/maintenance', {
      method: 'POST',
      as: 'technician',
      body: {
        villageId: 'hd-thon-03',
        endsAt: '2026-12-07T12:00:00+07:00',
        reason: 'Thay cột loa thôn 3',
      },
    });
    expect(window.status, JSON.stringify(window.body)).toBe(201);
    expect(window.body.deviceIds).toEqual(['hd-c04']);
    // Overheating opens at once in this commune (its own rule), weak signal never.
    expect(
      (
        await t.api('/api/v1/alarm-rules/huong-dao/overheating', {
          method: 'PATCH',
          as: 'technician',
          body: { forS: 0, severity: 'critical' },
        })
      ).body,
    ).toMatchObject({ kind: 'overheating', forS: 0, severity: 'critical', custom: true });
    await t.api('/api/v1/alarm-rules/huong-dao/weak-signal', {
      method: 'PATCH',
      as: 'technician',
      body: { enabled: false },
    });

    for (const id of ['hd-c04', 'hd-c06']) {
      await fleet.get(id)?.injectFault(parseFault('overheat'));
      await fleet.get(id)?.injectFault(parseFault('weak-signal'));
    }
    await advance(clock, 31_000);
    await vi.waitFor(async () => {
      const list = await t.api('/api/v1/alarms?communeId=huong-dao&state=open', { as: 'operator' });
      expect(
        list.body.items
          .map((a: { deviceId: string; kind: string; held: boolean; severity: string }) => [
            a.deviceId,
            a.kind,
            a.held,
            a.severity,
          ])
          .sort(),
      ).toEqual([
        ['hd-c04', 'overheating', true, 'critical'],
        ['hd-c06', 'overheating', false, 'critical'],
      ]);
    });
    const rules = await t.api('/api/v1/alarm-rules/huong-dao', { as: 'viewer' });
    expect(rules.body.items.find((r: { kind: string }) => r.kind === 'cluster-offline')).toMatchObject({
      forS: 300,
      custom: false,
    });
  }, 60_000);
});
