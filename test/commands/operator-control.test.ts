import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

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
      heartbeatIntervalS: 5,
    });
    await fleet.start();
    await vi.waitFor(() => expect(t.platform.presence.onlineCount()).toBe(3), { timeout: 10_000 });
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
    registry.createCommune({ id: 'khac', name: 'Xã Khác' });
    const outsider = await t.api('/api/v1/clusters/control', {
      method: 'POST',
      as: { headers: await t.headersFor('operator', { communeId: 'khac' }) },
      body: { targets: { clusterIds: ['xa-c1'] }, command: { type: 'volume', level: 90 } },
    });
    expect(outsider.status).toBe(404);
  });
});
