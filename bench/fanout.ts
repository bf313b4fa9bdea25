import { execSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { progress, registerFleet, sizesFrom, startBenchPlatform } from './bench-platform.js';
import { LoadGenerator } from './generator-client.js';
import { type BenchResult, percentile } from './report.js';
import { wavTone } from './wav.js';

/**
 * An emergency bulletin to N registered, authenticated clusters. Each cluster is a minimal ack-bot
 * (one mqtt.js connection in a forked load generator, acking `accepted` then `done` at once), not
 * a full SimulatedCluster: no media fetch, no playback time. Latency runs from just before
 * `POST /api/v1/broadcasts/emergency` to the platform's `device.ack` event with status `done`.
 */
export async function fanoutBench(): Promise<BenchResult> {
  const sizes = sizesFrom('BENCH_FANOUT_SIZES', [1000, 10_000]);
  const largest = Math.max(...sizes);
  // The ack-bots announce themselves but do not heartbeat: a long heartbeat timeout keeps the
  // first ones online while the rest connect. Each size's bulletin is the process's first of that
  // size, sent cold, as a real emergency on a quiet platform would be.
  const bench = await startBenchPlatform({ HEARTBEAT_INTERVAL_S: 3600, HEARTBEAT_MISSED_LIMIT: 20 });
  const generator = new LoadGenerator();
  try {
    const { platform } = bench;
    progress(`fanout: registering ${largest} clusters and issuing their secrets`);
    const { devices, issueMs } = await registerFleet(platform, largest, 'fo');
    progress(`fanout: connecting ${largest} ack-bots`);
    const connected = await generator.request(
      { type: 'connect', url: bench.mqttUrl, devices, concurrency: 64, announce: true, ackBot: true },
      'connected',
    );
    if (connected.failed > 0)
      progress(`fanout: ${connected.failed} connections failed: ${connected.firstError}`);
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

    const rows = [];
    // Each size is sent several times: the first bulletin runs cold, and the rest show how much
    // one run differs from the next on a shared two-core machine.
    const runs = Math.max(1, Number(process.env.BENCH_FANOUT_RUNS ?? 3));
    for (const size of sizes.flatMap((n) => Array.from({ length: runs }, () => n))) {
      const run: number = rows.filter((r) => r.clusters === size).length + 1;
      const targets = new Set(devices.slice(0, size).map((d) => d.id));
      const doneAt = new Map<string, number>();
      const acceptedAt = new Map<string, number>();
      const t0 = Date.now();
      const off = platform.events.on('device.ack', ({ deviceId, ack, at }) => {
        if (!targets.has(deviceId)) return;
        const seen = ack.status === 'done' ? doneAt : ack.status === 'accepted' ? acceptedAt : null;
        if (seen && !seen.has(deviceId)) seen.set(deviceId, at - t0);
      });
      const response = await fetch(`${bench.httpUrl}/api/v1/broadcasts/emergency?waitMs=30000`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `Bench ${size} #${run}`,
          content: { kind: 'media', mediaId: media.id },
          targets: { clusterIds: [...targets] },
        }),
      });
      const httpMs = Date.now() - t0;
      const body = (await response.json()) as { id?: string; summary?: Record<string, number> };
      if (response.status !== 201)
        throw new Error(`emergency answered ${response.status}: ${JSON.stringify(body)}`);
      const wait = Date.now() + 30_000;
      while (doneAt.size < size && Date.now() < wait) await new Promise((r) => setTimeout(r, 50));
      off();
      // Commands sent more than once: no answer came within the retry backoff (2 s at first).
      const resent = new Database(join(bench.dataDir, 'smart-commune.sqlite'), { readonly: true });
      const { n: resentCount } = resent
        .prepare('SELECT COUNT(*) AS n FROM deliveries WHERE broadcast_id = ? AND attempts > 1')
        .get(body.id ?? '') as { n: number };
      resent.close();
      const latencies = [...doneAt.values()];
      const accepted = [...acceptedAt.values()];
      progress(
        `fanout ${size}: ${doneAt.size} done in ${Math.max(...latencies)} ms; summary ${JSON.stringify(body.summary)}`,
      );
      rows.push({
        clusters: size,
        run,
        acked: doneAt.size,
        acceptedP50Ms: percentile(accepted, 50),
        doneP50Ms: percentile(latencies, 50),
        doneP99Ms: percentile(latencies, 99),
        doneMaxMs: latencies.length > 0 ? Math.max(...latencies) : Number.NaN,
        httpAnswerMs: httpMs,
        resent: resentCount,
      });
      // Let the finished broadcast settle before the next pre-empts nothing.
      await new Promise((r) => setTimeout(r, 2000));
    }
    return {
      scenario: 'fanout',
      title: 'Emergency bulletin fan-out to registered ack-bot clusters (load generator in a child process)',
      summary: {
        ulimitN: ulimit(),
        secretsIssuedPerS: Math.round(largest / (issueMs / 1000)),
        connectSeconds: Math.round(connected.ms / 100) / 10,
        connectsPerS: Math.round(connected.connected / (connected.ms / 1000)),
        connectFailures: connected.failed,
      },
      columns: [
        'clusters',
        'run',
        'acked',
        'acceptedP50Ms',
        'doneP50Ms',
        'doneP99Ms',
        'doneMaxMs',
        'httpAnswerMs',
        'resent',
      ],
      rows,
    };
  } finally {
    await generator.close();
    await bench.close();
  }
}

export function ulimit(): string {
  try {
    return execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim();
  } catch {
    return 'unknown';
  }
}
