import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Cluster } from '../../services/cluster/cluster-feature.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import type { PlayLog } from '../../simulators/speaker-cluster/play-log.js';
import { type CommandObserver, observeCommands } from '../support/command-observer.js';
import { ManualClock } from '../support/manual-clock.js';
import { uploadWav } from '../support/media-upload.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import {
  describeLayouts,
  type InstanceLayout,
  instanceConfig,
  instanceLayout,
} from '../support/redis-instances.js';
import { RedisServer } from '../support/redis-server.js';
import { startFleet } from '../support/simulated-fleet.js';

/*
 * The broadcast dispatcher on two in-process platforms sharing one real redis-server and either one
 * data directory, or PostgreSQL with a data directory each (the broadcast log shipped to PostgreSQL
 * by each and copied by the other), as instances behind a load balancer do. A, started first, holds the `dispatcher`
 * lease; the simulated clusters are connected to B over real MQTT, and the operator uses B. A
 * separate MQTT client with the platform's own credential counts every command published to the
 * clusters; the clusters' own play log counts what they played. Leases run on real time; the
 * schedules, the dispatcher and the clusters on one manual clock.
 */
const SIX_AM = Date.UTC(2026, 11, 1, 23, 0, 0);
const CLUSTERS = ['hd-c01', 'hd-c02', 'hd-c03'];
describeLayouts('the dispatcher on two instances, $layout', (postgres) => {
  const clock = new ManualClock(SIX_AM - 5 * 60_000);
  let layout: InstanceLayout | undefined;
  let redis: RedisServer;
  let client: Redis;
  let a: TestPlatform;
  let b: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  let observer: CommandObserver | undefined;
  const plays: PlayLog[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = new Redis(redis.url);
    layout = await instanceLayout(postgres);
    const config = instanceConfig(redis.url, {
      HEARTBEAT_MISSED_LIMIT: 20,
      DISPATCH_LEAD_S: 120,
      ...layout.config,
    });
    a = await startTestPlatform({ clock, config, dataDir: layout.dirs[0] });
    b = await startTestPlatform({ clock, config, dataDir: layout.dirs[1] });
    observer = await observeCommands(b);
    fleet = await startFleet(b, CLUSTERS, { clock, heartbeatIntervalS: 30, plays });
  }, 60_000);
  afterAll(async () => {
    await observer?.close();
    await fleet?.stop();
    await b?.close();
    await a?.close();
    await client?.quit();
    await redis?.cleanup();
    await layout?.cleanup();
  });

  const states = (b: Json) => Object.fromEntries((b.deliveries as Json[]).map((d) => [d.clusterId, d.state]));
  const broadcast = async (t: TestPlatform, id: string) =>
    (await t.api(`/api/v1/broadcasts/${id}`, { as: 'operator' })).body;
  const started = (broadcastId: string) =>
    plays.filter((p) => p.broadcastId === broadcastId && p.msg === 'playback started').map((p) => p.deviceId);
  /** Every play command published for a broadcast: `<cluster> <command id>`. */
  const playsOf = (broadcastId: string) =>
    (observer?.commands ?? [])
      .filter((c) => c.type === 'play' && c.broadcastId === broadcastId)
      .map((c) => `${c.clusterId} ${c.id}`);
  const published = () => JSON.stringify(observer?.commands.filter((c) => c.type === 'play'));
  /** Moves the shared clock second by second, letting real I/O catch up, until `done` holds. */
  const advanceUntil = async (until: number, done: () => Promise<boolean>) => {
    while (clock.now() < until) {
      clock.advance(Math.min(1_000, until - clock.now()));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await vi.waitFor(async () => expect(await done()).toBe(true), { timeout: 15_000, interval: 100 });
  };

  it('sends a due schedule and an emergency asked of the other instance once, each played once by every cluster', async () => {
    const holder = (await client.get('sc:lease:dispatcher'))?.split(' ')[0];
    const cluster = (a.platform as unknown as { use(name: 'cluster'): Cluster }).use('cluster');
    expect(holder).toBe(cluster.instanceId);
    expect(a.platform.broadcasts.dispatcher.running()).toBe(true);
    expect(b.platform.broadcasts.dispatcher.running()).toBe(false);

    const morning = await uploadWav(b, 2);
    const warning = await uploadWav(b, 2);
    const long = await uploadWav(b, 60);
    // A stop asked of B is carried out by the holder and answered by B as the holder would.
    const relay = await b.api('/api/v1/broadcasts/emergency?waitMs=8000', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Thông báo dài',
        content: { kind: 'media', mediaId: long },
        targets: { clusterIds: CLUSTERS },
      },
    });
    expect(relay.status, JSON.stringify(relay.body)).toBe(201);
    const stopped = await b.api(`/api/v1/broadcasts/${relay.body.id}/stop`, {
      method: 'POST',
      as: 'operator',
    });
    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    expect(stopped.body.status).toBe('stopped');
    const again = await b.api(`/api/v1/broadcasts/${relay.body.id}/stop`, { method: 'POST', as: 'operator' });
    expect(again.status, JSON.stringify(again.body)).toBe(409);

    const created = await b.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Bản tin sáng',
        level: 'normal',
        content: { kind: 'media', mediaId: morning },
        start: '2026-12-02T06:00',
        targets: { clusterIds: CLUSTERS },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const ofTheDay = async () =>
      (
        (
          await b.api('/api/v1/broadcasts?from=2026-12-01T17:00:00Z&to=2026-12-02T17:00:00Z', {
            as: 'operator',
          })
        ).body.items as Json[]
      ).filter((x) => x.kind === 'scheduled');
    // Two minutes ahead the plays go out; the clusters accept them before the clock moves on.
    await advanceUntil(SIX_AM - 119_000, async () => {
      const [scheduled] = await ofTheDay();
      return scheduled !== undefined && Object.values(states(scheduled)).every((s) => s === 'accepted');
    });
    await advanceUntil(SIX_AM + 4_000, async () => {
      const [scheduled] = await ofTheDay();
      return scheduled !== undefined && Object.values(states(scheduled)).every((s) => s === 'done');
    });
    const [scheduled] = await ofTheDay();
    expect(started(scheduled.id).sort()).toEqual(CLUSTERS);
    expect(playsOf(scheduled.id), published()).toHaveLength(CLUSTERS.length);

    // The emergency asked of B, which does not hold the engine: B's answer waits for the clusters'
    // answers as the holder's would.
    const emergency = await b.api('/api/v1/broadcasts/emergency?waitMs=8000', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Cảnh báo lũ',
        content: { kind: 'media', mediaId: warning },
        targets: { clusterIds: CLUSTERS },
      },
    });
    expect(emergency.status, JSON.stringify(emergency.body)).toBe(201);
    for (const state of Object.values(states(emergency.body)))
      expect(['accepted', 'playing', 'done']).toContain(state);
    await advanceUntil(clock.now() + 4_000, async () =>
      Object.values(states(await broadcast(b, emergency.body.id))).every((s) => s === 'done'),
    );
    expect(started(emergency.body.id).sort()).toEqual(CLUSTERS);
    // Each delivery's command went out once, from one instance.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(playsOf(emergency.body.id)).toHaveLength(CLUSTERS.length);
    expect(playsOf(scheduled.id)).toHaveLength(CLUSTERS.length);
    expect(await broadcast(a, emergency.body.id)).toMatchObject({ status: 'finished' });
  }, 120_000);

  it("records each cluster's presence history once, on the holder of its lease, and both instances show it", async () => {
    const range = `from=${new Date(SIX_AM - 3_600_000).toISOString()}&to=${new Date(clock.now() + 60_000).toISOString()}`;
    const historyOn = async (t: TestPlatform, id: string) => {
      const res = await t.api(`/api/v1/devices/${id}/presence?${range}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as { items: { online: boolean; startedAt: string }[]; total: number };
    };
    for (const id of CLUSTERS) {
      await vi.waitFor(async () => {
        const [onA, onB] = [await historyOn(a, id), await historyOn(b, id)];
        // Online since the fleet connected, one period, whichever instance answers.
        expect(onA.items.filter((p) => p.online)).toHaveLength(1);
        expect(onB).toEqual(onA);
      });
    }
  });
});
