import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { progress, registerFleet, sizesFrom, startBenchPlatform } from './bench-platform.js';
import { LoadGenerator } from './generator-client.js';
import { connectToReference, freePort, startBareAedes, startMosquitto } from './reference-brokers.js';
import { type BenchResult, percentile } from './report.js';

interface StageRow extends Record<string, number | string> {
  target: string;
  offeredPerS: number;
  sentPerS: number;
  acceptedPerS: number;
  lossPct: number;
  acceptP50Ms: number;
  acceptP99Ms: number;
  storedP50Ms: number;
  storedP99Ms: number;
  loopDelayP99Ms: number | string;
  cpuUsPerHeartbeat: number;
}

/**
 * K device connections (forked load generator) publish QoS 0 heartbeats at rising offered rates,
 * each stage `BENCH_INGEST_STAGE_MS` long. Against the platform: "accepted" is the
 * `device.heartbeat` event (MQTT → ACL → ingress zod parse), latency = event time − heartbeat `ts`
 * (stamped by the generator just before publish); "stored" is when the history store's written
 * counter covers the point (polled every 5 ms; includes the HISTORY_FLUSH_MS batching). Against a
 * bare Aedes and Mosquitto: one subscriber on `#` in this process, latency = receipt − `ts`.
 */
export async function ingestBench(): Promise<BenchResult> {
  const rates = sizesFrom('BENCH_INGEST_RATES', [5000, 10_000, 20_000, 40_000]);
  const connections = sizesFrom('BENCH_INGEST_CONNECTIONS', [1000])[0] ?? 1000;
  const stageMs = Number(process.env.BENCH_INGEST_STAGE_MS ?? 5000);
  const rows: StageRow[] = [];
  const summary: Record<string, number | string> = { connections, stageMs };

  rows.push(...(await platformStages(rates, connections, stageMs, summary)));
  // Bare Aedes 1.2 (default options) died at 40,000/s offered with "Maximum call stack size
  // exceeded" in mqemitter's publish chain, taking the bench down; it is capped unless overridden.
  const aedesMax = Number(process.env.BENCH_INGEST_AEDES_MAX ?? 20_000);
  summary.bareAedesMaxRate = aedesMax;
  rows.push(
    ...(await bareStages(
      'aedes',
      rates.filter((r) => r <= aedesMax),
      connections,
      stageMs,
    )),
  );
  try {
    rows.push(...(await bareStages('mosquitto', rates, connections, stageMs)));
  } catch (error) {
    summary.mosquitto = `not measured: ${(error as Error).message}`;
  }
  for (const rate of rates) {
    const platform = rows.find((r) => r.target === 'platform' && r.offeredPerS === rate);
    const aedes = rows.find((r) => r.target === 'bare aedes' && r.offeredPerS === rate);
    if (platform && aedes) {
      summary[`platform/aedes @${rate}`] =
        `${Math.round((100 * platform.acceptedPerS) / aedes.acceptedPerS)}%`;
      summary[`cpuPerHeartbeatVsBareAedes@${rate}`] =
        Math.round((100 * platform.cpuUsPerHeartbeat) / aedes.cpuUsPerHeartbeat) / 100;
    }
  }
  return {
    scenario: 'ingest',
    title: 'Heartbeat ingest: platform vs bare Aedes vs Mosquitto (load generator in a child process)',
    summary,
    columns: [
      'target',
      'offeredPerS',
      'sentPerS',
      'acceptedPerS',
      'lossPct',
      'acceptP50Ms',
      'acceptP99Ms',
      'storedP50Ms',
      'storedP99Ms',
      'loopDelayP99Ms',
      'cpuUsPerHeartbeat',
    ],
    rows,
  };
}

async function platformStages(
  rates: number[],
  connections: number,
  stageMs: number,
  summary: Record<string, number | string>,
): Promise<StageRow[]> {
  const bench = await startBenchPlatform();
  const generator = new LoadGenerator();
  try {
    const { platform } = bench;
    summary.historyFlushMs = 1000;
    progress(`ingest: registering ${connections} clusters`);
    const { devices, issueMs } = await registerFleet(platform, connections, 'in');
    summary.secretsIssuedPerS = Math.round(connections / (issueMs / 1000));
    const connected = await generator.request(
      { type: 'connect', url: bench.mqttUrl, devices, concurrency: 64, announce: false, ackBot: false },
      'connected',
    );
    summary.platformConnectsPerS = Math.round(connected.connected / (connected.ms / 1000));
    if (connected.failed > 0)
      throw new Error(`${connected.failed} connections failed: ${connected.firstError}`);
    await new Promise((r) => setTimeout(r, 1500));

    const rows: StageRow[] = [];
    for (const rate of rates) {
      await platform.telemetry.flush();
      const acceptLatency: number[] = [];
      const storedLatency: number[] = [];
      const pending: number[] = [];
      let pendingHead = 0;
      let written = platform.telemetry.stats().written;
      const off = platform.events.on('device.heartbeat', ({ heartbeat, at }) => {
        acceptLatency.push(at - heartbeat.ts);
        pending.push(heartbeat.ts);
      });
      const poll = setInterval(() => {
        const now = Date.now();
        const total = platform.telemetry.stats().written;
        for (let n = total - written; n > 0 && pendingHead < pending.length; n--) {
          storedLatency.push(now - (pending[pendingHead++] as number));
        }
        written = total;
      }, 5);
      progress(`ingest: platform at ${rate}/s offered`);
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const cpu0 = processCpuMicros();
      const published = await generator.request(
        { type: 'publish', perSecond: rate, durationMs: stageMs },
        'published',
      );
      loop.disable();
      // Drain: what is still queued is counted, but only if it arrives within 2 s.
      await new Promise((r) => setTimeout(r, 2000));
      await platform.telemetry.flush();
      await new Promise((r) => setTimeout(r, 20));
      const cpu = processCpuMicros() - cpu0;
      off();
      clearInterval(poll);
      rows.push(stageRow('platform', rate, published, acceptLatency, storedLatency, loop, cpu));
    }
    return rows;
  } finally {
    await generator.close();
    await bench.close();
  }
}

function stageRow(
  target: string,
  rate: number,
  published: { sent: number; ms: number },
  latency: number[],
  stored: number[] | null,
  loop: IntervalHistogram | null,
  cpuMicros: number,
): StageRow {
  return {
    target,
    offeredPerS: rate,
    sentPerS: Math.round(published.sent / (published.ms / 1000)),
    acceptedPerS: Math.round(latency.length / (published.ms / 1000)),
    lossPct: Math.round((1000 * (published.sent - latency.length)) / Math.max(1, published.sent)) / 10,
    acceptP50Ms: percentile(latency, 50),
    acceptP99Ms: percentile(latency, 99),
    storedP50Ms: stored ? percentile(stored, 50) : '—',
    storedP99Ms: stored ? percentile(stored, 99) : '—',
    // How late the broker's event loop ran its timers (the broker runs in this process, except Mosquitto).
    loopDelayP99Ms: loop ? Math.round(loop.percentile(99) / 1e5) / 10 : '—',
    // The broker process's CPU over the stage and its drain, per heartbeat it passed on.
    cpuUsPerHeartbeat: Math.round(cpuMicros / Math.max(1, latency.length)),
  } as StageRow;
}

/**
 * A bare broker (no auth, no ACL, no ingress) with one subscriber to every heartbeat: inside the
 * process for Aedes (as the platform reads them), through one MQTT client for Mosquitto.
 */
async function bareStages(
  kind: 'aedes' | 'mosquitto',
  rates: number[],
  connections: number,
  stageMs: number,
): Promise<StageRow[]> {
  const port = await freePort();
  let stopBroker: () => Promise<void>;
  let cpuMicros: () => number;
  let handler: (payload: Buffer) => void = () => undefined;
  let subscriber: mqtt.MqttClient | null = null;
  if (kind === 'aedes') {
    const bare = await startBareAedes(port);
    stopBroker = bare.stop;
    cpuMicros = processCpuMicros;
    await new Promise<void>((resolve) =>
      bare.aedes.subscribe(
        'sc/v1/+/heartbeat',
        (packet, done) => {
          handler(packet.payload as Buffer);
          done();
        },
        () => resolve(),
      ),
    );
  } else {
    const mosquitto = await startMosquitto(port);
    stopBroker = () => mosquitto.stop();
    cpuMicros = () => mosquitto.cpuMicros();
    subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: `bench-sub-${kind}`,
      reconnectPeriod: 0,
    });
    subscriber.on('message', (_topic, payload) => handler(payload));
    await subscriber.subscribeAsync('sc/v1/+/heartbeat', { qos: 0 });
  }
  const generator = new LoadGenerator();
  try {
    await connectToReference(
      generator,
      port,
      Array.from({ length: connections }, (_, i) => `bare-${i}`),
      false,
    );
    const rows: StageRow[] = [];
    for (const rate of rates) {
      const latency: number[] = [];
      handler = (payload) => {
        latency.push(Date.now() - (JSON.parse(payload.toString('utf8')) as { ts: number }).ts);
      };
      progress(`ingest: bare ${kind} at ${rate}/s offered`);
      const loop = kind === 'aedes' ? monitorEventLoopDelay({ resolution: 5 }) : null;
      loop?.enable();
      const cpu0 = cpuMicros();
      const published = await generator.request(
        { type: 'publish', perSecond: rate, durationMs: stageMs },
        'published',
      );
      loop?.disable();
      await new Promise((r) => setTimeout(r, 2000));
      const cpu = cpuMicros() - cpu0;
      handler = () => undefined;
      rows.push(stageRow(`bare ${kind}`, rate, published, latency, null, loop, cpu));
    }
    return rows;
  } finally {
    await generator.close();
    await subscriber?.endAsync(true).catch(() => undefined);
    await stopBroker();
  }
}

/** CPU time (user + system) this process has used so far, in microseconds. */
function processCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
