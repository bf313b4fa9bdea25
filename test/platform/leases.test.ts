import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CameraEventService } from '../../services/cameras/camera-events.js';
import { RedisLease } from '../../services/cluster/lease.js';
import { parseCameraEvent } from '../../simulators/onvif-camera/event-messages.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { connected, consoleSocket } from '../realtime/console-socket.js';
import { ManualClock } from '../support/manual-clock.js';
import type { TestPlatform } from '../support/platform-harness.js';
import { INSTANCE_POLL_MS, type InstancePair, startInstancePair } from '../support/redis-instances.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';
import { GATE_CAMERA, registerCamera, startGateCamera } from '../support/simulated-cameras.js';

/*
 * Leases for singleton loops on a real redis-server. A lease's lifetime is Redis' own PX, which
 * runs on real time: those cases wait for real, with lifetimes of a few hundred milliseconds.
 * The poller case drives both platforms' camera sweeps with one manual clock.
 */
const skip = redisSkipReason();
const silent = pino({ level: 'silent' });

describe.skipIf(skip !== null)(`leases on Redis${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let redis: RedisServer;
  let client: Redis;
  const leases: RedisLease[] = [];

  const lease = (name: string, owner: string, ttlMs = 600) => {
    const made = new RedisLease({ redis: client, name, owner, ttlMs, logger: silent });
    leases.push(made);
    return made;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = new Redis(redis.url);
  });
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((l) => l.stop()));
  });
  afterAll(async () => {
    await client?.quit();
    await redis?.cleanup();
  });

  it('is held by one instance at a time', async () => {
    const a = lease('one-holder', 'instance-a');
    const b = lease('one-holder', 'instance-b');
    await a.start();
    await b.start();
    expect(a.held()).toBe(true);
    expect(b.held()).toBe(false);
    expect(b.fence()).toBeNull();
    // Several renewals later, still the same holder.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(a.held()).toBe(true);
    expect(b.held()).toBe(false);
  });

  it('passes to another instance with a larger fence once the holder stops renewing', async () => {
    const a = lease('takeover', 'instance-a');
    const b = lease('takeover', 'instance-b');
    await a.start();
    await b.start();
    const first = a.fence() as number;
    expect(first).toBeGreaterThan(0);
    const changes: boolean[] = [];
    b.onChange((held) => changes.push(held));
    // The holder freezes (no renewal, no release), as a process stopped in a debugger would.
    (a as unknown as { timer: NodeJS.Timeout }).timer.close();
    const frozenAt = performance.now();
    await vi.waitFor(() => expect(b.held()).toBe(true), { timeout: 3_000, interval: 20 });
    // Not before the lifetime in Redis ran out, and within it plus one renewal round.
    expect(performance.now() - frozenAt).toBeGreaterThan(500);
    expect(performance.now() - frozenAt).toBeLessThan(600 + 200 + 300);
    expect(b.fence()).toBeGreaterThan(first);
    // The frozen holder stopped believing it holds before the other took it.
    expect(a.held()).toBe(false);
    expect(changes).toEqual([true]);
  });

  it('is free for the next instance at once when its holder stops', async () => {
    const a = lease('release', 'instance-a', 10_000);
    const b = lease('release', 'instance-b', 10_000);
    await a.start();
    await b.start();
    await a.stop();
    await b.renew();
    expect(b.held()).toBe(true);
  });

  it('is not freed by a late release of a former holder', async () => {
    const a = lease('late-release', 'instance-a', 300);
    const b = lease('late-release', 'instance-b', 300);
    await a.start();
    (a as unknown as { timer: NodeJS.Timeout }).timer.close();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await b.start();
    expect(b.held()).toBe(true);
    await a.stop();
    expect(await client.get('sc:lease:late-release')).toMatch(/^instance-b /);
  });
});

describe.skipIf(skip !== null)(
  `the camera poller on two instances${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    const clock = new ManualClock();
    let pair: InstancePair;
    let a: TestPlatform;
    let b: TestPlatform;
    let camera: SimulatedCamera;
    const INTERVAL_MS = INSTANCE_POLL_MS;

    beforeAll(async () => {
      pair = await startInstancePair(clock);
      ({ a, b } = pair);
      camera = await startGateCamera(clock);
      for (const t of [a, b]) await registerCamera(t, camera, GATE_CAMERA);
    });
    afterAll(async () => {
      await pair?.close();
      await camera?.stop();
    });

    it('polls each camera once per interval, on the instance holding the lease, and both show the outcome', async () => {
      // What one poll costs the camera, measured with a technician's poll on one instance.
      await a.platform.cameraHealth.poll('cam-ubnd');
      const perPoll = camera.rtspStats().connections;
      expect(perPoll).toBeGreaterThan(0);
      for (let round = 1; round <= 3; round++) {
        clock.advance(INTERVAL_MS);
        const polledAt = clock.now();
        // The instance that did not poll learns the outcome from the one that did.
        await vi.waitFor(
          () => {
            expect(a.platform.cameraHealth.status('cam-ubnd').lastPollAt).toBe(polledAt);
            expect(b.platform.cameraHealth.status('cam-ubnd').lastPollAt).toBe(polledAt);
          },
          { timeout: 10_000 },
        );
        expect(camera.rtspStats().connections).toBe(perPoll * (round + 1));
      }
      const onB = await b.api('/api/v1/cameras/cam-ubnd');
      expect(onB.status).toBe(200);
      expect(onB.body.health).toMatchObject({ lastPollAt: new Date(clock.now()).toISOString() });
    });

    it("subscribes to the camera's events from the holder only, and both show the subscription", async () => {
      // The sweeps above moved the clock past a pull's deadline: the feed retries once time moves on.
      await vi.waitFor(
        async () => {
          clock.advance(1_000);
          for (const t of [a, b]) {
            const shown = await t.api('/api/v1/cameras/cam-ubnd');
            expect(shown.body.events).toMatchObject({ state: 'subscribed', lastError: null });
          }
        },
        { timeout: 10_000, interval: 100 },
      );
      // One instance runs the device's feed (one subscription, each event recorded once); the other
      // shows what the holder shares.
      const feeds = (t: TestPlatform) =>
        (t.platform as unknown as { use(name: 'cameras'): { events: CameraEventService } })
          .use('cameras')
          .events.stats().devices;
      expect([feeds(a), feeds(b)]).toEqual([1, 0]);

      // A motion the holder records reaches a police console on the other instance at once.
      const police = consoleSocket(b.httpUrl, { headers: await b.headersFor('police') });
      try {
        await connected(police);
        camera.raiseEvent(parseCameraEvent('motion', 'on'));
        await vi.waitFor(() => expect(police.of('cameras.event')).toHaveLength(1), { timeout: 5_000 });
        expect(police.of('cameras.event')[0]).toMatchObject({
          cameraId: 'cam-ubnd',
          kind: 'motion',
          endedAt: null,
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(police.of('cameras.event')).toHaveLength(1);
      } finally {
        police.socket.close();
      }
    });
  },
);
