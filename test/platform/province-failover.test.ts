import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FINAL_DELIVERY_STATES } from '../../services/broadcasts/types.js';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { type PlayLog, playLogSink } from '../../simulators/speaker-cluster/play-log.js';
import { connected, consoleSocket, type Recorded } from '../realtime/console-socket.js';
import {
  type CommandObserver,
  observeCommandsAt,
  type PublishedCommand,
} from '../support/command-observer.js';
import { platformBuild } from '../support/platform-build.js';
import { api, type Json } from '../support/platform-harness.js';
import { PlatformProcess } from '../support/platform-process.js';
import { freshDatabaseName, PostgresServer, postgresSkipReason } from '../support/postgres.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';
import { freePort } from '../support/server-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { silentWav } from '../support/wav.js';

/*
 * A province on three platform instances, each a real child process (the built entry point) with
 * its own data directory, HTTP and MQTT ports, sharing one real PostgreSQL (DATABASE_URL), one
 * real redis-server and one keys directory. 2,000 simulated clusters, registered through the API,
 * run in this process and reach the instances through one address: a TCP proxy that hands each
 * MQTT connection to the next live instance. Real time throughout (the children have no other
 * clock).
 *
 * Healthy: an emergency asked of an instance that does not hold the `dispatcher` lease is sent by
 * the holder alone. Counted on the brokers (an observer on each, with the brokers' own account):
 * every cluster gets one command id, published as many times as the record counts sends — once,
 * unless an answer was late and the holder sent the same command again after its backoff, which
 * the clusters count as a repeat and never play.
 * Failover: the holder, which also took the request, is killed with SIGKILL once the clusters that
 * play four times faster have reported done while the others (a quarter) still play; the dead
 * instance's clusters come back through the proxy to the survivors, one of which takes the lease
 * and goes on from the shared log. Every delivery must end final (done: every cluster played), no
 * cluster may play twice (counted from the clusters' own logs), both survivors' records must say
 * so, and the consoles on both survivors must have heard each delivery's final state.
 */
const skip = postgresSkipReason() ?? redisSkipReason();
const ADMIN_PASSWORD = 'admin-password-for-province-failover';
const INTERNAL_PASSWORD = 'internal-mqtt-password-province-failover';
const COMMUNES = 20;
const PER_COMMUNE = 100;
const PER_VILLAGE = 25;
const CLUSTER_COUNT = COMMUNES * PER_COMMUNE;
/** The bulletin's length; three quarters of the clusters play it four times faster. */
const BULLETIN_S = 8;
const FAST_TIME_SCALE = 4;
const isSlow = (index: number) => index % 4 === 3;
/**
 * The platform's default lease, not the 1.5 s of the lighter instance suites: sharing two cores with
 * two more instances, PostgreSQL, Redis and 2,000 clusters, a holder can stall longer than that,
 * and a healthy run must keep its holder.
 */
const LEASE_MS = 5_000;
/** The lease's lifetime, one renewal round (a third of it), and room for a loaded machine. */
const BOUND_MS = LEASE_MS + LEASE_MS / 3 + 1_500;
/** The dispatcher's first wait for an answer before it sends a command again (its default). */
const RETRY_BASE_MS = 2_000;

const communeIds = Array.from({ length: COMMUNES }, (_, c) => `tinh-xa-${String(c).padStart(2, '0')}`);
const clusterId = (c: number, k: number) => `pt-${String(c).padStart(2, '0')}-${String(k).padStart(3, '0')}`;

/** Runs `work` over `items`, at most `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

describe.skipIf(skip !== null)(
  `a province of ${CLUSTER_COUNT} clusters on three instances${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let postgres: PostgresServer;
    let redis: RedisServer;
    let leases: Redis;
    const keysDir = mkdtempSync(join(tmpdir(), 'sc-province-keys-'));
    const dataDirs = [0, 1, 2].map((i) => mkdtempSync(join(tmpdir(), `sc-province-${i}-`)));
    const instances: PlatformProcess[] = [];
    const mqttPorts: number[] = [];
    /** The instances still running. */
    let live = [0, 1, 2];
    const cookies: string[] = [];
    const consoles: Recorded[] = [];
    const observers: CommandObserver[] = [];
    const fleets: SimulatedFleet[] = [];
    const plays: PlayLog[] = [];
    let proxy: TcpProxy;
    let mediaId = '';

    const headers = (i: number) => ({ cookie: cookies[i] as string });
    const signIn = async (i: number) => {
      const login = await api((instances[i] as PlatformProcess).baseUrl, '/api/v1/auth/login', {
        method: 'POST',
        body: { username: 'admin', password: ADMIN_PASSWORD },
      });
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      cookies[i] = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    };
    const call = (i: number, path: string, method = 'GET', body?: unknown) =>
      api((instances[i] as PlatformProcess).baseUrl, path, {
        method,
        headers: headers(i),
        ...(body === undefined ? {} : { body }),
      });
    const created = async (i: number, path: string, body: unknown) => {
      const response = await call(i, path, 'POST', body);
      expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBe(201);
      return response.body as Json;
    };
    /** Which instance holds the `dispatcher` lease: its value is `<host>-<pid>-<random> <fence>`. */
    const holder = async (): Promise<number> => {
      const owner = (await leases.get('sc:lease:dispatcher'))?.split(' ')[0] ?? '';
      return instances.findIndex(
        (p) => p.pid !== undefined && new RegExp(`-${p.pid}-[0-9a-f]+$`).test(owner),
      );
    };
    const onlineOn = async (i: number) =>
      (await call(i, '/api/v1/clusters?online=true&limit=1')).body.total as number;
    const record = async (i: number, broadcastId: string) => {
      const response = await call(i, `/api/v1/broadcasts/${broadcastId}`);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body as Json;
    };
    const countStates = (deliveries: Json[]) => {
      const counts: Record<string, number> = {};
      for (const d of deliveries) counts[d.state] = (counts[d.state] ?? 0) + 1;
      return counts;
    };
    /** Each delivery's latest state as a console heard it. */
    const latestOn = (c: Recorded, broadcastId: string) => {
      const latest = new Map<string, string>();
      for (const batch of c.of('deliveries.delta'))
        for (const d of batch) if (d.broadcastId === broadcastId) latest.set(d.clusterId, d.state);
      return latest;
    };
    const emergency = async (on: number) => {
      const sent = await call(on, '/api/v1/broadcasts/emergency?waitMs=0', 'POST', {
        name: 'Cảnh báo lũ quét',
        content: { kind: 'media', mediaId },
        targets: { communeIds },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      return sent.body.id as string;
    };
    /** What each side knows of a few deliveries still open: for a failure message. */
    const whereOpen = (broadcastId: string, open: Json[], records: { instance: number; own: Json[] }[]) =>
      open.slice(0, 5).map((d) => {
        const id = d.clusterId as string;
        const cluster = fleets.map((f) => f.get(id)).find((c) => c !== undefined);
        return {
          id,
          records: Object.fromEntries(
            records.map((r) => [r.instance, r.own.find((o) => o.clusterId === id)?.state]),
          ),
          consoles: Object.fromEntries(
            live.map((i) => [i, latestOn(consoles[i] as Recorded, broadcastId).get(id)]),
          ),
          played: plays.filter((p) => p.broadcastId === broadcastId && p.deviceId === id).map((p) => p.msg),
          copies: observers[live[0] as number]?.commands.filter(
            (c) => c.broadcastId === broadcastId && c.clusterId === id,
          ).length,
          lastAcks: cluster?.status().lastAcks.slice(-3),
          connected: cluster?.connected,
        };
      });
    const waitFinal = async (on: number, broadcastId: string, timeout: number) => {
      try {
        await vi.waitFor(
          async () => {
            const { deliveries, status } = await record(on, broadcastId);
            const open = (deliveries as Json[]).filter((d) => !FINAL_DELIVERY_STATES.includes(d.state));
            expect(open.length, `record on instance ${on}: ${JSON.stringify(countStates(deliveries))}`).toBe(
              0,
            );
            expect(deliveries).toHaveLength(CLUSTER_COUNT);
            // The broadcast ends with its last delivery (the record may say so a moment later).
            expect(status).toBe('finished');
          },
          { timeout, interval: 1_000 },
        );
      } catch (error) {
        // What every side knows, for the failure message: the records, the brokers, a few clusters.
        const engine = await holder();
        const records = await Promise.all(
          live.map(async (i) => {
            const own = (await record(i, broadcastId)).deliveries as Json[];
            return { instance: i, holdsEngine: i === engine, states: countStates(own), own };
          }),
        );
        const commanded = new Set(
          observers.flatMap((o) =>
            o.commands.filter((c) => c.broadcastId === broadcastId).map((c) => c.clusterId),
          ),
        ).size;
        const open = (records.find((r) => r.instance === on)?.own ?? []).filter(
          (d) => !FINAL_DELIVERY_STATES.includes(d.state),
        );
        const summary = records.map(({ own: _own, ...r }) => r);
        throw new Error(
          `${(error as Error).message}\nrecords: ${JSON.stringify(summary)}; ` +
            `the brokers carried a play to ${commanded} clusters; open ones: ` +
            JSON.stringify(whereOpen(broadcastId, open, records)),
        );
      }
      return record(on, broadcastId);
    };
    const duplicatesOnClusters = () =>
      fleets.flatMap((f) => f.status()).reduce((n, status) => n + status.duplicateCommands, 0);
    const startedPlays = (broadcastId: string) =>
      plays.filter((p) => p.broadcastId === broadcastId && p.msg === 'playback started');

    beforeAll(async () => {
      const build = await platformBuild();
      const t0 = performance.now();
      [postgres, redis] = await Promise.all([PostgresServer.create(), RedisServer.start()]);
      leases = new Redis(redis.url);
      const databaseUrl = await postgres.createDatabase(freshDatabaseName('province'));
      for (const dataDir of dataDirs) {
        const mqttPort = await freePort();
        mqttPorts.push(mqttPort);
        instances.push(
          new PlatformProcess({
            main: join(build, 'bin', 'main.js'),
            dataDir,
            httpPort: await freePort(),
            mqttPort,
            adminPassword: ADMIN_PASSWORD,
            env: {
              DATABASE_URL: databaseUrl,
              REDIS_URL: redis.url,
              CLUSTER_LEASE_MS: String(LEASE_MS),
              KEYS_DIR: keysDir,
              // The brokers' own account, so an observer can count what each carries.
              MQTT_INTERNAL_PASSWORD: INTERNAL_PASSWORD,
              // Presence comes from sessions here: no heartbeat deadline passes during the suite.
              HEARTBEAT_INTERVAL_S: '600',
            },
            startTimeoutMs: 60_000,
          }),
        );
      }
      // The first migrates the database and seeds the admin; the province is registered on it
      // before the others start, which then copy the registry in one pass.
      await (instances[0] as PlatformProcess).start();
      await signIn(0);
      const t1 = performance.now();
      const devices: { deviceId: string; secret: string; slow: boolean }[] = [];
      const villages: { id: string; communeId: string }[] = [];
      const clusters: { id: string; villageId: string; c: number; k: number }[] = [];
      for (const [c, communeId] of communeIds.entries()) {
        await created(0, '/api/v1/communes', { id: communeId, name: `Xã ${c}` });
        for (let k = 0; k < PER_COMMUNE; k++) {
          const villageId = `${communeId}-t${Math.floor(k / PER_VILLAGE)}`;
          if (k % PER_VILLAGE === 0) villages.push({ id: villageId, communeId });
          clusters.push({ id: clusterId(c, k), villageId, c, k });
        }
      }
      await inParallel(villages, 4, async (v) => {
        await created(0, '/api/v1/villages', { id: v.id, communeId: v.communeId, name: `Thôn ${v.id}` });
      });
      await inParallel(clusters, 10, async ({ id, villageId, c, k }) => {
        await created(0, '/api/v1/clusters', {
          id,
          villageId,
          name: `Cụm ${id}`,
          location: { lat: 21 + c / 100, lon: 105 + k / 1000 },
        });
        const issued = await created(0, `/api/v1/clusters/${id}/credentials`, {});
        devices.push({ deviceId: id, secret: issued.secret as string, slow: isSlow(k) });
      });
      const registeredMs = performance.now() - t1;
      const form = new FormData();
      const wav = silentWav(BULLETIN_S, { sampleRate: 1_000, bitsPerSample: 8 });
      form.append('file', new Blob([wav], { type: 'audio/wav' }), 'canh-bao.wav');
      const upload = await fetch(`${(instances[0] as PlatformProcess).baseUrl}/api/v1/media`, {
        method: 'POST',
        body: form,
        headers: headers(0),
      });
      const media = (await upload.json()) as Json;
      expect(upload.status, JSON.stringify(media)).toBe(201);
      mediaId = media.id as string;

      await Promise.all(instances.slice(1).map((p) => p.start()));
      await Promise.all([1, 2].map(signIn));
      await vi.waitFor(async () => expect(await holder()).toBeGreaterThanOrEqual(0), { timeout: 10_000 });

      const credential = { username: '_platform', password: INTERNAL_PASSWORD };
      for (const port of mqttPorts)
        observers.push(await observeCommandsAt(`mqtt://127.0.0.1:${port}`, credential));
      for (const [i, p] of instances.entries()) {
        const c = consoleSocket(p.baseUrl, { headers: headers(i) });
        consoles.push(c);
        await connected(c);
      }

      proxy = new TcpProxy(mqttPorts.map((port) => ({ host: '127.0.0.1', port })));
      const proxyPort = await proxy.start();
      const logger = pino({ level: 'info' }, playLogSink(plays));
      for (const slow of [false, true]) {
        const fleet = new SimulatedFleet({
          devices: devices.filter((d) => d.slow === slow),
          url: `mqtt://127.0.0.1:${proxyPort}`,
          logger,
          // The platform hears of clusters from their sessions; heartbeats would only add load.
          heartbeatIntervalS: 600,
          timeScale: slow ? 1 : FAST_TIME_SCALE,
        });
        fleets.push(fleet);
        await fleet.start();
      }
      await vi.waitFor(
        async () => {
          for (const i of [0, 1, 2]) expect(await onlineOn(i)).toBe(CLUSTER_COUNT);
        },
        { timeout: 60_000, interval: 1_000 },
      );
      // Every instance carries its share of the province.
      for (const port of mqttPorts) expect(proxy.openTo(port)).toBeGreaterThan(CLUSTER_COUNT / 4);
      process.stderr.write(
        `[province-failover] ${CLUSTER_COUNT} clusters registered through the API in ${Math.round(registeredMs)} ms; ` +
          `all online on three instances ${Math.round(performance.now() - t0)} ms after the build\n`,
      );
    }, 170_000);

    afterAll(async () => {
      try {
        for (const c of consoles) c.socket.disconnect();
        await Promise.all(observers.map((o) => o.close()));
        await Promise.all(fleets.map((f) => f.stop()));
      } finally {
        await proxy?.close();
        await Promise.all(instances.map((p) => p.kill()));
        await leases?.quit();
        await redis?.cleanup();
        await postgres?.cleanup();
        for (const dir of [...dataDirs, keysDir]) rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);

    it('sends each due delivery from the lease holder alone: one command per cluster, repeated only as its recorded retry', async () => {
      const sender = await holder();
      const lease = await leases.get('sc:lease:dispatcher');
      const asked = (sender + 1) % 3;
      const duplicatesBefore = duplicatesOnClusters();
      const broadcastId = await emergency(asked);
      const { deliveries } = await waitFinal(asked, broadcastId, 60_000);
      // A healthy run: the holder kept the lease throughout (same holder, same fence).
      expect(await leases.get('sc:lease:dispatcher'), 'the lease moved during the run').toBe(lease);
      expect(countStates(deliveries)).toEqual({ done: CLUSTER_COUNT });
      const answered = (deliveries as Json[])
        .map((d) => Date.parse(d.acceptedAt) - Date.parse(d.sentAt))
        .sort((x, y) => x - y);
      const sends = new Map((deliveries as Json[]).map((d) => [d.clusterId as string, d.attempts as number]));
      const retries = [...sends.values()].reduce((n, a) => n + a - 1, 0);

      const senderHttp = new URL((instances[sender] as PlatformProcess).baseUrl).host;
      for (const [b, observer] of observers.entries()) {
        // The brokers share one emitter: a command published on any instance reaches every broker
        // once, so each broker sees every publish of every instance.
        const copies = new Map<string, PublishedCommand[]>();
        for (const c of observer.commands)
          if (c.broadcastId === broadcastId && c.type === 'play')
            copies.set(c.clusterId, [...(copies.get(c.clusterId) ?? []), c]);
        expect(copies.size, `broker ${b}`).toBe(CLUSTER_COUNT);
        const wrong: string[] = [];
        for (const [clusterId, sent] of copies) {
          // One command id for the delivery's whole life, so the cluster de-duplicates a retry.
          if (new Set(sent.map((c) => c.id)).size !== 1) wrong.push(`${clusterId}: several ids`);
          // Nothing published that the holder did not count as a send of this delivery.
          if (sent.length !== sends.get(clusterId)) wrong.push(`${clusterId}: ${sent.length} copies`);
          // Built by the holder: the media address is its own HTTP port.
          if (sent.some((c) => new URL(c.mediaUrl ?? 'http://none').host !== senderHttp))
            wrong.push(`${clusterId}: built by another instance`);
          // A second copy is a retry after the backoff, never a second sender at the same moment.
          const issued = sent.map((c) => c.issuedAt ?? 0).sort((x, y) => x - y);
          for (let i = 1; i < issued.length; i++)
            if ((issued[i] as number) - (issued[i - 1] as number) < RETRY_BASE_MS)
              wrong.push(
                `${clusterId}: copies ${(issued[i] as number) - (issued[i - 1] as number)} ms apart`,
              );
        }
        expect(wrong.slice(0, 10), `broker ${b}: ${wrong.length} deliveries`).toEqual([]);
        expect(new Set([...copies.values()].map((sent) => sent[0]?.id)).size, `broker ${b}`).toBe(
          CLUSTER_COUNT,
        );
      }
      // The clusters counted the same retries as repeats of a command they had, and played each once.
      expect(duplicatesOnClusters() - duplicatesBefore).toBe(retries);
      const played = startedPlays(broadcastId).map((p) => p.deviceId);
      expect(played.length).toBe(CLUSTER_COUNT);
      expect(new Set(played).size).toBe(CLUSTER_COUNT);
      process.stderr.write(
        `[province-failover] healthy: ${CLUSTER_COUNT} deliveries, accepted ${answered[CLUSTER_COUNT / 2]} ms ` +
          `(median) and ${answered[CLUSTER_COUNT - 1]} ms (slowest) after the send; ${retries} retries ` +
          'of the same command after no answer within the backoff\n',
      );
    }, 90_000);

    it('ends every delivery when the holder is killed mid-emergency: no cluster plays twice, the surviving consoles saw it all', async () => {
      // The holder is asked, so the instance that recorded the broadcast dies with the engine.
      const victim = await holder();
      const survivors = [0, 1, 2].filter((i) => i !== victim);
      const watching = survivors[0] as number;
      const broadcastId = await emergency(victim);
      const onWatching = consoles[watching] as Recorded;

      // Mid-emergency: the clusters that play fast have reported done, the others still play.
      const slowCount = CLUSTER_COUNT / 4;
      await vi.waitFor(
        () => {
          const states = [...latestOn(onWatching, broadcastId).values()];
          const heard = countStates(states.map((state) => ({ state })));
          expect(
            states.filter((s) => s === 'done').length,
            `the console on instance ${watching} heard ${JSON.stringify(heard)}`,
          ).toBeGreaterThanOrEqual(CLUSTER_COUNT - slowCount);
        },
        { timeout: 30_000, interval: 50 },
      );
      const atKill = [...latestOn(onWatching, broadcastId).values()];
      const openAtKill = atKill.filter((s) => !FINAL_DELIVERY_STATES.includes(s as never)).length;
      const victimPort = mqttPorts[victim] as number;
      const onVictim = proxy.openTo(victimPort);
      await (instances[victim] as PlatformProcess).kill();
      live = survivors;
      const killedAt = performance.now();
      expect(openAtKill).toBeGreaterThan(0);
      expect(onVictim).toBeGreaterThan(0);

      await vi.waitFor(async () => expect(survivors).toContain(await holder()), {
        timeout: BOUND_MS + 10_000,
        interval: 100,
      });
      const takeoverMs = performance.now() - killedAt;
      expect(takeoverMs).toBeLessThan(BOUND_MS);

      const { deliveries } = await waitFinal(watching, broadcastId, 90_000);
      const finalMs = performance.now() - killedAt;
      // Every cluster played it: the record says done for each.
      expect(countStates(deliveries)).toEqual({ done: CLUSTER_COUNT });

      // No cluster played twice, by the clusters' own logs, and every one played it.
      const played = startedPlays(broadcastId).map((p) => p.deviceId);
      expect(played.length).toBe(CLUSTER_COUNT);
      expect(new Set(played).size).toBe(CLUSTER_COUNT);

      // Both survivors' records say so, and the consoles on both heard each delivery's final state.
      const engine = await holder();
      await vi.waitFor(
        async () => {
          const seen = await Promise.all(
            survivors.map(async (i) => {
              const { deliveries: own, status: ownStatus } = await record(i, broadcastId);
              const heard = latestOn(consoles[i] as Recorded, broadcastId);
              const unheard = (own as Json[]).filter((d) => heard.get(d.clusterId) !== 'done');
              return {
                instance: i,
                holdsEngine: i === engine,
                status: ownStatus,
                record: countStates(own),
                console: countStates([...heard.values()].map((state) => ({ state }))),
                unheard: unheard.length,
              };
            }),
          );
          const agreed = seen.every(
            (v) => v.status === 'finished' && v.record.done === CLUSTER_COUNT && v.unheard === 0,
          );
          expect(agreed, JSON.stringify(seen)).toBe(true);
        },
        { timeout: 20_000, interval: 1_000 },
      );

      // The dead instance's clusters came back through the proxy to the survivors.
      expect(proxy.openTo(victimPort)).toBe(0);
      expect(proxy.refused).toBe(0);
      await vi.waitFor(
        async () => {
          for (const i of survivors) expect(await onlineOn(i)).toBe(CLUSTER_COUNT);
        },
        { timeout: 30_000, interval: 1_000 },
      );
      process.stderr.write(
        `[province-failover] killed with ${openAtKill} deliveries open and ${onVictim} clusters on it; ` +
          `lease taken over after ${Math.round(takeoverMs)} ms; all final after ${Math.round(finalMs)} ms\n`,
      );
    }, 150_000);
  },
);
