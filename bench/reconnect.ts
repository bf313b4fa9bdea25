import { progress, registerFleet, sizesFrom, startBenchPlatform } from './bench-platform.js';
import { LoadGenerator } from './generator-client.js';
import type { GeneratorDevice } from './load-generator.js';
import { freePort, startBareAedes, startMosquitto } from './reference-brokers.js';
import type { BenchResult } from './report.js';

/** How long a storm may take before the run is recorded as unfinished. */
const STORM_LIMIT_MS = 120_000;
/** MQTT.js' default reconnect period, as firmware built on it retries. */
const RECONNECT_MS = 1000;

type Target = 'platform' | 'bare aedes' | 'mosquitto';

/**
 * A reconnect storm: N clusters connected and announced, then the broker restarts and every one of
 * them reconnects at once (each retrying every second, with a 30 s CONNECT timeout). Timed from the
 * moment the restarted broker listens to the last cluster connected again and, for the platform,
 * to the last one it counts online (authenticated, subscribed and announced). The same clients
 * storm a bare Aedes and Mosquitto in the same run.
 */
export async function reconnectBench(): Promise<BenchResult> {
  const sizes = sizesFrom('BENCH_RECONNECT_SIZES', [1000, 5000, 10_000]);
  const rows: Record<string, number | string>[] = [];
  for (const target of ['platform', 'bare aedes', 'mosquitto'] as const) {
    try {
      rows.push(...(await storms(target, sizes)));
    } catch (error) {
      progress(`reconnect: ${target} not measured: ${(error as Error).message}`);
    }
  }
  const seconds = (target: Target, size: number) =>
    Number(rows.find((r) => r.target === target && r.clusters === size)?.allConnectedS ?? Number.NaN);
  const ratios: Record<string, number> = {};
  for (const size of sizes) {
    ratios[`platformVsBareAedes${size}`] =
      Math.round((seconds('platform', size) / seconds('bare aedes', size)) * 100) / 100;
    ratios[`platformVsMosquitto${size}`] =
      Math.round((seconds('platform', size) / seconds('mosquitto', size)) * 100) / 100;
  }
  return {
    scenario: 'reconnect',
    title: 'Reconnect storm after a broker restart: every cluster at once (clients in a child process)',
    summary: { reconnectPeriodMs: RECONNECT_MS, limitS: STORM_LIMIT_MS / 1000, ...ratios },
    columns: ['target', 'clusters', 'reconnected', 'allConnectedS', 'allOnlineS', 'closes', 'restartS'],
    rows,
  };
}

/** One storm per size against `target`, each with a fleet of its own connected from scratch. */
async function storms(target: Target, sizes: number[]): Promise<Record<string, number | string>[]> {
  const port = await freePort();
  const largest = Math.max(...sizes);
  const rows: Record<string, number | string>[] = [];
  const config = {
    MQTT_PORT: port,
    // The clients do not heartbeat: a long interval keeps them online through the measurement.
    HEARTBEAT_INTERVAL_S: 3600,
    HEARTBEAT_MISSED_LIMIT: 20,
  };
  let devices: GeneratorDevice[];
  let dataDir: string | undefined;
  let closeData: () => Promise<void> = async () => undefined;
  if (target === 'platform') {
    const bench = await startBenchPlatform(config);
    progress(`reconnect: registering ${largest} clusters`);
    devices = (await registerFleet(bench.platform, largest, 'rc')).devices;
    dataDir = bench.dataDir;
    await bench.stop();
    closeData = async () => {
      // Removes the data dir through a platform that starts and stops on it.
      await (await startBenchPlatform(config, { dataDir })).close();
    };
  } else {
    devices = Array.from({ length: largest }, (_, i) => ({
      id: `ref-${String(i).padStart(5, '0')}`,
      secret: '',
    }));
  }
  try {
    for (const size of sizes) {
      const broker = await startBroker(target, port, config, dataDir);
      const generator = new LoadGenerator();
      let restarted: Awaited<ReturnType<typeof startBroker>> | null = null;
      try {
        progress(`reconnect: connecting ${size} clusters to ${target}`);
        const connected = await generator.request(
          {
            type: 'connect',
            url: `mqtt://127.0.0.1:${port}`,
            devices: devices.slice(0, size),
            concurrency: 64,
            announce: true,
            ackBot: true,
            reconnectMs: RECONNECT_MS,
          },
          'connected',
        );
        if (connected.failed > 0)
          throw new Error(`${connected.failed} connections failed: ${connected.firstError}`);
        await generator.request({ type: 'mark-reconnect' }, 'marked');
        const t0 = Date.now();
        await broker.stop();
        restarted = await startBroker(target, port, config, dataDir);
        const listening = Date.now();
        let status = await generator.request({ type: 'reconnect-status' }, 'reconnect-status');
        let onlineAt: number | null = null;
        while (Date.now() - listening < STORM_LIMIT_MS) {
          status = await generator.request({ type: 'reconnect-status' }, 'reconnect-status');
          const online = restarted.online();
          if (onlineAt === null && online !== null && online >= size) onlineAt = Date.now();
          if (status.reconnected >= size && (online === null || onlineAt !== null)) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const finished = status.reconnected >= size;
        progress(
          `reconnect ${target} ${size}: ${status.reconnected} reconnected` +
            (finished ? ` in ${((status.lastAt ?? listening) - listening) / 1000} s` : ' (unfinished)'),
        );
        rows.push({
          target,
          clusters: size,
          reconnected: status.reconnected,
          allConnectedS: finished ? round(((status.lastAt ?? listening) - listening) / 1000) : 'unfinished',
          allOnlineS:
            target !== 'platform'
              ? '—'
              : onlineAt !== null
                ? round((onlineAt - listening) / 1000)
                : 'unfinished',
          closes: status.closes,
          restartS: round((listening - t0) / 1000),
        });
      } finally {
        await generator.close().catch(() => undefined);
        await (restarted ?? broker).stop().catch(() => undefined);
      }
    }
  } finally {
    await closeData();
  }
  return rows;
}

interface RunningBroker {
  /** Clusters the broker's owner counts online (the platform's presence), or null for a bare broker. */
  online(): number | null;
  stop(): Promise<void>;
}

async function startBroker(
  target: Target,
  port: number,
  config: Record<string, number>,
  dataDir: string | undefined,
): Promise<RunningBroker> {
  if (target === 'platform') {
    const bench = await startBenchPlatform(config, { dataDir });
    return { online: () => bench.platform.presence.onlineCount(), stop: () => bench.stop() };
  }
  if (target === 'bare aedes') {
    const bare = await startBareAedes(port, { queue: 'platform' });
    return { online: () => null, stop: bare.stop };
  }
  const mosquitto = await startMosquitto(port);
  return { online: () => null, stop: () => mosquitto.stop() };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
