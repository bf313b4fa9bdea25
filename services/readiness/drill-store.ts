import type { Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { Targets } from '../../contracts/broadcasts.js';
import type { DrillOutcome } from '../../contracts/readiness.js';
import type { SelftestResult } from '../../devices/index.js';
import { ClusterProgress } from '../storage/cluster-progress.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { ReadinessSchedulesTable } from '../storage/sql/schema.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { drillsCopy } from './drill-copy.js';
import type { WeeklySlot } from './weekly-drill.js';

export interface DrillRecord {
  id: string;
  origin: 'manual' | 'schedule';
  tone: boolean;
  targets: Targets;
  communeIds: string[];
  state: 'running' | 'finished';
  startedAt: number;
  deadlineAt: number;
  finishedAt: number | null;
  createdBy: string | null;
}

export interface DrillResultRecord {
  drillId: string;
  clusterId: string;
  position: number;
  communeId: string;
  villageId: string;
  commandId: string | null;
  outcome: DrillOutcome;
  reasons: string[];
  checks: SelftestResult | null;
  testedAt: number | null;
}

export interface ScheduleRecord extends WeeklySlot {
  communeId: string;
  enabled: boolean;
  tone: boolean;
  lastRunAt: number | null;
  lastDrillId: string | null;
  updatedBy: string | null;
  updatedAt: number | null;
}

interface DrillRow {
  id: string;
  origin: string;
  tone: number;
  targets: string;
  commune_ids: string;
  state: string;
  started_at: number;
  deadline_at: number;
  finished_at: number | null;
  created_by: string | null;
}

interface ResultRow {
  drill_id: string;
  cluster_id: string;
  position: number;
  commune_id: string;
  village_id: string;
  command_id: string | null;
  outcome: string;
  reasons: string;
  checks: string | null;
  tested_at: number | null;
}

type ScheduleRow = Selectable<ReadinessSchedulesTable>;

/** A commune without a schedule of its own: off, Sunday 09:00, silent. */
export const DEFAULT_SCHEDULE = { enabled: false, weekday: 7, hour: 9, minute: 0, tone: false } as const;

/**
 * Drills, each cluster's verdict, and each commune's weekly drill. Written through the query layer
 * (drills by one instance at a time: the holder of the `readiness-drills` lease, and the one
 * starting a drill); read from the SQLite file, which with DATABASE_URL holds this instance's copy
 * (drill-copy.ts).
 */
export class DrillStore {
  private readonly progress: ClusterProgress<DrillRow, ResultRow>;
  private readonly copy: TableCopy;

  constructor(
    private readonly db: Db,
    private readonly state: StateDatabase,
    logger: Logger,
  ) {
    this.copy = drillsCopy(db, state, logger.child({ component: 'drill-store' }));
    this.progress = new ClusterProgress(db, {
      jobs: 'readiness_drills',
      listedBy: 'started_at',
      clusters: 'readiness_results',
      jobColumn: 'drill_id',
      underWay: 'testing',
    });
  }

  /** Copies PostgreSQL's drills and schedules here and follows other instances' changes; nothing on SQLite. */
  async start(onCopied: (touch: TableTouch) => void = () => undefined): Promise<void> {
    await this.copy.start(onCopied);
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  /** One write in one transaction, announced to the other instances, then copied here. */
  private async write<T>(touch: TableTouch, work: (trx: StateTransaction) => Promise<T>): Promise<T> {
    const result = await translateConstraintAsync(
      {
        duplicateId: 'a drill with this id already exists',
        reference: 'the weekly drill names a commune that does not exist',
      },
      () =>
        this.state.transaction(async (trx) => {
          const done = await work(trx);
          await this.copy.announce(trx, touch);
          return done;
        }),
    );
    await this.copy.copy(touch);
    return result;
  }

  async insert(drill: DrillRecord, results: readonly DrillResultRecord[]): Promise<void> {
    await this.write({ table: 'readiness_drills', id: drill.id, change: 'created' }, (trx) =>
      this.progress.insert(
        trx,
        {
          id: drill.id,
          origin: drill.origin,
          tone: drill.tone ? 1 : 0,
          targets: JSON.stringify(drill.targets),
          commune_ids: JSON.stringify(drill.communeIds),
          state: drill.state,
          started_at: drill.startedAt,
          deadline_at: drill.deadlineAt,
          finished_at: drill.finishedAt,
          created_by: drill.createdBy,
        },
        results.map((r) => ({
          drill_id: r.drillId,
          cluster_id: r.clusterId,
          position: r.position,
          commune_id: r.communeId,
          village_id: r.villageId,
          command_id: r.commandId,
          outcome: r.outcome,
          reasons: JSON.stringify(r.reasons),
          checks: r.checks === null ? null : JSON.stringify(r.checks),
          tested_at: r.testedAt,
        })),
      ),
    );
  }

  /** Copies the drill here when it is not: another instance may have just started it. */
  async present(id: string): Promise<void> {
    if (this.copy.remote && !this.progress.job(id)) await this.copy.copy({ table: 'readiness_drills', id });
  }

  get(id: string): DrillRecord | null {
    const row = this.progress.job(id);
    return row ? toDrill(row) : null;
  }

  /** Newest first; with `communes`, drills that reach one of them; with `communeId`, that one's. */
  list(
    page: { limit: number; offset: number },
    filter: { communes: readonly string[] | null; communeId?: string },
  ): { items: DrillRecord[]; total: number } {
    const { rows, total } = this.progress.list(page, filter);
    return { items: rows.map(toDrill), total };
  }

  running(): DrillRecord[] {
    return (
      this.db.prepare("SELECT * FROM readiness_drills WHERE state = 'running'").all() as DrillRow[]
    ).map(toDrill);
  }

  results(drillId: string): DrillResultRecord[] {
    return this.progress.clusters(drillId).map(toResult);
  }

  /** Clusters still being tested, across drills. */
  testing(): DrillResultRecord[] {
    return this.progress.underWay().map(toResult);
  }

  /**
   * With DATABASE_URL, copies here at once the drill that sent the selftest `commandId` when it is
   * still being tested: another instance may have just started it, and its answer is already here.
   */
  async fetchTesting(commandId: string): Promise<void> {
    if (!this.copy.remote) return;
    const row = await this.state.db
      .selectFrom('readiness_results')
      .select('drill_id')
      .where('command_id', '=', commandId)
      .where('outcome', '=', 'testing')
      .executeTakeFirst();
    if (row) await this.copy.copy({ table: 'readiness_drills', id: row.drill_id });
  }

  /** Records a verdict, unless one was recorded already (a late answer after the deadline). */
  async decide(
    drillId: string,
    clusterId: string,
    verdict: { outcome: DrillOutcome; reasons: string[]; checks?: SelftestResult | null },
    at: number,
  ): Promise<boolean> {
    const result = await this.write({ table: 'readiness_drills', id: drillId, change: 'updated' }, (trx) =>
      trx
        .updateTable('readiness_results')
        .set({
          outcome: verdict.outcome,
          reasons: JSON.stringify(verdict.reasons),
          checks: verdict.checks ? JSON.stringify(verdict.checks) : null,
          tested_at: at,
        })
        .where('drill_id', '=', drillId)
        .where('cluster_id', '=', clusterId)
        .where('outcome', '=', 'testing')
        .executeTakeFirst(),
    );
    return result.numUpdatedRows > 0n;
  }

  async finish(drillId: string, at: number): Promise<void> {
    await this.write({ table: 'readiness_drills', id: drillId, change: 'updated' }, (trx) =>
      trx
        .updateTable('readiness_drills')
        .set({ state: 'finished', finished_at: at })
        .where('id', '=', drillId)
        .where('state', '=', 'running')
        .execute(),
    );
  }

  schedule(communeId: string): ScheduleRecord {
    const row = this.db.prepare('SELECT * FROM readiness_schedules WHERE commune_id = ?').get(communeId) as
      | ScheduleRow
      | undefined;
    return row
      ? toSchedule(row)
      : {
          communeId,
          ...DEFAULT_SCHEDULE,
          lastRunAt: null,
          lastDrillId: null,
          updatedBy: null,
          updatedAt: null,
        };
  }

  enabledSchedules(): ScheduleRecord[] {
    return (
      this.db.prepare('SELECT * FROM readiness_schedules WHERE enabled = 1').all() as ScheduleRow[]
    ).map(toSchedule);
  }

  async saveSchedule(schedule: ScheduleRecord): Promise<void> {
    const row = {
      commune_id: schedule.communeId,
      enabled: schedule.enabled ? 1 : 0,
      weekday: schedule.weekday,
      hour: schedule.hour,
      minute: schedule.minute,
      tone: schedule.tone ? 1 : 0,
      last_run_at: schedule.lastRunAt,
      last_drill_id: schedule.lastDrillId,
      updated_by: schedule.updatedBy,
      updated_at: schedule.updatedAt ?? 0,
    };
    const { commune_id: _, ...updates } = row;
    await this.write({ table: 'readiness_schedules', id: schedule.communeId, change: 'updated' }, (trx) =>
      trx
        .insertInto('readiness_schedules')
        .values(row)
        .onConflict((oc) => oc.column('commune_id').doUpdateSet(updates))
        .execute(),
    );
  }

  async recordRun(communeId: string, drillId: string, at: number): Promise<void> {
    await this.write({ table: 'readiness_schedules', id: communeId, change: 'updated' }, (trx) =>
      trx
        .updateTable('readiness_schedules')
        .set({ last_run_at: at, last_drill_id: drillId })
        .where('commune_id', '=', communeId)
        .execute(),
    );
  }
}

function toDrill(row: DrillRow): DrillRecord {
  return {
    id: row.id,
    origin: row.origin as DrillRecord['origin'],
    tone: row.tone === 1,
    targets: JSON.parse(row.targets) as Targets,
    communeIds: JSON.parse(row.commune_ids) as string[],
    state: row.state as DrillRecord['state'],
    startedAt: row.started_at,
    deadlineAt: row.deadline_at,
    finishedAt: row.finished_at,
    createdBy: row.created_by,
  };
}

function toResult(row: ResultRow): DrillResultRecord {
  return {
    drillId: row.drill_id,
    clusterId: row.cluster_id,
    position: row.position,
    communeId: row.commune_id,
    villageId: row.village_id,
    commandId: row.command_id,
    outcome: row.outcome as DrillOutcome,
    reasons: JSON.parse(row.reasons) as string[],
    checks: row.checks === null ? null : (JSON.parse(row.checks) as SelftestResult),
    testedAt: row.tested_at,
  };
}

function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    communeId: row.commune_id,
    enabled: row.enabled === 1,
    weekday: row.weekday,
    hour: row.hour,
    minute: row.minute,
    tone: row.tone === 1,
    lastRunAt: row.last_run_at,
    lastDrillId: row.last_drill_id,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}
