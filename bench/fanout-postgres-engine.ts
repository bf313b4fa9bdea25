import { type BenchPlatform, startBenchPlatform } from './bench-platform.js';
import { prepareFanoutFleet, sendEmergency } from './emergency-fanout.js';
import { LoadGenerator } from './generator-client.js';
import { percentile } from './report.js';

/*
 * One engine's half of `npm run bench fanout-postgres`, forked by bench/fanout-postgres.ts: the
 * platform in this process on SQLite alone or with DATABASE_URL, its ack-bots in a load generator
 * forked from here, so both engines run in the same process layout, each in a fresh process (no
 * heap or JIT state carried from the other). The parent times the shipping to PostgreSQL, so its
 * polling costs this process nothing.
 */

export interface EngineOptions {
  engine: 'sqlite' | 'postgres';
  sizes: number[];
  runs: number;
  databaseUrl?: string;
}

export type EngineMessage =
  | { type: 'before' }
  | { type: 'acked'; broadcastId: string; size: number; lastDoneAt: number }
  | { type: 'result'; rows: Record<string, number | string>[]; summary: Record<string, number | string> };

export type ParentMessage =
  | { type: 'go' }
  | { type: 'shipped'; postgresCpuMs: number | null; shipLagMs: number | null };

const waiting: ((message: ParentMessage) => void)[] = [];
process.on('message', (message: ParentMessage) => waiting.shift()?.(message));

function ask<T extends ParentMessage['type']>(
  message: EngineMessage,
  expect: T,
): Promise<Extract<ParentMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    waiting.push((reply) =>
      reply.type === expect
        ? resolve(reply as Extract<ParentMessage, { type: T }>)
        : reject(new Error(`expected ${expect}, got ${reply.type}`)),
    );
    process.send?.(message);
  });
}

async function main(options: EngineOptions): Promise<void> {
  const largest = Math.max(...options.sizes);
  // As in the fanout scenario: ack-bots announce but never heartbeat, and each size's first
  // bulletin is sent cold.
  const bench: BenchPlatform = await startBenchPlatform({
    HEARTBEAT_INTERVAL_S: 3600,
    HEARTBEAT_MISSED_LIMIT: 20,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  });
  const generator = new LoadGenerator();
  const label = `fanout-postgres (${options.engine})`;
  try {
    const fleet = await prepareFanoutFleet(bench, generator, largest, 'fp', label);
    const rows: Record<string, number | string>[] = [];
    for (const size of options.sizes.flatMap((n) => Array.from({ length: options.runs }, () => n))) {
      const run = rows.filter((r) => r.clusters === size).length + 1;
      await ask({ type: 'before' }, 'go');
      const cpu0 = process.cpuUsage();
      const sent = await sendEmergency(bench, fleet, size, `Bench ${options.engine} ${size} #${run}`);
      const done = sent.done;
      const lastDoneAt = sent.t0 + (done.length > 0 ? Math.max(...done) : Number.NaN);
      const shipped = await ask(
        { type: 'acked', broadcastId: sent.broadcastId, size, lastDoneAt },
        'shipped',
      );
      const cpu = process.cpuUsage(cpu0);
      process.stderr.write(
        `[bench] ${label} ${size} #${run}: ${done.length} done in ${Math.max(...done)} ms` +
          `${shipped.shipLagMs === null ? '' : `, in PostgreSQL ${shipped.shipLagMs} ms later`}\n`,
      );
      rows.push({
        engine: options.engine,
        clusters: size,
        run,
        acked: done.length,
        doneP50Ms: percentile(done, 50),
        doneP95Ms: percentile(done, 95),
        doneMaxMs: done.length > 0 ? Math.max(...done) : Number.NaN,
        httpAnswerMs: sent.httpMs,
        resent: sent.resent,
        cpuMs: sent.cpuMs,
        shipLagMs: shipped.shipLagMs ?? '—',
        cpuToShippedMs: shipped.shipLagMs === null ? '—' : (cpu.user + cpu.system) / 1000,
        postgresCpuMs: shipped.postgresCpuMs ?? '—',
      });
      // Let the finished broadcast settle before the next, as the fanout scenario does.
      await new Promise((r) => setTimeout(r, 2000));
    }
    process.send?.({
      type: 'result',
      rows,
      summary: {
        registerSeconds: Math.round(fleet.registerMs / 100) / 10,
        connectSeconds: Math.round(fleet.connected.ms / 100) / 10,
        connectFailures: fleet.connected.failed,
      },
    } satisfies EngineMessage);
  } finally {
    await generator.close().catch(() => undefined);
    await bench.close();
  }
}

await main(JSON.parse(process.argv[2] ?? '{}') as EngineOptions);
process.exit(0);
