import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { demoSimulators } from '../../services/demo/demo-simulators.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const silent = pino({ level: 'silent' });

describe('fault injection from the console in demo mode', () => {
  let t: TestPlatform | null = null;
  let fleet: SimulatedFleet | null = null;
  let camera: SimulatedCamera | null = null;
  afterEach(async () => {
    await fleet?.stop();
    await camera?.stop();
    await t?.close();
    t = null;
    fleet = null;
    camera = null;
  });

  it('lets a technician rehearse a power cut on a simulated cluster and clear it', async () => {
    const cameras = new Map<string, SimulatedCamera>();
    let clusters: SimulatedFleet | null = null;
    t = await startTestPlatform({
      demo: true,
      config: { SEED_PRESET: 'huong-dao' },
      simulators: demoSimulators({ clusters: () => clusters, cameras: () => cameras }),
    });
    const secret = (await t.platform.registry.issueSecret('hd-c01')).secret;
    fleet = new SimulatedFleet({
      devices: [{ deviceId: 'hd-c01', secret }],
      url: t.mqttUrl,
      logger: silent,
      clock: systemClock,
    });
    await fleet.start();
    clusters = fleet;
    camera = new SimulatedCamera({ name: 'Ngã tư', discoveryPort: null, clock: systemClock, logger: silent });
    await camera.start();
    cameras.set('hd-cam01', camera);
    await t.platform.cameras.create({
      id: 'hd-cam01',
      communeId: 'huong-dao',
      name: 'Ngã tư',
      xaddr: camera.addresses().deviceXAddr,
      username: 'admin',
      password: 'x',
    });
    await vi.waitFor(() => expect(t?.platform.presence.isOnline('hd-c01')).toBe(true));

    const listed = await t.api('/api/v1/demo/faults/hd-c01', { as: 'technician' });
    expect(listed.status).toBe(200);
    expect(listed.body.kinds.map((k: { kind: string }) => k.kind)).toContain('power-cut');
    expect(listed.body.active).toEqual([]);

    const cut = await t.api('/api/v1/demo/faults/hd-c01', {
      method: 'POST',
      body: { kind: 'power-cut' },
      as: 'technician',
    });
    expect(cut.status).toBe(200);
    expect(cut.body.active.join(' ')).toContain('power-cut');
    await vi.waitFor(() => expect(t?.platform.presence.isOnline('hd-c01')).toBe(false));

    const cleared = await t.api('/api/v1/demo/faults/hd-c01', { method: 'DELETE', as: 'technician' });
    expect(cleared.body.active).toEqual([]);
    await vi.waitFor(() => expect(t?.platform.presence.isOnline('hd-c01')).toBe(true), { timeout: 15_000 });

    const cameraFault = await t.api('/api/v1/demo/faults/hd-cam01', {
      method: 'POST',
      body: { kind: 'clock-drift', arg: '30' },
      as: 'technician',
    });
    expect(cameraFault.body.active.join(' ')).toContain('clock-drift');

    // Only technicians (and admins), only valid faults, only simulated devices.
    for (const role of ['operator', 'police'] as const) {
      const denied = await t.api('/api/v1/demo/faults/hd-c01', {
        method: 'POST',
        body: { kind: 'drop' },
        as: role,
      });
      expect(denied.status).toBe(403);
    }
    const bad = await t.api('/api/v1/demo/faults/hd-c01', { method: 'POST', body: { kind: 'meteor' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('meteor');
    expect((await t.api('/api/v1/demo/faults/hd-c02')).status).toBe(404);
    const audit = await t.api('/api/v1/audit?action=demo.fault.inject');
    expect(audit.body.total).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('has no fault routes outside demo mode', async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' } });
    expect((await t.api('/api/v1/demo/faults/hd-c01', { as: 'technician' })).status).toBe(404);
  });
});
