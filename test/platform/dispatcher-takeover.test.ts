import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { FINAL_DELIVERY_STATES } from '../../services/broadcasts/types.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import type { PlayLog } from '../../simulators/speaker-cluster/play-log.js';
import { platformBuild } from '../support/platform-build.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { PlatformProcess } from '../support/platform-process.js';
import {
  describeLayouts,
  type InstanceLayout,
  instanceConfig,
  instanceLayout,
  LEASE_MS,
} from '../support/redis-instances.js';
import { RedisServer } from '../support/redis-server.js';
import { freePort } from '../support/server-process.js';
import { startFleet } from '../support/simulated-fleet.js';
import { wavTone } from '../support/wav.js';

/*
 * Instance A is a real child process (the built entry point) holding the `dispatcher` lease;
 * instance B runs in this process; both share one real redis-server, and one data directory or
 * PostgreSQL (each its own data directory, the broadcast log shipped and copied). The
 * simulated clusters are connected to B. An emergency asked of B is being sent and played by the
 * clusters when A is killed with SIGKILL (no release, nothing flushed at exit): B must take the
 * lease within its bound and go on from the database as after a restart, so that every delivery
 * ends final, no cluster plays twice, and the record says what the clusters played. Real time
 * throughout (the child has no other clock).
 */
const ADMIN_PASSWORD = 'admin-password-for-takeover-tests';
/** The lease's lifetime, one renewal round (a third of it), and room for a loaded machine. */
const BOUND_MS = LEASE_MS + LEASE_MS / 3 + 1_500;
const CLUSTERS = ['hd-c01', 'hd-c02', 'hd-c03', 'hd-c04'];

describeLayouts("the dispatcher's holder killed with SIGKILL, $layout", (postgres) => {
  let redis: RedisServer;
  let client: Redis;
  let child: PlatformProcess;
  let b: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  let layout: InstanceLayout | undefined;
  const plays: PlayLog[] = [];

  beforeAll(async () => {
    const BUILD = await platformBuild();
    redis = await RedisServer.start();
    client = new Redis(redis.url);
    layout = await instanceLayout(postgres);
    const shared = Object.fromEntries(Object.entries(layout.config).map(([k, v]) => [k, String(v)]));
    child = new PlatformProcess({
      main: join(BUILD, 'bin', 'main.js'),
      dataDir: layout.dirs[0],
      httpPort: await freePort(),
      mqttPort: await freePort(),
      adminPassword: ADMIN_PASSWORD,
      env: {
        REDIS_URL: redis.url,
        CLUSTER_LEASE_MS: String(LEASE_MS),
        SEED_PRESET: 'huong-dao',
        ...shared,
      },
      startTimeoutMs: 30_000,
    });
    await child.start();
    await vi.waitFor(async () => expect(await client.get('sc:lease:dispatcher')).toBeTruthy(), {
      timeout: 10_000,
    });
    b = await startTestPlatform({
      clock: systemClock,
      dataDir: layout.dirs[1],
      config: instanceConfig(redis.url, { HEARTBEAT_MISSED_LIMIT: 20, ...layout.config }),
    });
    fleet = await startFleet(b, CLUSTERS, { heartbeatIntervalS: 30, plays });
  }, 240_000);

  afterAll(async () => {
    await fleet?.stop();
    await b?.close();
    await child?.kill();
    await client?.quit();
    await redis?.cleanup();
    await layout?.cleanup();
  });

  it('hands the open deliveries to the survivor, which ends each once and records what played', async () => {
    const holder = async () => (await client.get('sc:lease:dispatcher'))?.split(' ')[0];
    const childHolder = await holder();
    expect(b.platform.broadcasts.dispatcher.running()).toBe(false);

    const form = new FormData();
    form.append('file', new Blob([wavTone(6)], { type: 'audio/wav' }), 'canh-bao.wav');
    const upload = await fetch(`${b.httpUrl}/api/v1/media`, {
      method: 'POST',
      body: form,
      headers: await b.headersFor('operator'),
    });
    const media = (await upload.json()) as Json;
    expect(upload.status, JSON.stringify(media)).toBe(201);
    const emergency = await b.api('/api/v1/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Cảnh báo bão',
        content: { kind: 'media', mediaId: media.id },
        targets: { clusterIds: CLUSTERS },
      },
    });
    expect(emergency.status, JSON.stringify(emergency.body)).toBe(201);
    const id = emergency.body.id as string;
    const started = () => plays.filter((p) => p.broadcastId === id && p.msg === 'playback started');

    // Mid-emergency: the clusters have it and some play it when the holder dies.
    await vi.waitFor(() => expect(started().length).toBeGreaterThan(0), { timeout: 15_000, interval: 50 });
    await child.kill();
    const killedAt = performance.now();
    await vi.waitFor(() => expect(b.platform.broadcasts.dispatcher.running()).toBe(true), {
      timeout: BOUND_MS + 2_000,
      interval: 50,
    });
    expect(performance.now() - killedAt).toBeLessThan(BOUND_MS);
    expect(await holder()).not.toBe(childHolder);

    const final = async () => {
      const record = (await b.api(`/api/v1/broadcasts/${id}`, { as: 'operator' })).body;
      return record as Json;
    };
    await vi.waitFor(
      async () => {
        const record = await final();
        for (const d of record.deliveries as Json[]) expect(FINAL_DELIVERY_STATES).toContain(d.state);
      },
      { timeout: 30_000, interval: 250 },
    );
    const record = await final();
    expect(record.status).toBe('finished');
    const played = started().map((p) => p.deviceId);
    // No cluster played twice.
    expect(played.length).toBe(new Set(played).size);
    // The record matches what the clusters played.
    const done = (record.deliveries as Json[]).filter((d) => d.state === 'done').map((d) => d.clusterId);
    expect(done.sort()).toEqual([...played].sort());
    expect(done.sort()).toEqual(CLUSTERS);
  }, 120_000);
});
