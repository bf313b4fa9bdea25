import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureMemory, progress, registerFleet, sizesFrom, startBenchPlatform } from './bench-platform.js';
import type { ReferenceMemoryRow } from './connections-reference.js';
import { LoadGenerator } from './generator-client.js';
import type { BenchResult } from './report.js';

/**
 * Memory of the platform process per idle, authenticated device connection (each with its own
 * issued secret, subscribed to its command topic, retained online state published), measured as
 * RSS and heap used after a forced GC, against the same platform with the fleet registered but
 * not connected. Clients run in a forked load generator. The same clients then connect to a bare
 * Aedes and to Mosquitto, each measured in a process of its own, for the ratio.
 */
export async function connectionsBench(): Promise<BenchResult> {
  // Each connection is a file descriptor in the platform process: sizes beyond what the process may
  // open are measured at the largest that fits, and the summary says so.
  const fdLimit = openFileLimit();
  const fits = fdLimit === null ? Number.POSITIVE_INFINITY : fdLimit - FD_RESERVE;
  const asked = sizesFrom('BENCH_CONNECTION_SIZES', [1000, 10_000, 20_000]).sort((a, b) => a - b);
  const sizes = [...new Set(asked.map((n) => Math.min(n, fits)))];
  const largest = sizes.at(-1) ?? 1000;
  // The idle clients do not heartbeat: a long interval keeps them online while the fleet connects.
  const bench = await startBenchPlatform({ HEARTBEAT_INTERVAL_S: 3600, HEARTBEAT_MISSED_LIMIT: 20 });
  const generator = new LoadGenerator();
  let closed = false;
  try {
    const { platform } = bench;
    progress(`connections: registering ${largest} clusters`);
    const { devices, issueMs } = await registerFleet(platform, largest, 'cn');
    const base = await measureMemory();
    const rows: Record<string, number | string>[] = [];
    let connectedSoFar = 0;
    let connectMs = 0;
    for (const size of sizes) {
      progress(`connections: connecting up to ${size}`);
      const batch = devices.slice(connectedSoFar, size);
      const result = await generator.request(
        {
          type: 'connect',
          url: bench.mqttUrl,
          devices: batch,
          concurrency: 64,
          announce: true,
          ackBot: true,
        },
        'connected',
      );
      connectMs += result.ms;
      connectedSoFar = size;
      await new Promise((r) => setTimeout(r, 2000));
      const memory = await measureMemory();
      progress(
        `connections: ${size}: heap total ${memory.heapTotalMb.toFixed(1)} MB, external ${memory.externalMb.toFixed(1)} MB (base ${base.heapTotalMb.toFixed(1)} / ${base.externalMb.toFixed(1)})`,
      );
      rows.push({
        target: 'platform',
        connections: result.connected,
        failed: result.failed,
        rssMb: memory.rssMb,
        heapUsedMb: memory.heapUsedMb,
        rssKbPerConnection: ((memory.rssMb - base.rssMb) * 1024) / result.connected,
        heapKbPerConnection: ((memory.heapUsedMb - base.heapUsedMb) * 1024) / result.connected,
        online: platform.presence.onlineCount(),
      });
    }
    await generator.close();
    await bench.close();
    closed = true;
    const ratios: Record<string, number | string> = {};
    for (const kind of ['bare aedes', 'mosquitto'] as const) {
      progress(`connections: ${kind} at ${sizes.join(', ')}`);
      const reference = referenceRows(kind, sizes);
      if (typeof reference === 'string') {
        ratios[kind] = `not measured: ${reference}`;
        continue;
      }
      for (const row of reference) {
        rows.push({
          target: kind,
          connections: row.connections,
          failed: 0,
          online: '—',
          rssMb: row.rssMb,
          heapUsedMb: row.heapUsedMb ?? '—',
          rssKbPerConnection: row.rssKbPerConnection,
          heapKbPerConnection: row.heapKbPerConnection ?? '—',
        });
        const own = rows.find((r) => r.target === 'platform' && r.connections === row.connections);
        if (!own) continue;
        const name = kind === 'bare aedes' ? 'BareAedes' : 'Mosquitto';
        ratios[`rssPerConnectionVs${name}@${row.connections}`] =
          Math.round((Number(own.rssKbPerConnection) / row.rssKbPerConnection) * 100) / 100;
        if (row.heapKbPerConnection !== null)
          ratios[`heapPerConnectionVs${name}@${row.connections}`] =
            Math.round((Number(own.heapKbPerConnection) / row.heapKbPerConnection) * 100) / 100;
      }
    }
    return {
      scenario: 'connections',
      title: 'Memory per idle authenticated device connection (clients in a child process)',
      summary: {
        baselineRssMb: base.rssMb,
        baselineHeapMb: base.heapUsedMb,
        gcForced: base.gc ? 'yes' : 'no',
        openFileLimit: fdLimit ?? 'unknown',
        ...(sizes.length < asked.length || largest < (asked.at(-1) ?? 0)
          ? { clampedFrom: asked.at(-1) ?? 0 }
          : {}),
        secretsIssuedPerS: Math.round(largest / (issueMs / 1000)),
        connectsPerS: Math.round(connectedSoFar / (connectMs / 1000)),
        ...ratios,
      },
      columns: [
        'target',
        'connections',
        'failed',
        'online',
        'rssMb',
        'heapUsedMb',
        'rssKbPerConnection',
        'heapKbPerConnection',
      ],
      rows,
    };
  } finally {
    if (!closed) {
      await generator.close();
      await bench.close();
    }
  }
}

/** A reference broker's rows from a child process (connections-reference.js), or why not. */
function referenceRows(kind: 'bare aedes' | 'mosquitto', sizes: number[]): ReferenceMemoryRow[] | string {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'connections-reference.js');
  const run = spawnSync(process.execPath, ['--expose-gc', script, kind, sizes.join(',')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) return `exited with ${run.status}`;
  try {
    return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as ReferenceMemoryRow[];
  } catch {
    return 'no result';
  }
}

/** Descriptors kept free for the platform's own files, HTTP and the generator's control channel. */
const FD_RESERVE = 500;

/** The process's soft limit on open files (Linux), or null where it cannot be read. */
function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}
