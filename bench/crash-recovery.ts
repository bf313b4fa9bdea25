import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { SimulatedFleet } from '../simulators/speaker-cluster/fleet.js';
import { type PlayLog, playLogSink } from '../simulators/speaker-cluster/play-log.js';
import { PlatformProcess } from '../test/support/platform-process.js';
import { BENCH_ADMIN_PASSWORD, progress, registerFleet, startBenchPlatform } from './bench-platform.js';
import { freePort } from './reference-brokers.js';
import type { BenchResult } from './report.js';
import { wavTone } from './wav.js';

/**
 * An emergency bulletin to N simulated clusters (default 500, `BENCH_CRASH_CLUSTERS`) while the
 * platform, a child process, is killed with SIGKILL at several moments and started again on the
 * same data directory and ports. The clusters are full SimulatedClusters in this process: they
 * download the media over HTTP, play it for its 3 s, and outlive every kill. What they played is
 * read from their own logs and compared with the record, cluster by cluster.
 */
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'main.js');
const PLAY_S = 3;
/** [name, kill this long after the POST answered, stay down this long]. */
const ALL_MOMENTS: [string, number, number][] = [
  ['at the POST', 0, 0],
  ['150 ms after', 150, 0],
  ['1 s after (downloads, first acks)', 1_000, 0],
  ['mid-play', 2_000, 0],
  ['near the end', 3_200, 0],
  ['during the done acks', 4_000, 0],
  ['mid-play, down 10 s', 2_000, 10_000],
];
/** `BENCH_CRASH_MOMENTS=0,6` runs only those moments (indices into the list above). */
const MOMENTS = process.env.BENCH_CRASH_MOMENTS
  ? process.env.BENCH_CRASH_MOMENTS.split(',').flatMap((i) => ALL_MOMENTS.slice(Number(i), Number(i) + 1))
  : ALL_MOMENTS;

export async function crashRecoveryBench(): Promise<BenchResult> {
  const count = Math.max(1, Number(process.env.BENCH_CRASH_CLUSTERS ?? 500));
  // Registered by an in-process platform on the data directory the child then runs on.
  const setup = await startBenchPlatform();
  const { dataDir } = setup;
  progress(`crash-recovery: registering ${count} clusters`);
  const { devices } = await registerFleet(setup.platform, count, 'cr');
  await setup.platform.stop();

  const ports = { http: await freePort(), mqtt: await freePort() };
  const platform = new PlatformProcess({
    main: MAIN,
    dataDir,
    httpPort: ports.http,
    mqttPort: ports.mqtt,
    adminPassword: BENCH_ADMIN_PASSWORD,
    startTimeoutMs: 60_000,
  });
  const base = platform.baseUrl;
  const login = async () => {
    const response = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: BENCH_ADMIN_PASSWORD }),
    });
    if (response.status !== 200) throw new Error(`admin login answered ${response.status}`);
    return { cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] as string };
  };

  const played: PlayLog[] = [];
  const fleet = new SimulatedFleet({
    devices: devices.map((d) => ({ deviceId: d.id, secret: d.secret })),
    url: `mqtt://127.0.0.1:${ports.mqtt}`,
    logger: pino({ level: 'info' }, playLogSink(played)),
    heartbeatIntervalS: 30,
  });
  const rows: Record<string, number | string>[] = [];
  try {
    await platform.start();
    let headers = await login();
    const form = new FormData();
    form.append('file', new Blob([wavTone(PLAY_S)], { type: 'audio/wav' }), 'canh-bao.wav');
    const upload = await fetch(`${base}/api/v1/media`, { method: 'POST', body: form, headers });
    const media = (await upload.json()) as { id?: string };
    if (upload.status !== 201 || !media.id) throw new Error(`media upload answered ${upload.status}`);
    progress(`crash-recovery: connecting ${count} simulated clusters`);
    await fleet.start();
    await until(() => fleet.status().every((s) => s.connected), 60_000, 'clusters connected');

    for (const [name, killAfterMs, downMs] of MOMENTS) {
      // Every cluster back from the previous trial's restart (their reconnect backoff grows with
      // each failed attempt): a cluster still away at the POST would be missed, and rightly so.
      await until(
        async () => {
          const health = (await (await fetch(`${base}/healthz`)).json()) as { devicesOnline: number };
          return health.devicesOnline === count;
        },
        120_000,
        'every cluster online',
      );
      progress(`crash-recovery: killed ${name}`);
      const sent = await fetch(`${base}/api/v1/broadcasts/emergency?waitMs=0`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Cảnh báo lũ',
          content: { kind: 'media', mediaId: media.id },
          targets: { communeIds: ['bench-cr'] },
        }),
      });
      const broadcast = (await sent.json()) as { id: string };
      if (sent.status !== 201)
        throw new Error(`emergency answered ${sent.status}: ${JSON.stringify(broadcast)}`);
      await new Promise((r) => setTimeout(r, killAfterMs));
      await platform.kill();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      const restartedAt = Date.now();
      await platform.start();
      headers = await login();

      type Delivery = {
        clusterId: string;
        state: string;
        heard: boolean | null;
        reason: string | null;
        startedAt: string | null;
      };
      let deliveries: Delivery[] = [];
      const finalStates = new Set(['done', 'failed', 'missed', 'pre-empted', 'expired', 'stopped']);
      const allFinal = async () => {
        const response = await fetch(`${base}/api/v1/broadcasts/${broadcast.id}`, { headers });
        deliveries = ((await response.json()) as { deliveries: Delivery[] }).deliveries;
        return deliveries.length === count && deliveries.every((d) => finalStates.has(d.state));
      };
      const settled = await until(allFinal, 180_000, 'every delivery final', false);
      const finalAfterS = (Date.now() - restartedAt) / 1000;
      // Late plays, if any, would show up now.
      await new Promise((r) => setTimeout(r, 2_000));

      const own = new Map<string, PlayLog[]>();
      for (const p of played) {
        if (p.broadcastId !== broadcast.id) continue;
        own.set(p.deviceId, [...(own.get(p.deviceId) ?? []), p]);
      }
      let once = 0;
      let twice = 0;
      let never = 0;
      let matches = 0;
      let startTimes = 0;
      for (const d of deliveries) {
        const lines = own.get(d.clusterId) ?? [];
        const starts = lines.filter((p) => p.msg === 'playback started').length;
        const completed = lines.filter((p) => p.msg === 'playback finished' && p.code === 'completed').length;
        if (starts === 0) never++;
        if (starts > 1) twice++;
        if (starts === 1 && completed === 1) once++;
        // The record matches when it says done exactly for a cluster that played to the end, and
        // heard exactly for one that made a sound.
        if ((d.state === 'done') === (completed === 1) && Boolean(d.heard) === starts > 0) matches++;
        if ((d.startedAt !== null) === starts > 0) startTimes++;
      }
      const states: Record<string, number> = {};
      for (const d of deliveries) {
        const key = d.state === 'done' ? d.state : `${d.state} (${d.reason ?? 'no reason'})`;
        states[key] = (states[key] ?? 0) + 1;
      }
      rows.push({
        moment: name,
        killAfterMs,
        downS: downMs / 1000,
        playedOnceToEnd: `${once}/${count}`,
        playedTwice: twice,
        neverPlayed: never,
        recordMatches: `${matches}/${count}`,
        startTimeRecorded: `${startTimes}/${count}`,
        allFinalAfterRestartS: settled ? finalAfterS : 'no',
        states: Object.entries(states)
          .map(([k, v]) => `${k}:${v}`)
          .join(' '),
      });
    }
  } finally {
    await fleet.stop();
    await platform.kill();
    await setup.close();
  }
  const perfect = rows.filter(
    (r) => r.playedOnceToEnd === `${count}/${count}` && r.recordMatches === `${count}/${count}`,
  );
  return {
    scenario: 'crash-recovery',
    title: `Emergency to ${count} simulated clusters through platform crashes (SIGKILL, platform in a child process)`,
    summary: {
      clusters: count,
      trials: rows.length,
      trialsAllPlayedOnceAndRecorded: perfect.length,
      playS: PLAY_S,
    },
    columns: [
      'moment',
      'killAfterMs',
      'downS',
      'playedOnceToEnd',
      'playedTwice',
      'neverPlayed',
      'recordMatches',
      'startTimeRecorded',
      'allFinalAfterRestartS',
      'states',
    ],
    rows,
  };
}

/** Polls `check` until it holds; false (or an error when `strict`) at the deadline. */
async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  strict = true,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return true;
    } catch {
      // The platform is still starting.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (strict) throw new Error(`timed out waiting for ${what}`);
  return false;
}
