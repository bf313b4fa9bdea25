import { progress, sizesFrom, startBenchPlatform } from './bench-platform.js';
import { LoadGenerator } from './generator-client.js';
import type { BenchResult } from './report.js';

/**
 * One full health sweep (`platform.cameraHealth.sweep()`) over N onboarded SimulatedCameras. The
 * cameras run in a forked child, so the platform process's CPU time is its own. The periodic
 * poller is pushed out (CAMERA_POLL_INTERVAL_S=3600) so only the measured sweep runs.
 */
export async function camerasBench(): Promise<BenchResult> {
  const sizes = sizesFrom('BENCH_CAMERA_SIZES', [100, 1000]);
  const concurrencies = sizesFrom('BENCH_CAMERA_CONCURRENCY', [16, 64]);
  const rows = [];
  const generator = new LoadGenerator();
  try {
    const largest = Math.max(...sizes);
    progress(`cameras: starting ${largest} simulated cameras`);
    const ready = await generator.request({ type: 'cameras', count: largest }, 'cameras-ready');
    for (const concurrency of concurrencies) {
      for (const size of sizes) {
        const bench = await startBenchPlatform({
          CAMERA_POLL_CONCURRENCY: concurrency,
          CAMERA_POLL_INTERVAL_S: 3600,
        });
        try {
          const { platform } = bench;
          await platform.registry.createCommune({ id: 'bench-cam', name: 'Xã Camera' });
          ready.xaddrs.slice(0, size).forEach((xaddr, i) => {
            platform.cameras.create({
              id: `cam-${String(i).padStart(5, '0')}`,
              communeId: 'bench-cam',
              name: `Camera ${i}`,
              xaddr,
              username: 'admin',
              password: 'admin123',
            });
          });
          // Let the start-up sweep (over no cameras) finish.
          await new Promise((r) => setTimeout(r, 200));
          progress(`cameras: sweeping ${size} at concurrency ${concurrency}`);
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const sweep = await platform.cameraHealth.sweep();
          const wallMs = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          rows.push({
            cameras: size,
            concurrency,
            wallMs,
            cpuMs: (cpu.user + cpu.system) / 1000,
            cpuMsPerCamera: (cpu.user + cpu.system) / 1000 / size,
            states: JSON.stringify(sweep.states).replace(/[{}"]/g, ''),
          });
        } finally {
          await bench.close();
        }
      }
    }
    return {
      scenario: 'cameras',
      title: 'Camera health sweep over simulated ONVIF cameras (cameras in a child process)',
      summary: { simulatorStartSeconds: Math.round(ready.ms / 100) / 10 },
      columns: ['cameras', 'concurrency', 'wallMs', 'cpuMs', 'cpuMsPerCamera', 'states'],
      rows,
    };
  } finally {
    await generator.close();
  }
}
