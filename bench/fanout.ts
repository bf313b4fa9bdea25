import { execSync } from 'node:child_process';
import mqtt from 'mqtt';
import { progress, sizesFrom, startBenchPlatform } from './bench-platform.js';
import { prepareFanoutFleet, sendEmergency } from './emergency-fanout.js';
import { LoadGenerator } from './generator-client.js';
import { connectToReference, freePort, startBareAedes, startMosquitto } from './reference-brokers.js';
import { type BenchResult, percentile } from './report.js';

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
    const fleet = await prepareFanoutFleet(bench, generator, largest, 'fo', 'fanout');
    const { connected, issueMs } = fleet;

    const rows: Record<string, number | string>[] = [];
    // Each size is sent several times: the first bulletin runs cold, and the rest show how much
    // one run differs from the next on a shared two-core machine.
    const runs = Math.max(1, Number(process.env.BENCH_FANOUT_RUNS ?? 3));
    for (const size of sizes.flatMap((n) => Array.from({ length: runs }, () => n))) {
      const run: number = rows.filter((r) => r.clusters === size).length + 1;
      const sent = await sendEmergency(bench, fleet, size, `Bench ${size} #${run}`);
      const latencies = sent.done;
      const accepted = sent.accepted;
      progress(
        `fanout ${size}: ${latencies.length} done in ${Math.max(...latencies)} ms; summary ${JSON.stringify(sent.summary)}`,
      );
      rows.push({
        target: 'platform',
        clusters: size,
        run,
        acked: latencies.length,
        acceptedP50Ms: percentile(accepted, 50),
        doneP50Ms: percentile(latencies, 50),
        doneP99Ms: percentile(latencies, 99),
        doneMaxMs: latencies.length > 0 ? Math.max(...latencies) : Number.NaN,
        httpAnswerMs: sent.httpMs,
        resent: sent.resent,
      });
      // Let the finished broadcast settle before the next pre-empts nothing.
      await new Promise((r) => setTimeout(r, 2000));
    }
    // The same fan-out through the reference brokers, with the same ack-bots, after the platform
    // is done (one load at a time on two cores): the ratio is the platform's own cost.
    await generator.close();
    const references: Record<string, number | string>[] = [];
    for (const kind of ['bare aedes', 'mosquitto'] as const) {
      try {
        references.push(...(await referenceFanout(kind, sizes, runs)));
      } catch (error) {
        progress(`fanout: ${kind} not measured: ${(error as Error).message}`);
      }
    }
    rows.push(...references);
    const median = (target: string, size: number) => {
      const values = rows
        .filter((r) => r.target === target && r.clusters === size)
        .map((r) => Number(r.doneMaxMs))
        .sort((a, b) => a - b);
      return values[Math.floor(values.length / 2)] ?? Number.NaN;
    };
    const ratios: Record<string, number | string> = {};
    for (const size of sizes) {
      ratios[`platformVsBareAedes${size}`] =
        Math.round((median('platform', size) / median('bare aedes', size)) * 100) / 100;
      ratios[`platformVsMosquitto${size}`] =
        Math.round((median('platform', size) / median('mosquitto', size)) * 100) / 100;
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
        ...ratios,
      },
      columns: [
        'target',
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
    await generator.close().catch(() => undefined);
    await bench.close();
  }
}

/**
 * One play command to each of `size` ack-bots through a reference broker, timed to the last `done`:
 * a bare Aedes in this process (commands published and acks read in-process, as the platform
 * does), or Mosquitto (through one MQTT client here).
 */
async function referenceFanout(
  kind: 'bare aedes' | 'mosquitto',
  sizes: number[],
  runs: number,
): Promise<Record<string, number | string>[]> {
  const port = await freePort();
  const largest = Math.max(...sizes);
  let stop: () => Promise<void>;
  let send: (topic: string, payload: string) => void;
  let onAck: (handler: (topic: string, payload: Buffer) => void) => Promise<void>;
  let client: mqtt.MqttClient | null = null;
  if (kind === 'bare aedes') {
    // Stock Aedes overflows its stack on a 10,000-message burst; the reference gets the platform's
    // queue, so what it measures is the broker, not that crash.
    const bare = await startBareAedes(port, { queue: 'platform' });
    stop = bare.stop;
    send = (topic, payload) =>
      bare.aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
        () => undefined,
      );
    onAck = (handler) =>
      new Promise((resolve) =>
        bare.aedes.subscribe(
          'sc/v1/+/ack',
          (packet, done) => {
            handler(packet.topic, packet.payload as Buffer);
            done();
          },
          resolve,
        ),
      );
  } else {
    stop = (await startMosquitto(port)).stop;
    const sender = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: 'bench-sender',
      reconnectPeriod: 0,
    });
    (sender.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    client = sender;
    send = (topic, payload) => sender.publish(topic, payload, { qos: 1 });
    onAck = async (handler) => {
      sender.on('message', handler);
      await sender.subscribeAsync('sc/v1/+/ack', { qos: 1 });
    };
  }
  const generator = new LoadGenerator();
  const rows: Record<string, number | string>[] = [];
  try {
    progress(`fanout: connecting ${largest} ack-bots to ${kind}`);
    const devices = Array.from({ length: largest }, (_, i) => `ref-${String(i).padStart(5, '0')}`);
    await connectToReference(generator, port, devices, true);
    let current: { ids: Map<string, number>; t0: number; done: number[] } | null = null;
    await onAck((_topic, payload) => {
      const ack = JSON.parse(payload.toString('utf8')) as { cmdId: string; status: string };
      if (!current || ack.status !== 'done' || !current.ids.has(ack.cmdId)) return;
      current.ids.delete(ack.cmdId);
      current.done.push(Date.now() - current.t0);
    });
    for (const size of sizes.flatMap((n) => Array.from({ length: runs }, () => n))) {
      const run = rows.filter((r) => r.clusters === size).length + 1;
      const ids = new Map<string, number>();
      const t0 = Date.now();
      current = { ids, t0, done: [] };
      for (let i = 0; i < size; i++) {
        const id = `ref-${run}-${size}-${i}`;
        ids.set(id, i);
        send(`sc/v1/${devices[i]}/cmd`, JSON.stringify({ id, type: 'play' }));
      }
      const deadline = Date.now() + 30_000;
      while (ids.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const done = current.done;
      progress(`fanout ${kind} ${size}: ${done.length} done in ${Math.max(...done)} ms`);
      rows.push({
        target: kind,
        clusters: size,
        run,
        acked: done.length,
        acceptedP50Ms: '—',
        doneP50Ms: percentile(done, 50),
        doneP99Ms: percentile(done, 99),
        doneMaxMs: done.length > 0 ? Math.max(...done) : Number.NaN,
        httpAnswerMs: '—',
        resent: '—',
      });
      current = null;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return rows;
  } finally {
    await generator.close().catch(() => undefined);
    await client?.endAsync(true).catch(() => undefined);
    await stop();
  }
}

export function ulimit(): string {
  try {
    return execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim();
  } catch {
    return 'unknown';
  }
}
