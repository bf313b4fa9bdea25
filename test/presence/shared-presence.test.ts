import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClusterLive } from '../../contracts/realtime.js';
import { RedisLease } from '../../services/cluster/lease.js';
import { EventBus } from '../../services/event-bus.js';
import { SharedConnections } from '../../services/presence/shared-connections.js';
import { connected, consoleSocket, type Recorded } from '../realtime/console-socket.js';
import { ManualClock } from '../support/manual-clock.js';
import { heartbeat, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';

/*
 * Two in-process platforms sharing one real redis-server and nothing else: each has its own data
 * directory, so the device is registered on both (with a secret from each), as two instances
 * would share one registry through DATABASE_URL. A device connected to one must look connected
 * to the other, from its session alone. One manual clock drives both platforms' heartbeat
 * deadlines. The SIGKILL case is in test/platform/instance-crash.test.ts.
 */
const skip = redisSkipReason();

describe.skipIf(skip !== null)(`presence shared through Redis${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let redis: RedisServer;
  const clock = new ManualClock();
  let a: TestPlatform;
  let b: TestPlatform;
  const secrets = new Map<string, string>();
  const open: mqtt.MqttClient[] = [];
  const consoles: Recorded[] = [];
  const DEVICES = ['cum-a', 'cum-move', 'cum-leave', 'cum-silent', 'cum-console'];

  const statusOn = async (t: TestPlatform, id: string) => (await t.api(`/api/v1/clusters/${id}`)).body.status;
  const connectTo = async (t: TestPlatform, id: string) => {
    const client = await mqtt.connectAsync(t.mqttUrl, {
      clientId: id,
      username: id,
      password: secrets.get(`${t === a ? 'a' : 'b'}:${id}`) as string,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    open.push(client);
    return client;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    const config = { REDIS_URL: redis.url, CLUSTER_LEASE_MS: 1_500, HEARTBEAT_INTERVAL_S: 10 };
    a = await startTestPlatform({ clock, config });
    b = await startTestPlatform({ clock, config });
    for (const id of DEVICES) {
      secrets.set(`a:${id}`, await a.addDevice(id));
      secrets.set(`b:${id}`, await b.addDevice(id));
    }
  });
  afterEach(async () => {
    for (const c of consoles.splice(0)) c.socket.disconnect();
    await Promise.all(open.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.cleanup();
  });

  it('shows a device connected to instance A as online on instance B, from its session alone', async () => {
    expect(a.dataDir).not.toBe(b.dataDir);
    await connectTo(a, 'cum-a');
    // No state message, no heartbeat: only A saw the CONNECT.
    await vi.waitFor(async () =>
      expect(await statusOn(b, 'cum-a')).toMatchObject({ online: true, reason: 'connect' }),
    );
    expect(await statusOn(a, 'cum-a')).toMatchObject({ online: true, reason: 'connect' });
  });

  it('takes a device offline on B when it disconnects from A', async () => {
    const device = await connectTo(a, 'cum-leave');
    await vi.waitFor(async () => expect((await statusOn(b, 'cum-leave')).online).toBe(true));
    await device.endAsync();
    await vi.waitFor(async () =>
      expect(await statusOn(b, 'cum-leave')).toMatchObject({ online: false, reason: 'disconnect' }),
    );
  });

  it('keeps a device online everywhere when it reconnects from A to B', async () => {
    await connectTo(a, 'cum-move');
    await vi.waitFor(async () => expect((await statusOn(b, 'cum-move')).online).toBe(true));
    const onlineSince = (await statusOn(b, 'cum-move')).since;
    // The same client id through B: B takes the session over and A closes its old one [MQTT-3.1.4-2].
    await connectTo(b, 'cum-move');
    // A's late disconnect of the replaced session must not count: wait until A has closed it.
    await vi.waitFor(() => expect(open[0]?.connected).toBe(false), { timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // One online period, recorded once across the instances (by the `presence-history` lease's
    // holder: each instance here has a file of its own, which instances share in production).
    const periods = [a, b].flatMap(
      (t) =>
        t.platform.presence.history('cum-move', { from: 0, to: clock.now() + 1 }, { limit: 10, offset: 0 })
          .items,
    );
    expect(periods.map((p) => p.online)).toEqual([true]);
    for (const t of [a, b])
      expect(await statusOn(t, 'cum-move')).toMatchObject({ online: true, since: onlineSince });
  });

  it('still takes a connected device offline on B when its heartbeats stop', async () => {
    const device = await connectTo(a, 'cum-silent');
    await device.publishAsync('sc/v1/cum-silent/heartbeat', heartbeat(1, {}, clock.now()), { qos: 0 });
    await vi.waitFor(async () => expect((await statusOn(b, 'cum-silent')).lastSeen).not.toBeNull());
    // Three missed heartbeats at 10 s, on the clock both instances share.
    clock.advance(31_000);
    for (const t of [a, b]) {
      expect(await statusOn(t, 'cum-silent')).toMatchObject({ online: false, reason: 'heartbeat-timeout' });
    }
  });

  it("shows a console on B a device connecting to A, and only to that device's commune", async () => {
    await b.platform.registry.createCommune({ id: 'xa-khac', name: 'Xã Khác' });
    const operator = consoleSocket(b.httpUrl, {
      headers: await b.headersFor('operator', { communeId: 'test-commune' }),
    });
    const stranger = consoleSocket(b.httpUrl, {
      headers: await b.headersFor('operator', { communeId: 'xa-khac' }),
    });
    consoles.push(operator, stranger);
    await Promise.all([connected(operator), connected(stranger)]);
    await connectTo(a, 'cum-console');
    const deltas = (c: Recorded): ClusterLive[] =>
      c.of('clusters.delta').flatMap((list) => list.filter((cluster) => cluster.id === 'cum-console'));
    await vi.waitFor(() => expect(deltas(operator).at(-1)?.online).toBe(true));
    expect(deltas(stranger)).toEqual([]);
  });
});

describe.skipIf(skip !== null)(`an instance cut off from Redis${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let redis: RedisServer;
  let client: Redis;
  const stops: (() => Promise<void>)[] = [];
  const silent = pino({ level: 'silent' });

  /** One instance's shared presence, with what it applied (device → connected). */
  const instance = async (instanceId: string) => {
    const events = new EventBus();
    const liveness = new RedisLease({
      redis: client,
      name: `instance:${instanceId}`,
      owner: instanceId,
      ttlMs: 600,
      logger: silent,
    });
    await liveness.start();
    const seen = new Map<string, boolean>();
    const shared = new SharedConnections({
      redis: client,
      instanceId,
      liveness,
      livenessKey: (id) => `sc:lease:instance:${id}`,
      reapEveryMs: 60_000,
      events,
      apply: (deviceId, connected) => seen.set(deviceId, connected),
      logger: silent,
    });
    await shared.start();
    stops.push(async () => {
      await shared.stop();
      await liveness.stop();
    });
    return { events, liveness, shared, seen };
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    for (const stop of stops.splice(0)) await stop();
    await client?.quit();
    await redis?.cleanup();
  });

  it('has its sessions ended by the others once its liveness lapses, and announces them again when it is back', async () => {
    const a = await instance('instance-a');
    const b = await instance('instance-b');
    a.events.emit('broker.connection', { clientId: 'cum-cut', connected: true, at: 0 });
    await vi.waitFor(() => expect(b.seen.get('cum-cut')).toBe(true));

    // A stops renewing (Redis out of its reach); B's reaper finds nothing while A's lease lasts.
    const timer = (a.liveness as unknown as { timer: NodeJS.Timeout }).timer;
    clearInterval(timer);
    expect(await b.shared.reap()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await b.shared.reap()).toBe(1);
    await vi.waitFor(() => expect(b.seen.get('cum-cut')).toBe(false));
    // A second survivor reaping at the same time finds the work done.
    expect(await b.shared.reap()).toBe(0);

    // A reaches Redis again: a new hold of its liveness, and its open session is announced again.
    await a.liveness.renew();
    expect(a.liveness.held()).toBe(true);
    await vi.waitFor(() => expect(b.seen.get('cum-cut')).toBe(true));
    expect(await client.hget('sc:presence:owner', 'cum-cut')).toBe('instance-a');
  });

  it('does not claim again a session that moved to another instance when its liveness comes back', async () => {
    const a = await instance('instance-c');
    const b = await instance('instance-d');
    a.events.emit('broker.connection', { clientId: 'cum-moved', connected: true, at: 0 });
    await vi.waitFor(async () =>
      expect(await client.hget('sc:presence:owner', 'cum-moved')).toBe('instance-c'),
    );
    // The device reconnects through D; C's broker closes the old session as a move.
    b.events.emit('broker.connection', { clientId: 'cum-moved', connected: true, at: 1 });
    a.events.emit('broker.moved', { clientId: 'cum-moved', at: 1 });
    await vi.waitFor(async () =>
      expect(await client.hget('sc:presence:owner', 'cum-moved')).toBe('instance-d'),
    );

    // C loses Redis past its lease and comes back: it announces its own sessions, not this one.
    clearInterval((a.liveness as unknown as { timer: NodeJS.Timeout }).timer);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await b.shared.reap();
    await a.liveness.renew();
    expect(a.liveness.held()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await client.hget('sc:presence:owner', 'cum-moved')).toBe('instance-d');
    expect(b.seen.get('cum-moved')).toBe(true);
  });
});
