import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../devices/index.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';
import { platformBuild } from '../support/platform-build.js';
import { api, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { PlatformProcess } from '../support/platform-process.js';
import { instanceConfig, LEASE_MS } from '../support/redis-instances.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';
import { freePort } from '../support/server-process.js';
import { GATE_CAMERA, registerCamera, startGateCamera } from '../support/simulated-cameras.js';

/*
 * Instance A is a real child process (the built entry point), instance B runs in this process;
 * they share one real redis-server and nothing else. A holds two devices' sessions and the camera
 * poller lease, then is killed with SIGKILL: no DISCONNECT, no will, no release. B must end the
 * sessions of the device that stays away within the lease bound, keep the one that reconnects to
 * it, and take the poller over. B's clock is a manual one (its poll interval); leases and the
 * reaper run on real time, as Redis' expiry does.
 */
const skip = redisSkipReason();
const ADMIN_PASSWORD = 'admin-password-for-crash-tests';
/** The lease's lifetime, one reaper or renewal round (a third of it), and room for a loaded machine. */
const BOUND_MS = LEASE_MS + LEASE_MS / 3 + 1_500;

describe.skipIf(skip !== null)(`an instance killed with SIGKILL${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let redis: RedisServer;
  let child: PlatformProcess;
  let b: TestPlatform;
  let camera: SimulatedCamera;
  const clock = new ManualClock();
  const dataDir = mkdtempSync(join(tmpdir(), 'sc-instance-a-'));
  const clients: mqtt.MqttClient[] = [];
  let mqttPortA = 0;
  const secretsOnA = new Map<string, string>();

  beforeAll(async () => {
    const BUILD = await platformBuild();
    const main = join(BUILD, 'bin', 'main.js');
    redis = await RedisServer.start();
    camera = await startGateCamera(systemClock);
    const shared = {
      REDIS_URL: redis.url,
      CLUSTER_LEASE_MS: String(LEASE_MS),
      SEED_PRESET: 'huong-dao',
      CAMERA_POLL_INTERVAL_S: '5',
      CAMERA_CALL_TIMEOUT_MS: '1500',
      CAMERA_NETWORKS: '127.0.0.0/8',
      // Presence here comes from sessions only: no heartbeat deadline passes during the test.
      HEARTBEAT_INTERVAL_S: '600',
    };
    mqttPortA = await freePort();
    child = new PlatformProcess({
      main,
      dataDir,
      httpPort: await freePort(),
      mqttPort: mqttPortA,
      adminPassword: ADMIN_PASSWORD,
      env: shared,
      startTimeoutMs: 30_000,
    });
    await child.start();
    const login = await api(child.baseUrl, '/api/v1/auth/login', {
      method: 'POST',
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const headers = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] as string };
    for (const id of ['hd-c01', 'hd-c02']) {
      const issued = await api(child.baseUrl, `/api/v1/clusters/${id}/credentials`, {
        method: 'POST',
        headers,
      });
      expect(issued.status, JSON.stringify(issued.body)).toBe(201);
      secretsOnA.set(id, issued.body.secret as string);
    }
    const created = await api(child.baseUrl, '/api/v1/cameras', {
      method: 'POST',
      headers,
      body: { ...GATE_CAMERA, xaddr: camera.addresses().deviceXAddr },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // A started first and holds the poller lease: it polls on its own 5 s interval.
    await vi.waitFor(() => expect(camera.rtspStats().connections).toBeGreaterThan(0), { timeout: 15_000 });

    b = await startTestPlatform({ clock, config: instanceConfig(redis.url, { HEARTBEAT_INTERVAL_S: 600 }) });
    await registerCamera(b, camera, GATE_CAMERA);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await b?.close();
    await child?.kill();
    await camera?.stop();
    await redis?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const statusOnB = async (id: string) => (await b.api(`/api/v1/clusters/${id}`)).body.status;
  const connect = async (url: string, id: string, secret: string) => {
    const client = await mqtt.connectAsync(url, {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    clients.push(client);
    return client;
  };

  it("ends A's sessions on B within the lease bound, keeps the device that reconnected to B, and takes the poller over", async () => {
    const staying = await connect(
      `mqtt://127.0.0.1:${mqttPortA}`,
      'hd-c01',
      secretsOnA.get('hd-c01') as string,
    );
    const moving = await connect(
      `mqtt://127.0.0.1:${mqttPortA}`,
      'hd-c02',
      secretsOnA.get('hd-c02') as string,
    );
    for (const id of ['hd-c01', 'hd-c02']) {
      await vi.waitFor(async () =>
        expect(await statusOnB(id)).toMatchObject({ online: true, reason: 'connect' }),
      );
    }

    const lost = Promise.all(
      [staying, moving].map(
        (c) => new Promise<void>((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve())),
      ),
    );
    await child.kill();
    const killedAt = performance.now();
    await lost;
    // The load balancer sends hd-c02 to B at once; hd-c01 stays away.
    const secretOnB = (await b.platform.registry.issueSecret('hd-c02')).secret;
    await connect(b.mqttUrl, 'hd-c02', secretOnB);

    await vi.waitFor(
      async () =>
        expect(await statusOnB('hd-c01')).toMatchObject({ online: false, reason: 'connection-lost' }),
      { timeout: BOUND_MS + 2_000, interval: 50 },
    );
    const offlineAfterMs = performance.now() - killedAt;
    expect(offlineAfterMs).toBeLessThan(BOUND_MS);
    // Not before A's liveness lapsed: a slow instance is not declared dead early.
    expect(offlineAfterMs).toBeGreaterThan(LEASE_MS / 2);
    expect(await statusOnB('hd-c02')).toMatchObject({ online: true });
    const periods = b.platform.presence.history(
      'hd-c02',
      { from: 0, to: clock.now() + 1 },
      { limit: 10, offset: 0 },
    );
    // No offline period for the device that moved: the online period A recorded goes on (B, which
    // took the `presence-history` lease over, has a file of its own here and records nothing new).
    expect(periods.items.filter((p) => !p.online)).toEqual([]);

    // The poller: every B interval is a chance; the lease passes to B once A's lapses.
    const polls = camera.rtspStats().connections;
    await vi.waitFor(
      () => {
        clock.advance(30_000);
        expect(camera.rtspStats().connections).toBeGreaterThan(polls);
      },
      { timeout: BOUND_MS + 5_000, interval: 250 },
    );
    expect(performance.now() - killedAt).toBeLessThan(BOUND_MS + 3_000);
    // Recorded by B's own poll (stamped with its manual clock), not only learned from A.
    await vi.waitFor(() => expect(b.platform.cameraHealth.status('cam-ubnd').lastPollAt).toBe(clock.now()));
  }, 60_000);
});
