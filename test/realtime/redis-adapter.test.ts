import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CameraLive } from '../../contracts/realtime.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';
import type { TestPlatform } from '../support/platform-harness.js';
import { INSTANCE_POLL_MS, type InstancePair, startInstancePair } from '../support/redis-instances.js';
import { redisSkipReason } from '../support/redis-server.js';
import { registerCamera, startSimulatedCamera } from '../support/simulated-cameras.js';
import { connected, consoleSocket, type Recorded } from './console-socket.js';

/*
 * Socket.IO's Redis streams adapter between two in-process platforms on one real redis-server,
 * each with its own data directory. Cameras are polled only by the instance holding the poller
 * lease (A, started first); consoles connected to B must still get A's camera deltas, each in its
 * own commune's room. Simulated ONVIF cameras answer on real sockets; one manual clock drives
 * both platforms' poll intervals.
 */
const skip = redisSkipReason();
const INTERVAL_MS = INSTANCE_POLL_MS;

describe.skipIf(skip !== null)(`console sockets across instances${skip ? ` — skipped: ${skip}` : ''}`, () => {
  const clock = new ManualClock();
  let pair: InstancePair;
  let a: TestPlatform;
  let b: TestPlatform;
  const cameras: SimulatedCamera[] = [];
  const consoles: Recorded[] = [];
  const healthOn = { a: 0, b: 0 };

  beforeAll(async () => {
    pair = await startInstancePair(clock);
    ({ a, b } = pair);
    a.platform.events.on('camera.health', () => healthOn.a++);
    b.platform.events.on('camera.health', () => healthOn.b++);
    const specs = [
      { id: 'cam-hd', communeId: 'huong-dao' },
      { id: 'cam-khac', communeId: 'xa-khac' },
    ];
    for (const spec of specs) {
      const account = { name: spec.id, username: 'police', password: `pw-${spec.id}` };
      const camera = await startSimulatedCamera({ ...account, clock, faults: [] });
      cameras.push(camera);
      for (const t of [a, b]) {
        if (spec.communeId === 'xa-khac')
          await t.platform.registry.createCommune({ id: 'xa-khac', name: 'Xã Khác' });
        await registerCamera(t, camera, { id: spec.id, communeId: spec.communeId, ...account });
      }
    }
  });
  afterAll(async () => {
    for (const c of consoles) c.socket.disconnect();
    await pair?.close();
    await Promise.all(cameras.map((c) => c.stop()));
  });

  const policeOnB = async (communeId?: string) => {
    const headers = await b.headersFor('police', communeId ? { communeId } : {});
    const c = consoleSocket(b.httpUrl, { headers });
    consoles.push(c);
    await connected(c);
    return c;
  };
  const deltas = (c: Recorded): CameraLive[] => c.of('cameras.delta').flat();

  it("brings A's camera polls to consoles on B, each only its own commune's", async () => {
    const all = await policeOnB();
    const huongDao = await policeOnB('huong-dao');
    const khac = await policeOnB('xa-khac');
    // Polls until both cameras changed health (unknown → ok) on the instance that polls.
    for (let round = 0; round < 4 && deltas(all).length < 2; round++) {
      clock.advance(INTERVAL_MS);
      const polledAt = clock.now();
      await vi.waitFor(() => expect(b.platform.cameraHealth.status('cam-khac').lastPollAt).toBe(polledAt), {
        timeout: 10_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Only A polled and saw the changes; B's consoles heard of them through Redis.
    expect(healthOn.a).toBeGreaterThanOrEqual(2);
    expect(healthOn.b).toBe(0);
    expect(b.platform.realtime.connectedSockets).toBe(3);
    await vi.waitFor(() =>
      expect(new Set(deltas(all).map((c) => c.id))).toEqual(new Set(['cam-hd', 'cam-khac'])),
    );
    await vi.waitFor(() => expect(deltas(huongDao).map((c) => c.id)).toContain('cam-hd'));
    await vi.waitFor(() => expect(deltas(khac).map((c) => c.id)).toContain('cam-khac'));
    expect(deltas(huongDao).every((c) => c.communeId === 'huong-dao')).toBe(true);
    expect(deltas(khac).every((c) => c.communeId === 'xa-khac')).toBe(true);
    // Each change reached each console once, not once per instance.
    const hd = deltas(huongDao).filter((c) => c.id === 'cam-hd');
    expect(new Set(hd.map((c) => `${c.state}@${c.since}`)).size).toBe(hd.length);
  });
});
