import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SummaryReport } from '../../contracts/reports.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';

const T0 = Date.parse('2026-12-07T08:00:00+07:00');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** Moves the manual clock to `T0 + minutes`, a few seconds at a time, letting sockets run. */
async function advanceTo(clock: ManualClock, minutes: number): Promise<void> {
  const target = T0 + minutes * 60_000;
  while (clock.now() < target) {
    clock.advance(Math.min(5_000, target - clock.now()));
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

/*
 * Two Hướng Đạo clusters lose power for a while, partly inside a maintenance window: the report
 * shows the downtime inside the window as maintenance and the rest as offline, uptime counts only
 * the latter, and online + offline + maintenance + unknown is the whole period of every cluster.
 */
describe('availability with maintenance windows', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it('reports downtime inside a maintenance window apart from the downtime outside it', async () => {
    const clock = new ManualClock(T0);
    t = await startTestPlatform({ clock, config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20 } });
    fleet = await startFleet(t, ['hd-c05', 'hd-c06'], { clock, heartbeatIntervalS: 30 });
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c06')).toBe(true));
    const window = async (deviceId: string, from: number, to: number) => {
      const made = await t.api('/api/v1/maintenance', {
        method: 'POST',
        as: 'technician',
        body: { deviceIds: [deviceId], startsAt: at(from), endsAt: at(to), reason: 'Thay bộ nguồn' },
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      return made.body.id as string;
    };
    // hd-c05: under maintenance 08:10–08:40; hd-c06: 08:20–09:20, ended early at 08:30.
    await window('hd-c05', 10, 40);
    const early = await window('hd-c06', 20, 80);

    const powerCut = async (id: string) => {
      await fleet?.require(id).injectFault({ kind: 'power-cut' });
      await vi.waitFor(() => expect(t.platform.presence.isOnline(id)).toBe(false));
    };
    const powerBack = async (id: string) => {
      await fleet?.require(id).clearFault('power-cut');
      for (let i = 0; i < 120 && !t.platform.presence.isOnline(id); i++) {
        clock.advance(1_000);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(t.platform.presence.isOnline(id)).toBe(true);
    };
    await advanceTo(clock, 5);
    await powerCut('hd-c05'); // offline 08:05–09:00: 30 min of it under maintenance
    await advanceTo(clock, 20);
    await powerCut('hd-c06'); // offline 08:20–08:50: 10 min of it under maintenance
    await advanceTo(clock, 30);
    const ended = await t.api(`/api/v1/maintenance/${early}`, { method: 'DELETE', as: 'technician' });
    expect(ended.status).toBe(204);
    // Ended, not erased: no longer listed, but its ten minutes still count as maintenance.
    const listed = await t.api('/api/v1/maintenance?communeId=huong-dao', { as: 'technician' });
    expect(listed.body.items.map((w: { id: string }) => w.id)).not.toContain(early);
    await advanceTo(clock, 50);
    await powerBack('hd-c06');
    await advanceTo(clock, 60);
    await powerBack('hd-c05');
    await advanceTo(clock, 90);

    const period = `from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(90))}&communeId=huong-dao`;
    const report = (await t.api(`/api/v1/reports/summary?${period}`, { as: 'operator' }))
      .body as SummaryReport;
    const a = report.total.availability;
    if (!a) throw new Error(`no availability: ${report.availabilityError}`);
    expect(a.clusters).toBe(18);
    // Exactly the windows' time: both clusters were offline throughout them.
    expect(a.maintenanceS).toBe(30 * 60 + 10 * 60);
    // Outside the windows: 25 min of hd-c05 and 20 min of hd-c06, plus the seconds each took to reconnect.
    expect(a.offlineS).toBeGreaterThanOrEqual(45 * 60);
    expect(a.offlineS).toBeLessThan(45 * 60 + 240);
    // Every cluster's whole period is accounted for once (the 16 never heard of are unknown).
    expect(a.onlineS + a.offlineS + a.maintenanceS + a.unknownS).toBeCloseTo(18 * 90 * 60, 0);
    // Uptime counts only what was offline outside maintenance.
    expect(a.uptimePct).toBe(Math.round((a.onlineS / (a.onlineS + a.offlineS)) * 10_000) / 100);
    // Known time: the two clusters' 180 min less the 40 under maintenance; 45 (and a little) of it down.
    expect(a.uptimePct).toBeLessThan(100 * (1 - 45 / 140) + 0.01);
    expect(a.uptimePct).toBeGreaterThan(100 * (1 - 49 / 140) - 0.5);
    expect(report.communes[0]?.availability).toEqual(a);

    // The spreadsheet's last two columns and the printed page say the same.
    const csv = (await t.api(`/api/v1/reports/summary?${period}&format=csv`, { as: 'operator' }))
      .body as string;
    const [header, , total] = csv
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\n');
    expect(header?.split(',').slice(-2)).toEqual([
      'Mất kết nối ngoài giờ bảo trì (giờ cụm loa)',
      'Ngừng hoạt động khi bảo trì (giờ cụm loa)',
    ]);
    expect(total?.split(',').slice(-2)).toEqual([
      String(Math.round((a.offlineS / 3600) * 100) / 100),
      String(Math.round((40 / 60) * 100) / 100),
    ]);
    const page = (await t.api(`/api/v1/reports/summary?${period}&format=html`, { as: 'operator' }))
      .body as string;
    expect(page).toMatch(/Ngừng hoạt động khi bảo trì \(giờ cụm loa\)<\/th><td class="n">0,67</);

    // The technicians' availability report splits each cluster the same way.
    const byDevice = (
      (await t.api(`/api/v1/reports/availability?${period}&limit=100`, { as: 'technician' })).body as Json
    ).devices.items as { id: string; maintenanceS: number; offlineS: number }[];
    expect(byDevice.find((d) => d.id === 'hd-c05')?.maintenanceS).toBe(1800);
    expect(byDevice.find((d) => d.id === 'hd-c06')?.maintenanceS).toBe(600);
    expect(byDevice.find((d) => d.id === 'hd-c06')?.offlineS).toBeGreaterThanOrEqual(1200);
  }, 120_000);
});
