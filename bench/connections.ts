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
  const sizes = sizesFrom('BENCH_CONNECTION_SIZES', [1000, 2000]).sort((a, b) => a - b);
  const largest = sizes.at(-1) ?? 1000;
  const bench = await startBenchPlatform();
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
