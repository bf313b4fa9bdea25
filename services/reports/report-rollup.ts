import type { Logger } from 'pino';
import type { DeliveryState, Level } from '../../contracts/broadcasts.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { Db } from '../storage/database.js';
import { type Day, dayAt, wholeDays } from './report-days.js';
import type { CommuneLevelRow, FaultCount, SummaryQueries } from './summary-queries.js';

/** The final delivery states, each a column of report_day_communes. */
const FINAL: readonly [DeliveryState, string][] = [
  ['done', 'done'],
  ['failed', 'failed'],
  ['missed', 'missed'],
  ['pre-empted', 'pre_empted'],
  ['expired', 'expired'],
  ['stopped', 'stopped'],
];

/** Days before today kept rolled up in the background: this month and the last, which reports ask for most. */
const WINDOW_DAYS = 62;
/** How often the background looks for days to build (a broadcast that ended late, a log written behind its back). */
const CHECK_MS = 60_000;
/** After a delivery became final, the check runs this soon (once, for a burst of them). */
const SOON_MS = 1_000;

/** What a report reads for its period: days from the rollup, and broadcasts by start from the log. */
export interface RollupPlan {
  /** Whole local days in the period whose rollup is current. */
  days: number[];
  /** The rest, as windows of the broadcasts' start (each still overlapping the period). */
  raw: { from: number; to: number }[];
  /** Days of the period that are over but not rolled up yet. */
  missing: Day[];
}

export interface ReportRollupDeps {
  db: Db;
  queries: SummaryQueries;
  clock: Clock;
  /** The zone of the days (TZ_DEFAULT). */
  timeZone: string;
  /** Writes the delivery changes the broadcast store still holds in memory. */
  flushDeliveries(): void;
  logger: Logger;
}

type Row = Record<string, number> & { communeId: string; level: Level };

/**
 * The summary report's daily rollup (migration 0024): per local day and commune, what the
 * broadcasts that started that day add up to. A day is built once it is over and all its
 * broadcasts are final — in the background, a day per turn of the event loop: at start for the
 * last WINDOW_DAYS, soon after deliveries become final, every CHECK_MS, and for the days a report
 * found missing. Triggers in the database drop a day's mark whenever the log or the clusters'
 * placement changes under it; until it is built again, a report reads that day from the log. So a
 * report always equals the log's aggregation; the rollup only makes it cheaper.
 */
export class ReportRollup {
  private readonly logger: Logger;
  private timer: TimerHandle | null = null;
  private soon: TimerHandle | null = null;
  private running: Promise<number> | null = null;
  private readonly wanted: Day[] = [];
  private stopped = false;
  /** With several instances only the rollup lease's holder builds in the background. */
  private paused = false;

  constructor(private readonly deps: ReportRollupDeps) {
    this.logger = deps.logger.child({ component: 'report-rollup' });
  }

  start(): void {
    // Days of another zone (TZ_DEFAULT changed) would not line up with these.
    const dropped = this.deps.db
      .prepare('DELETE FROM report_days WHERE time_zone != ?')
      .run(this.deps.timeZone).changes;
    if (dropped > 0) this.logger.info({ dropped }, 'dropped the rollup of days in another time zone');
    this.resume();
  }

  /** Builds in the background: at once what is missing, then every CHECK_MS. */
  resume(): void {
    if (this.stopped) return;
    this.paused = false;
    if (!this.timer) this.timer = this.deps.clock.setInterval(() => this.check(), CHECK_MS);
    this.check();
  }

  /**
   * Another instance builds: no more background work here (reports still read the days not built
   * from the log); resolves once a run under way has ended.
   */
  async pause(): Promise<void> {
    this.paused = true;
    if (this.timer) this.deps.clock.clearInterval(this.timer);
    if (this.soon) this.deps.clock.clearTimeout(this.soon);
    this.timer = null;
    this.soon = null;
    await this.running?.catch(() => 0);
  }

  stop(): Promise<number> | undefined {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearInterval(this.timer);
    if (this.soon) this.deps.clock.clearTimeout(this.soon);
    this.timer = null;
    this.soon = null;
    return this.running ?? undefined;
  }

  /** A delivery became final: its day may now be complete. */
  deliveryFinal(): void {
    if (this.soon || this.stopped || this.paused) return;
    this.soon = this.deps.clock.setTimeout(() => {
      this.soon = null;
      this.check();
    }, SOON_MS);
  }

  /** Builds, in the background, the days a report found missing. */
  fill(days: readonly Day[]): void {
    this.wanted.push(...days);
    this.check();
  }

  /**
   * Builds every missing day of the window (and those asked for) that is complete, one per turn of
   * the event loop; resolves with how many were built. A run already going on takes the new days.
   */
  catchUp(): Promise<number> {
    if (this.running) return this.running.then(() => this.catchUp());
    const run = this.run().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Which days of the period to read from the rollup and which from the log. */
  plan(range: { from: number; to: number }): RollupPlan {
    const now = this.deps.clock.now();
    const whole = wholeDays(range.from, range.to, this.deps.timeZone);
    const marked = this.marked(range.from, range.to);
    const days: Day[] = [];
    const missing: Day[] = [];
    for (const day of whole) {
      if (marked.get(day.start) === day.end) days.push(day);
      else if (day.end <= now) missing.push(day);
    }
    // The log is read for the broadcasts that started before the first rolled day (those started
    // before the period and still on air in it included), between rolled days and after the last.
    const raw: { from: number; to: number }[] = [];
    let cursor = Number.MIN_SAFE_INTEGER;
    for (const day of days) {
      if (day.start > cursor) raw.push({ from: cursor, to: day.start });
      cursor = day.end;
    }
    if (cursor < range.to) raw.push({ from: cursor, to: range.to });
    return { days: days.map((d) => d.start), raw, missing };
  }

  /** The rolled days' figures per commune, level and origin, as SummaryQueries.byCommune gives them. */
  byCommune(days: readonly number[], communeIds: readonly string[] | null): CommuneLevelRow[] {
    if (days.length === 0) return [];
    const rows = this.deps.db
      .prepare(
        `SELECT commune_id AS communeId, level, from_province AS fromProvince, SUM(bulletins) AS bulletins,
           SUM(targeted) AS targeted, SUM(heard) AS heard, SUM(aired_ms) AS airedMs,
           SUM(cluster_aired_ms) AS clusterAiredMs, SUM(speaker_faults) AS speakerFaults,
           ${FINAL.map(([, column]) => `SUM(${column}) AS ${column}`).join(', ')}
         FROM report_day_communes ${this.where(communeIds)}
         GROUP BY commune_id, level, from_province`,
      )
      .all(this.params(days, communeIds)) as Row[];
    return rows.map((r) => {
      const byState = Object.fromEntries(FINAL.map(([state, column]) => [state, r[column] ?? 0])) as Record<
        DeliveryState,
        number
      >;
      for (const state of ['scheduled', 'sent', 'accepted', 'playing'] as const) byState[state] = 0;
      return {
        communeId: r.communeId,
        level: r.level,
        fromProvince: r.fromProvince === 1,
        bulletins: r.bulletins ?? 0,
        targeted: r.targeted ?? 0,
        done: byState.done,
        heard: r.heard ?? 0,
        byState,
        airedMs: r.airedMs ?? 0,
        clusterAiredMs: r.clusterAiredMs ?? 0,
        speakerFaults: r.speakerFaults ?? 0,
      };
    });
  }

  /** The rolled days' broadcasts that reached the communes, each once, per level and origin. */
  bulletinsOfScope(
    days: readonly number[],
    communeIds: readonly string[] | null,
  ): { level: Level; fromProvince: boolean; bulletins: number }[] {
    if (days.length === 0) return [];
    const rows = this.deps.db
      .prepare(
        // Most broadcasts reach one commune and are counted from its row; the others once each.
        `SELECT level, fromProvince, SUM(n) AS bulletins FROM (
           SELECT level, from_province AS fromProvince, SUM(solo) AS n
           FROM report_day_communes ${this.where(communeIds)} GROUP BY level, from_province
           UNION ALL
           SELECT level, from_province AS fromProvince, COUNT(DISTINCT broadcast_id) AS n
           FROM report_day_reach ${this.where(communeIds)} GROUP BY level, from_province
         ) GROUP BY level, fromProvince`,
      )
      .all(this.params(days, communeIds)) as { level: Level; fromProvince: number; bulletins: number }[];
    return rows.map((r) => ({ level: r.level, fromProvince: r.fromProvince === 1, bulletins: r.bulletins }));
  }

  /** The rolled days' fault deliveries by outcome and reason. */
  failures(days: readonly number[], communeIds: readonly string[] | null): FaultCount[] {
    if (days.length === 0) return [];
    return this.deps.db
      .prepare(
        `SELECT state, reason, SUM(count) AS count FROM report_day_faults ${this.where(communeIds)}
         GROUP BY state, reason`,
      )
      .all(this.params(days, communeIds)) as FaultCount[];
  }

  /**
   * Rolls one day up from the log, in one transaction; false when it is not over yet or one of its
   * broadcasts is still under way (it is tried again later).
   */
  build(day: Day): boolean {
    const { db, queries, clock, timeZone } = this.deps;
    if (day.end > clock.now()) return false;
    // What the dispatcher changed this turn is on disk first; later writes fire the triggers.
    this.deps.flushDeliveries();
    return db.transaction(() => {
      if (queries.anyOpen(day.start, day.end)) return false;
      const scope = {
        from: day.start,
        to: day.end,
        communeIds: null,
        starts: { from: day.start, to: day.end },
      };
      const perBroadcast = queries.byBroadcastAndCommune(scope);
      const faults = queries.failuresByCommune(scope);
      db.prepare('DELETE FROM report_day_communes WHERE day_start = ?').run(day.start);
      db.prepare('DELETE FROM report_day_reach WHERE day_start = ?').run(day.start);
      db.prepare('DELETE FROM report_day_faults WHERE day_start = ?').run(day.start);
      const sums = new Map<string, CommuneLevelRow & { solo: number }>();
      const reach = db.prepare(
        'INSERT INTO report_day_reach (day_start, commune_id, broadcast_id, level, from_province) VALUES (?, ?, ?, ?, ?)',
      );
      const communesOf = new Map<string, number>();
      for (const row of perBroadcast)
        communesOf.set(row.broadcastId, (communesOf.get(row.broadcastId) ?? 0) + 1);
      for (const row of perBroadcast) {
        const solo = communesOf.get(row.broadcastId) === 1;
        if (!solo) reach.run(day.start, row.communeId, row.broadcastId, row.level, row.fromProvince ? 1 : 0);
        const key = `${row.communeId}\u0000${row.level}\u0000${row.fromProvince}`;
        const sum = sums.get(key) ?? {
          communeId: row.communeId,
          level: row.level,
          fromProvince: row.fromProvince,
          bulletins: 0,
          targeted: 0,
          done: 0,
          heard: 0,
          byState: Object.fromEntries(FINAL.map(([state]) => [state, 0])) as Record<DeliveryState, number>,
          airedMs: 0,
          clusterAiredMs: 0,
          speakerFaults: 0,
          solo: 0,
        };
        sum.bulletins += 1;
        if (solo) sum.solo += 1;
        sum.targeted += row.targeted;
        sum.heard += row.heard;
        sum.airedMs += row.airedMs;
        sum.clusterAiredMs += row.clusterAiredMs;
        sum.speakerFaults += row.speakerFaults;
        for (const [state] of FINAL) sum.byState[state] += row.byState[state];
        sums.set(key, sum);
      }
      const total = db.prepare(
        `INSERT INTO report_day_communes (day_start, commune_id, level, from_province, bulletins, solo,
           targeted, heard, aired_ms, cluster_aired_ms, speaker_faults, ${FINAL.map(([, c]) => c).join(', ')})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${FINAL.map(() => '?').join(', ')})`,
      );
      for (const s of sums.values())
        total.run(
          day.start,
          s.communeId,
          s.level,
          s.fromProvince ? 1 : 0,
          s.bulletins,
          s.solo,
          s.targeted,
          s.heard,
          s.airedMs,
          s.clusterAiredMs,
          s.speakerFaults,
          ...FINAL.map(([state]) => s.byState[state]),
        );
      const fault = db.prepare(
        'INSERT INTO report_day_faults (day_start, commune_id, state, reason, count) VALUES (?, ?, ?, ?, ?)',
      );
      for (const f of faults) fault.run(day.start, f.communeId, f.state, f.reason, f.count);
      db.prepare(
        `INSERT INTO report_days (day_start, day_end, time_zone, built_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (day_start) DO UPDATE SET day_end = excluded.day_end, time_zone = excluded.time_zone,
           built_at = excluded.built_at`,
      ).run(day.start, day.end, timeZone, clock.now());
      return true;
    })();
  }

  // --- internals -------------------------------------------------------------------------------

  /** Starts a catch-up unless one is running (which picks up what is wanted meanwhile). */
  private check(): void {
    if (this.stopped || this.paused || this.running) return;
    this.catchUp().catch((error: unknown) =>
      this.logger.error({ err: error }, 'could not roll up the report days'),
    );
  }

  private async run(): Promise<number> {
    let built = 0;
    // Not in the turn that asked: a report answers before the days it found missing are built.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const todo = this.missingDays();
      for (const day of todo) {
        if (this.stopped || this.paused) return built;
        // A day not complete yet is tried again at a later check.
        if (this.build(day)) built++;
        // One day per turn: the event loop serves devices and requests between them.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (todo.length === 0 || this.wanted.length === 0) return built;
    }
  }

  /** Missing days of the window and those asked for, newest first. */
  private missingDays(): Day[] {
    const now = this.deps.clock.now();
    const today = dayAt(now, this.deps.timeZone);
    const from = today.start - WINDOW_DAYS * 86_400_000;
    const days = new Map<number, Day>();
    for (const day of wholeDays(from, today.start, this.deps.timeZone)) days.set(day.start, day);
    for (const day of this.wanted.splice(0)) if (day.end <= now) days.set(day.start, day);
    if (days.size === 0) return [];
    const marked = this.marked(Math.min(...days.keys()), today.start);
    return [...days.values()].filter((d) => marked.get(d.start) !== d.end).sort((a, b) => b.start - a.start);
  }

  /** Reads several queries as one snapshot of the database. */
  snapshot<T>(read: () => T): T {
    return this.deps.db.transaction(read)();
  }

  private marked(from: number, to: number): Map<number, number> {
    const rows = this.deps.db
      .prepare(
        'SELECT day_start AS start, day_end AS end FROM report_days WHERE day_start >= ? AND day_end <= ? AND time_zone = ?',
      )
      .all(from, to, this.deps.timeZone) as { start: number; end: number }[];
    return new Map(rows.map((r) => [r.start, r.end]));
  }

  private where(communeIds: readonly string[] | null): string {
    return `WHERE day_start IN (SELECT value FROM json_each(@days))${
      communeIds === null ? '' : ' AND commune_id IN (SELECT value FROM json_each(@communes))'
    }`;
  }

  private params(days: readonly number[], communeIds: readonly string[] | null): Record<string, string> {
    return {
      days: JSON.stringify(days),
      ...(communeIds === null ? {} : { communes: JSON.stringify(communeIds) }),
    };
  }
}
