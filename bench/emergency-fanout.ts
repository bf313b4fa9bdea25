import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BenchPlatform, type FleetDevice, progress, registerFleet } from './bench-platform.js';
import type { LoadGenerator } from './generator-client.js';
import { wavTone } from './wav.js';

/*
 * The emergency fan-out the `fanout` and `fanout-postgres` scenarios share: registered,
 * authenticated clusters as minimal ack-bots (one mqtt.js connection each in the forked load
 * generator, acking `accepted` then `done` at once; no media fetch, no playback time), and one
 * emergency bulletin to the first N of them timed from just before
 * `POST /api/v1/broadcasts/emergency` to the platform's `device.ack` events.
 */

export interface FanoutFleet {
  devices: FleetDevice[];
  /** Time spent issuing the device secrets. */
  issueMs: number;
  /** Time spent registering the clusters and issuing their secrets. */
  registerMs: number;
  connected: { connected: number; failed: number; ms: number };
  /** The admin's session cookie. */
  cookie: string;
  /** The bulletin every emergency plays. */
  mediaId: string;
}

export interface EmergencyRun {
  broadcastId: string;
  /** Date.now() just before the POST. */
  t0: number;
  /** Per cluster, ms from t0 to its `done` (clusters that never answered are missing). */
  done: number[];
  /** Per cluster, ms from t0 to its `accepted`. */
  accepted: number[];
  httpMs: number;
  summary: Record<string, number> | undefined;
  /** Deliveries whose command was sent more than once. */
  resent: number;
  /** CPU time (user + system) of this process from t0 to the last `done`, in ms. */
  cpuMs: number;
}

/**
 * Registers `count` clusters, connects them as ack-bots through `generator` and waits until the
 * platform counts them online; then signs in and uploads the bulletin.
 */
export async function prepareFanoutFleet(
  bench: BenchPlatform,
  generator: LoadGenerator,
  count: number,
  prefix: string,
  label: string,
): Promise<FanoutFleet> {
  const { platform } = bench;
  progress(`${label}: registering ${count} clusters and issuing their secrets`);
  const registered = performance.now();
  const { devices, issueMs } = await registerFleet(platform, count, prefix);
  const registerMs = performance.now() - registered;
  progress(`${label}: connecting ${count} ack-bots`);
  const connected = await generator.request(
    { type: 'connect', url: bench.mqttUrl, devices, concurrency: 64, announce: true, ackBot: true },
    'connected',
  );
  if (connected.failed > 0)
    progress(`${label}: ${connected.failed} connections failed: ${connected.firstError}`);
  const deadline = Date.now() + 60_000;
  while (platform.presence.onlineCount() < connected.connected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const cookie = await bench.login();
  const form = new FormData();
  form.append('file', new Blob([wavTone(2)], { type: 'audio/wav' }), 'ban-tin-khan-cap.wav');
  const upload = await fetch(`${bench.httpUrl}/api/v1/media`, {
    method: 'POST',
    body: form,
    headers: { cookie },
  });
  const media = (await upload.json()) as { id?: string };
  if (upload.status !== 201 || !media.id) throw new Error(`media upload answered ${upload.status}`);
  return { devices, issueMs, registerMs, connected, cookie, mediaId: media.id };
}

/** One emergency bulletin to the fleet's first `size` clusters; resolves once all acked `done` (or 30 s). */
export async function sendEmergency(
  bench: BenchPlatform,
  fleet: FanoutFleet,
  size: number,
  name: string,
): Promise<EmergencyRun> {
  const { platform } = bench;
  const targets = new Set(fleet.devices.slice(0, size).map((d) => d.id));
  const doneAt = new Map<string, number>();
  const acceptedAt = new Map<string, number>();
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  let cpuAtDone: NodeJS.CpuUsage | null = null;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const off = platform.events.on('device.ack', ({ deviceId, ack, at }) => {
    if (!targets.has(deviceId)) return;
    const seen = ack.status === 'done' ? doneAt : ack.status === 'accepted' ? acceptedAt : null;
    if (!seen || seen.has(deviceId)) return;
    seen.set(deviceId, at - t0);
    if (doneAt.size === size && !cpuAtDone) {
      cpuAtDone = process.cpuUsage(cpu0);
      allDone();
    }
  });
  const response = await fetch(`${bench.httpUrl}/api/v1/broadcasts/emergency?waitMs=30000`, {
    method: 'POST',
    headers: { cookie: fleet.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({
      name,
      content: { kind: 'media', mediaId: fleet.mediaId },
      targets: { clusterIds: [...targets] },
    }),
  });
  const httpMs = Date.now() - t0;
  const body = (await response.json()) as { id?: string; summary?: Record<string, number> };
  if (response.status !== 201)
    throw new Error(`emergency answered ${response.status}: ${JSON.stringify(body)}`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
  clearTimeout(timer);
  off();
  const cpu = cpuAtDone ?? process.cpuUsage(cpu0);
  // Commands sent more than once: no answer came within the retry backoff (2 s at first).
  const file = new Database(join(bench.dataDir, 'smart-commune.sqlite'), { readonly: true });
  const { n: resent } = file
    .prepare('SELECT COUNT(*) AS n FROM deliveries WHERE broadcast_id = ? AND attempts > 1')
    .get(body.id ?? '') as { n: number };
  file.close();
  return {
    broadcastId: body.id ?? '',
    t0,
    done: [...doneAt.values()],
    accepted: [...acceptedAt.values()],
    httpMs,
    summary: body.summary,
    resent,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}
