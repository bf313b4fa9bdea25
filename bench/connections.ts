import { readFileSync } from 'node:fs';
import { measureMemory, progress, registerFleet, sizesFrom, startBenchPlatform } from './bench-platform.js';
import { LoadGenerator } from './generator-client.js';
import type { BenchResult } from './report.js';

/**
 * Memory of the platform process per idle, authenticated device connection (each with its own
 * issued secret, subscribed to its command topic, retained online state published), measured as
 * RSS and heap used after a forced GC, against the same platform with the fleet registered but
 * not connected. Clients run in a forked load generator.
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
  try {
    const { platform } = bench;
    progress(`connections: registering ${largest} clusters`);
    const { devices, issueMs } = await registerFleet(platform, largest, 'cn');
    const base = await measureMemory();
    const rows = [];
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
      rows.push({
        connections: result.connected,
        failed: result.failed,
        rssMb: memory.rssMb,
        heapUsedMb: memory.heapUsedMb,
        rssKbPerConnection: ((memory.rssMb - base.rssMb) * 1024) / result.connected,
        heapKbPerConnection: ((memory.heapUsedMb - base.heapUsedMb) * 1024) / result.connected,
        online: platform.presence.onlineCount(),
      });
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
      },
      columns: [
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
    await generator.close();
    await bench.close();
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
