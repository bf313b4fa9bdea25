import { progress, registerFleet, sizesFrom, startBenchPlatform } from './bench-platform.js';
import { LoadGenerator } from './generator-client.js';
import { type BenchResult, percentile } from './report.js';

/**
 * N console sockets (socket.io-client, admin session cookie from POST /api/v1/auth/login) watch
 * M registered clusters heartbeating once a second each. Counts `clusters.delta` emissions and the
 * cluster records they carry, per socket, over a measuring window. The devices and the sockets run
 * in two forked children, apart from the platform.
 */
export async function consoleBench(): Promise<BenchResult> {
  const socketCount = sizesFrom('BENCH_CONSOLE_SOCKETS', [100])[0] ?? 100;
  const deviceCount = sizesFrom('BENCH_CONSOLE_DEVICES', [1000])[0] ?? 1000;
  const windowMs = Number(process.env.BENCH_CONSOLE_WINDOW_MS ?? 10_000);
  const bench = await startBenchPlatform();
  const devicesGen = new LoadGenerator();
  const socketsGen = new LoadGenerator();
  try {
    const { platform } = bench;
    progress(`console: registering ${deviceCount} clusters`);
    const { devices } = await registerFleet(platform, deviceCount, 'co');
    const connected = await devicesGen.request(
      { type: 'connect', url: bench.mqttUrl, devices, concurrency: 64, announce: true, ackBot: false },
      'connected',
    );
    const cookie = await bench.login();
    const sockets = await socketsGen.request(
      { type: 'sockets', url: bench.httpUrl, cookie, count: socketCount },
      'sockets-ready',
    );
    progress(`console: ${sockets.connected} sockets; heartbeats for ${windowMs} ms`);
    const load = devicesGen.request(
      { type: 'publish', perSecond: deviceCount, durationMs: windowMs + 2000 },
      'published',
    );
    await new Promise((r) => setTimeout(r, 1000));
    const before = await socketsGen.request({ type: 'socket-stats' }, 'socket-stats');
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, windowMs));
    const cpu = process.cpuUsage(cpu0);
    const after = await socketsGen.request({ type: 'socket-stats' }, 'socket-stats');
    await load;
    const seconds = windowMs / 1000;
    const eventsPerS = after.events.map((n, i) => (n - (before.events[i] ?? 0)) / seconds);
    const recordsPerS = after.records.map((n, i) => (n - (before.records[i] ?? 0)) / seconds);
    const totalRecords = recordsPerS.reduce((a, b) => a + b, 0);
    return {
      scenario: 'console',
      title: 'Console sockets receiving cluster status deltas (devices and sockets in child processes)',
      summary: {
        sockets: sockets.connected,
        devices: connected.connected,
        heartbeatsPerS: deviceCount,
        windowS: seconds,
        platformCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / windowMs) * 100),
      },
      columns: ['metric', 'value'],
      rows: [
        { metric: 'clusters.delta records/s, all sockets', value: totalRecords },
        { metric: 'clusters.delta records/s per socket, p50', value: percentile(recordsPerS, 50) },
        { metric: 'clusters.delta emissions/s per socket, p50', value: percentile(eventsPerS, 50) },
        { metric: 'clusters.delta emissions/s per socket, max', value: Math.max(...eventsPerS) },
        { metric: 'clusters.delta emissions/s per socket, min', value: Math.min(...eventsPerS) },
      ],
    };
  } finally {
    await socketsGen.close();
    await devicesGen.close();
    await bench.close();
  }
}
