import { execFileSync, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PostgresServer, postgresAvailable } from '../test/support/postgres.js';
import { progress, sizesFrom } from './bench-platform.js';
import type { EngineMessage, EngineOptions, ParentMessage } from './fanout-postgres-engine.js';
import type { BenchResult } from './report.js';

/**
 * What PostgreSQL costs an emergency: the fanout scenario's bulletin to registered ack-bot clusters,
 * once on SQLite alone (the reference) and once with DATABASE_URL on a PostgreSQL this bench starts
 * (Debian's `postgresql`, as the test suites start it), each engine in a fresh process of the same
 * layout (bench/fanout-postgres-engine.ts). The broadcast log is written to the instance's SQLite
 * file on both and shipped behind it to PostgreSQL; the ship lag runs from the last `done` ack to
 * the moment PostgreSQL's `deliveries` has every delivery of the bulletin `done` (polled every
 * 20 ms from this process, on a connection whose own CPU is left out of PostgreSQL's).
 *
 * BENCH_FANOUT_PG_SIZES (default 1000,5000) and BENCH_FANOUT_PG_RUNS (bulletins per size, 3).
 */
export async function fanoutPostgresBench(): Promise<BenchResult> {
  const sizes = sizesFrom('BENCH_FANOUT_PG_SIZES', [1000, 5000]);
  const runs = Math.max(1, Number(process.env.BENCH_FANOUT_PG_RUNS ?? 3));
  if (!postgresAvailable()) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const server = await PostgresServer.create();
  try {
    const databaseUrl = await server.createDatabase('fanout_bench');
    const reference = await runEngine({ engine: 'sqlite', sizes, runs }, null);
    const poller = new pg.Client({ connectionString: databaseUrl });
    await poller.connect();
    let postgres: Awaited<ReturnType<typeof runEngine>>;
    try {
      postgres = await runEngine({ engine: 'postgres', sizes, runs, databaseUrl }, poller);
    } finally {
      await poller.end();
    }
    const rows = [...reference.rows, ...postgres.rows];
    const median = (engine: string, size: number, column: string) => {
      const values = rows
        .filter((r) => r.engine === engine && r.clusters === size && typeof r[column] === 'number')
        .map((r) => Number(r[column]))
        .sort((a, b) => a - b);
      return values[Math.floor(values.length / 2)] ?? Number.NaN;
    };
    const ratio = (size: number, column: string) =>
      Math.round((median('postgres', size, column) / median('sqlite', size, column)) * 100) / 100;
    const perSize: Record<string, number> = {};
    for (const size of sizes) {
      perSize[`p50PgVsSqlite${size}`] = ratio(size, 'doneP50Ms');
      perSize[`p95PgVsSqlite${size}`] = ratio(size, 'doneP95Ms');
      perSize[`maxPgVsSqlite${size}`] = ratio(size, 'doneMaxMs');
      perSize[`cpuPgVsSqlite${size}`] = ratio(size, 'cpuMs');
      perSize[`shipLagMedianMs${size}`] = median('postgres', size, 'shipLagMs');
    }
    return {
      scenario: 'fanout-postgres',
      title: 'Emergency fan-out on SQLite alone and with DATABASE_URL (PostgreSQL started by the bench)',
      summary: {
        loadAvg1mAtStart: Math.round(loadAtStart * 100) / 100,
        registerSecondsSqlite: reference.summary.registerSeconds ?? '—',
        registerSecondsPostgres: postgres.summary.registerSeconds ?? '—',
        connectSecondsSqlite: reference.summary.connectSeconds ?? '—',
        connectSecondsPostgres: postgres.summary.connectSeconds ?? '—',
        connectFailures: Number(reference.summary.connectFailures) + Number(postgres.summary.connectFailures),
        ...perSize,
      },
      columns: [
        'engine',
        'clusters',
        'run',
        'acked',
        'doneP50Ms',
        'doneP95Ms',
        'doneMaxMs',
        'httpAnswerMs',
        'resent',
        'cpuMs',
        'shipLagMs',
        'cpuToShippedMs',
        'postgresCpuMs',
      ],
      rows,
    };
  } finally {
    await server.cleanup();
  }
}

/**
 * Forks one engine's run and answers it: before each bulletin it notes PostgreSQL's CPU time; after
 * the last ack it polls `deliveries` until all are done (at once on SQLite alone).
 */
function runEngine(
  options: EngineOptions,
  poller: pg.Client | null,
): Promise<{ rows: Record<string, number | string>[]; summary: Record<string, number | string> }> {
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), 'fanout-postgres-engine.js'), [
    JSON.stringify(options),
  ]);
  const reply = (message: ParentMessage) => child.send(message);
  let server: { postmaster: number; poller: number } | null = null;
  let cpuBefore = 0;
  return new Promise((resolve, reject) => {
    let result: Extract<EngineMessage, { type: 'result' }> | null = null;
    child.on('message', (message: EngineMessage) => {
      const answer = async () => {
        if (message.type === 'result') {
          result = message;
          return;
        }
        if (!poller) {
          reply(
            message.type === 'before'
              ? { type: 'go' }
              : { type: 'shipped', postgresCpuMs: null, shipLagMs: null },
          );
          return;
        }
        server ??= await postgresProcesses(poller);
        if (message.type === 'before') {
          cpuBefore = postgresCpuMs(server);
          reply({ type: 'go' });
          return;
        }
        const shippedAt = await untilShipped(poller, message.broadcastId, message.size);
        reply({
          type: 'shipped',
          shipLagMs:
            shippedAt === null || !Number.isFinite(message.lastDoneAt)
              ? Number.NaN
              : shippedAt - message.lastDoneAt,
          postgresCpuMs: postgresCpuMs(server) - cpuBefore,
        });
      };
      answer().catch((error) => {
        child.kill();
        reject(error);
      });
    });
    child.once('exit', (code) => {
      if (result) resolve({ rows: result.rows, summary: result.summary });
      else reject(new Error(`the ${options.engine} run exited with ${code} before its result`));
    });
  });
}

/** Date.now() once PostgreSQL has all `size` deliveries of the broadcast done, or null after 60 s. */
async function untilShipped(poller: pg.Client, broadcastId: string, size: number): Promise<number | null> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { rows } = await poller.query<{ n: number }>(
      "SELECT COUNT(*)::int AS n FROM deliveries WHERE broadcast_id = $1 AND state = 'done'",
      [broadcastId],
    );
    if ((rows[0]?.n ?? 0) >= size) return Date.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  progress(`fanout-postgres: ${broadcastId} not all done in PostgreSQL after 60 s`);
  return null;
}

/** The postmaster's pid (the parent of the poller's backend) and the poller's backend. */
async function postgresProcesses(poller: pg.Client): Promise<{ postmaster: number; poller: number }> {
  const { rows } = await poller.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const backend = rows[0]?.pid ?? 0;
  return { postmaster: Number(procStat(backend)?.[1]), poller: backend };
}

/** /proc/<pid>/stat's fields after the command name (state is [0], ppid [1]), or null if gone. */
function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

let ticksPerSecond: number | null = null;

/**
 * CPU time (user + system) of the PostgreSQL server so far, in ms: the postmaster with the children
 * it has reaped, and every live backend and auxiliary process but the poller's.
 */
function postgresCpuMs(server: { postmaster: number; poller: number }): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  // Fields 14-17 of stat: utime, stime, cutime, cstime.
  const ticks = (stat: string[] | null, reaped: boolean) =>
    stat ? stat.slice(11, reaped ? 15 : 13).reduce((sum, v) => sum + Number(v), 0) : 0;
  let total = ticks(procStat(server.postmaster), true);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === server.poller) continue;
    const stat = procStat(pid);
    if (stat && Number(stat[1]) === server.postmaster) total += ticks(stat, false);
  }
  return (total / ticksPerSecond) * 1000;
}
