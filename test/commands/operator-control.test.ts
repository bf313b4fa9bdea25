import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet, twoVillages } from '../support/simulated-fleet.js';

/*
 * Operators (not only technicians) set the volume of a cluster, a village or all, and switch the
 * amplifiers; real simulated clusters acknowledge, and their heartbeats then say so.
 */
describe('operator control of clusters', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it("lowers the volume of one village: its clusters acknowledge, the other village's keep theirs", async () => {
    t = await startTestPlatform();
    fleet = await startFleet(t, await twoVillages(t));
    const { registry } = t.platform;
    const before = fleet.get('xa-c3')?.status().volume;

    const control = await t.api('/api/v1/clusters/control?waitMs=5000', {
      method: 'POST',
      as: 'operator',
      body: { targets: { villageIds: ['thon-1'] }, command: { type: 'volume', level: 30 } },
    });
    expect(control.status, JSON.stringify(control.body)).toBe(200);
    expect(
      control.body.items.map((i: { clusterId: string; status: string }) => [i.clusterId, i.status]),
    ).toEqual([
      ['xa-c1', 'done'],
      ['xa-c2', 'done'],
    ]);
    expect(fleet.get('xa-c1')?.status().volume).toBe(30);
    expect(fleet.get('xa-c2')?.status().volume).toBe(30);
    expect(fleet.get('xa-c3')?.status().volume).toBe(before);
    // The platform sees it in the next heartbeats.
    await vi.waitFor(() => expect(t.platform.presence.status('xa-c1').volume).toBe(30), { timeout: 10_000 });

    const off = await t.api('/api/v1/clusters/control?waitMs=5000', {
      method: 'POST',
      as: 'operator',
      body: { targets: { clusterIds: ['xa-c3'] }, command: { type: 'power', on: false } },
    });
    expect(off.body.items).toEqual([expect.objectContaining({ clusterId: 'xa-c3', status: 'done' })]);

    // A ping or a reboot stays a technician's.
    const ping = await t.api('/api/v1/devices/xa-c1/commands', {
      method: 'POST',
      as: 'operator',
      body: { type: 'reboot' },
    });
    expect(ping.status).toBe(403);
    expect(ping.body.error.message).toBe(
      'a reboot command is for technicians; operators set the volume and the power',
    );
    // Police have no say over the speakers; another commune's operator does not see these clusters.
    const police = await t.api('/api/v1/clusters/control', {
      method: 'POST',
      as: 'police',
      body: { targets: { clusterIds: ['xa-c1'] }, command: { type: 'volume', level: 90 } },
    });
    expect(police.status).toBe(403);
    await registry.createCommune({ id: 'khac', name: 'Xã Khác' });
    const outsider = await t.api('/api/v1/clusters/control', {
      method: 'POST',
      as: { headers: await t.headersFor('operator', { communeId: 'khac' }) },
      body: { targets: { clusterIds: ['xa-c1'] }, command: { type: 'volume', level: 90 } },
    });
    expect(outsider.status).toBe(404);
  });
});
