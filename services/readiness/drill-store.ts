import type { Targets } from '../../contracts/broadcasts.js';
import type { DrillOutcome } from '../../contracts/readiness.js';
import type { SelftestResult } from '../../devices/index.js';
import { ClusterProgress } from '../storage/cluster-progress.js';
import type { Db } from '../storage/database.js';
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

interface ScheduleRow {
  commune_id: string;
  enabled: number;
  weekday: number;
  hour: number;
  minute: number;
  tone: number;
  last_run_at: number | null;
  last_drill_id: string | null;
  updated_by: string | null;
  updated_at: number;
}

/** A commune without a schedule of its own: off, Sunday 09:00, silent. */
export const DEFAULT_SCHEDULE = { enabled: false, weekday: 7, hour: 9, minute: 0, tone: false } as const;

/** Drills, each cluster's verdict, and each commune's weekly drill. */
export class DrillStore {
  private readonly progress: ClusterProgress<DrillRow, ResultRow>;

  constructor(private readonly db: Db) {
    this.progress = new ClusterProgress(db, {
      jobs: 'readiness_drills',
      listedBy: 'started_at',
      clusters: 'readiness_results',
      jobColumn: 'drill_id',
      underWay: 'testing',
    });
  }

  insert(drill: DrillRecord, results: readonly DrillResultRecord[]): void {
    this.progress.insert(
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
    );
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

  /** Records a verdict, unless one was recorded already (a late answer after the deadline). */
  decide(
    drillId: string,
    clusterId: string,
    verdict: { outcome: DrillOutcome; reasons: string[]; checks?: SelftestResult | null },
    at: number,
  ): boolean {
    return (
      this.db
        .prepare(
          `UPDATE readiness_results SET outcome = ?, reasons = ?, checks = ?, tested_at = ?
           WHERE drill_id = ? AND cluster_id = ? AND outcome = 'testing'`,
        )
        .run(
          verdict.outcome,
          JSON.stringify(verdict.reasons),
          verdict.checks ? JSON.stringify(verdict.checks) : null,
          at,
          drillId,
          clusterId,
        ).changes > 0
    );
  }

  finish(drillId: string, at: number): void {
    this.db
      .prepare(
        "UPDATE readiness_drills SET state = 'finished', finished_at = ? WHERE id = ? AND state = 'running'",
      )
      .run(at, drillId);
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

  saveSchedule(schedule: ScheduleRecord): void {
    this.db
      .prepare(
        `INSERT INTO readiness_schedules (commune_id, enabled, weekday, hour, minute, tone, last_run_at, last_drill_id,
           updated_by, updated_at) VALUES (@communeId, @enabled, @weekday, @hour, @minute, @tone, @lastRunAt,
           @lastDrillId, @updatedBy, @updatedAt)
         ON CONFLICT (commune_id) DO UPDATE SET enabled = excluded.enabled, weekday = excluded.weekday,
           hour = excluded.hour, minute = excluded.minute, tone = excluded.tone, last_run_at = excluded.last_run_at,
           last_drill_id = excluded.last_drill_id, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      )
      .run({
        ...schedule,
        enabled: schedule.enabled ? 1 : 0,
        tone: schedule.tone ? 1 : 0,
        updatedAt: schedule.updatedAt ?? 0,
      });
  }

  recordRun(communeId: string, drillId: string, at: number): void {
    this.db
      .prepare('UPDATE readiness_schedules SET last_run_at = ?, last_drill_id = ? WHERE commune_id = ?')
      .run(at, drillId, communeId);
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
