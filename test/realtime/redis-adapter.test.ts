import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CameraLive } from '../../contracts/realtime.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { parseFault } from '../../simulators/speaker-cluster/faults.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import {
  INSTANCE_POLL_MS,
  type InstancePair,
  instanceConfig,
  startInstancePair,
} from '../support/redis-instances.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';
import { registerCamera, startSimulatedCamera } from '../support/simulated-cameras.js';
import { startFleet } from '../support/simulated-fleet.js';
import { TcpProxy } from '../support/tcp-proxy.js';
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

/*
 * An alarm raised on A reaches a console on B although B's link to Redis stalls at the wrong
 * moment: B's stream read has just timed out and its next one waits in a TCP proxy (test/support/
 * tcp-proxy.ts) while A records the alarm. Redis' CLIENT LIST tells when B's read is blocked in
 * Redis and when it is not; the cluster is a simulated one on A's broker, over real MQTT.
 */
describe.skipIf(skip !== null)(
  `console sockets across a stalled link${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    const clock = new ManualClock(Date.parse('2026-12-07T10:00:00+07:00'));
    let redis: RedisServer;
    let client: Redis;
    let proxy: TcpProxy;
    let a: TestPlatform;
    let b: TestPlatform;
    let fleet: SimulatedFleet | undefined;
    let onB: Recorded | undefined;

    beforeAll(async () => {
      redis = await RedisServer.start();
      client = new Redis(redis.url);
      proxy = new TcpProxy([{ host: '127.0.0.1', port: Number(new URL(redis.url).port) }]);
      const proxyPort = await proxy.start();
      const extra = { HEARTBEAT_MISSED_LIMIT: 3 };
      a = await startTestPlatform({ clock, config: instanceConfig(redis.url, extra) });
      b = await startTestPlatform({ clock, config: instanceConfig(`redis://127.0.0.1:${proxyPort}`, extra) });
    }, 60_000);
    afterAll(async () => {
      onB?.socket.disconnect();
      proxy?.release();
      await fleet?.stop();
      await b?.close();
      await a?.close();
      await proxy?.close();
      await client?.quit();
      await redis?.cleanup();
    });

    /** B's connections blocked in a command (the adapter's stream read) in Redis now. */
    const blockedOfB = async () => {
      const ports = new Set(proxy.backendSidePorts());
      const list = String(await client.client('LIST'));
      return list.split('\n').filter((line) => {
        const port = Number(/ addr=[^ ]*:(\d+) /.exec(line)?.[1]);
        return ports.has(port) && /flags=\S*b/.test(line);
      }).length;
    };

    it('brings the alarm to the console on B once the link moves again', async () => {
      const immediate = await a.api('/api/v1/alarm-rules/huong-dao/cluster-offline', {
        method: 'PATCH',
        as: 'technician',
        body: { forS: 0 },
      });
      expect(immediate.status, JSON.stringify(immediate.body)).toBe(200);
      const headers = await b.headersFor('technician');
      onB = consoleSocket(b.httpUrl, { headers });
      await connected(onB);
      fleet = await startFleet(a, ['hd-c01'], { clock, heartbeatIntervalS: 30 });
      await vi.waitFor(() => expect(a.platform.presence.onlineCount()).toBe(1), { timeout: 10_000 });

      // B reads the stream; its read times out (a second) and the next one waits in the proxy.
      await vi.waitFor(async () => expect(await blockedOfB()).toBe(1), { timeout: 10_000, interval: 20 });
      proxy.hold();
      await vi.waitFor(async () => expect(await blockedOfB()).toBe(0), { timeout: 5_000, interval: 20 });

      // Meanwhile hd-c01 loses power: A raises the alarm and tells every instance's consoles.
      await fleet.get('hd-c01')?.injectFault(parseFault('power-cut'));
      await vi.waitFor(
        async () => {
          const alarms = await a.api('/api/v1/alarms?deviceId=hd-c01', { as: 'technician' });
          expect(alarms.body.items).toMatchObject([{ kind: 'cluster-offline', state: 'open' }]);
        },
        { timeout: 15_000 },
      );
      await vi.waitFor(async () => expect(await client.xlen('sc:socket.io')).toBeGreaterThan(0));
      expect(onB.of('alarms.changed')).toEqual([]);

      proxy.release();
      await vi.waitFor(
        () =>
          expect(onB?.of('alarms.changed')).toMatchObject([
            { deviceId: 'hd-c01', kind: 'cluster-offline', change: 'opened' },
          ]),
        { timeout: 5_000 },
      );
    });
  },
);
