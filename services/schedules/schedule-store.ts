import { sql } from 'kysely';
import type { Content, Level, Targets } from '../../contracts/broadcasts.js';
import type { ApprovalState } from '../../contracts/schedules.js';
import { NotFoundError } from '../errors.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { isoTime } from '../time.js';
import type { ParsedLunarRule } from './lunar-calendar.js';

/** A saved schedule: what it plays, where, when, and at which level. */
export interface ScheduleRecord {
  id: string;
  name: string;
  level: Level;
  content: Content;
  volume: number | null;
  repeat: number;
  timezone: string;
  /** Wall time of the first occurrence, 'YYYY-MM-DDTHH:mm:ss'. */
  start: string;
  /** RFC 5545 RRULE value, null for a one-off. */
  rrule: string | null;
  /** A recurrence on Vietnamese lunar dates instead of an RRULE, or null. */
  lunar: ParsedLunarRule | null;
  /** Wall times of occurrences that do not take place. */
  exdates: string[];
  /** Length of one occurrence in seconds. */
  durationS: number;
  targets: Targets;
  enabled: boolean;
  /** Content approval: where it stands, and who approved it (ApprovalStore changes it). */
  approval: { state: ApprovalState; approvedBy: string | null };
  /** A bulletin from the province that the commune scheduled; null for the commune's own. */
  bulletinId: string | null;
  /** Username of whoever created it. */
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  level: string;
  content: string;
  volume: number | null;
  repeat: number;
  timezone: string;
  starts_local: string;
  duration_s: number;
  rrule: string | null;
  lunar: string | null;
  exdates: string;
  targets: string;
  enabled: number;
  approval_state: ApprovalState;
  approved_by: string | null;
  bulletin_id: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

function toRecord(row: Row): ScheduleRecord {
  return {
    id: row.id,
    name: row.name,
    level: row.level as Level,
    content: JSON.parse(row.content) as Content,
    volume: row.volume,
    repeat: row.repeat,
    timezone: row.timezone,
    start: row.starts_local,
    rrule: row.rrule,
    lunar: row.lunar === null ? null : (JSON.parse(row.lunar) as ParsedLunarRule),
    exdates: JSON.parse(row.exdates) as string[],
    durationS: row.duration_s,
    targets: JSON.parse(row.targets) as Targets,
    enabled: row.enabled === 1,
    approval: { state: row.approval_state, approvedBy: row.approved_by },
    bulletinId: row.bulletin_id,
    createdBy: row.created_by,
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

/** What is written for a schedule; the store stamps the times. */
export type ScheduleFields = Omit<
  ScheduleRecord,
  'id' | 'approval' | 'bulletinId' | 'createdBy' | 'createdAt' | 'updatedAt'
>;

const columns = (id: string, f: ScheduleFields) => ({
  id,
  name: f.name,
  level: f.level,
  content: JSON.stringify(f.content),
  volume: f.volume,
  repeat: f.repeat,
  timezone: f.timezone,
  starts_local: f.start,
  duration_s: f.durationS,
  rrule: f.rrule,
  lunar: f.lunar === null ? null : JSON.stringify(f.lunar),
  exdates: JSON.stringify(f.exdates),
  targets: JSON.stringify(f.targets),
  enabled: f.enabled ? 1 : 0,
});

/** A duplicate id (either engine) is a 409. */
export function scheduleConstraints<T>(write: () => Promise<T>): Promise<T> {
  return translateConstraintAsync({ duplicateId: 'a schedule with this id already exists' }, write);
}

/** The advisory lock every instance's schedule and group writes take, one at a time. */
const SCHEDULE_WRITES = 'schedule-writes';

/**
 * Schedules (table `schedules`, SQLite 0003 and later; PostgreSQL 0005). Reads are answered from
 * the platform's SQLite file at once (the dispatcher reads every schedule on each wake-up); writes
 * go through the query layer, to that file or to PostgreSQL, whose changes every instance copies
 * into its file (schedule-copy.ts).
 */
export class ScheduleStore {
  constructor(
    private readonly db: Db,
    private readonly state: StateDatabase,
    private readonly copy: TableCopy,
    private readonly now: () => number,
  ) {}

  /** Every schedule, oldest first: a commune has tens to hundreds, filtered and paged in memory. */
  all(): ScheduleRecord[] {
    const rows = this.db.prepare('SELECT * FROM schedules ORDER BY created_at, rowid').all() as Row[];
    return rows.map(toRecord);
  }

  get(id: string): ScheduleRecord {
    const row = this.db.prepare('SELECT * FROM schedules WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new NotFoundError('schedule', id);
    return toRecord(row);
  }

  /**
   * A schedule a write depends on, as it stands: with PostgreSQL read there (and copied here) first,
   * since another instance may have saved or changed it a moment ago.
   */
  async present(id: string): Promise<ScheduleRecord> {
    await this.copy.copy({ table: 'schedules', id });
    return this.get(id);
  }

  /**
   * Runs `work` (the checks before a write, and the write) while no other instance runs one, so
   * a clash check sees every schedule saved before it wherever it was saved: with PostgreSQL
   * under a transaction-scoped advisory lock (let go however the transaction ends, even with its
   * connection), after copying what the others wrote; `copied` hears what that copy changed.
   */
  async guarded<T>(work: () => Promise<T>, copied: (touches: TableTouch[]) => void): Promise<T> {
    if (!this.copy.remote) return work();
    return this.state.transaction(async (lock) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${SCHEDULE_WRITES}))`.execute(lock);
      copied(await this.copy.catchUp());
      return work();
    });
  }

  /**
   * One write in one transaction of the query layer, announced to the other instances when it
   * commits, then copied here (with PostgreSQL) before anyone reads it.
   */
  async write(touch: TableTouch, work: (trx: StateTransaction) => Promise<unknown>): Promise<void> {
    await scheduleConstraints(() =>
      this.state.transaction(async (trx) => {
        await work(trx);
        await this.copy.announce(trx, touch);
      }),
    );
    await this.copy.copy(touch);
  }

  async insert(
    id: string,
    fields: ScheduleFields,
    createdBy: string | null,
    bulletinId: string | null = null,
    approval: ApprovalState = 'not-required',
  ): Promise<ScheduleRecord> {
    const now = this.now();
    await this.write({ table: 'schedules', id, change: 'created' }, (trx) =>
      trx
        .insertInto('schedules')
        .values({
          ...columns(id, fields),
          approval_state: approval,
          approved_by: null,
          bulletin_id: bulletinId,
          created_by: createdBy,
          created_at: now,
          updated_at: now,
        })
        .execute(),
    );
    return this.get(id);
  }

  async update(id: string, fields: ScheduleFields): Promise<ScheduleRecord> {
    await this.write({ table: 'schedules', id, change: 'updated' }, async (trx) => {
      const { id: _, ...set } = columns(id, fields);
      const result = await trx
        .updateTable('schedules')
        .set({ ...set, updated_at: this.now() })
        .where('id', '=', id)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new NotFoundError('schedule', id);
    });
    return this.get(id);
  }

  /** Removes a schedule with its approval steps (the audit log keeps them). */
  async delete(id: string): Promise<void> {
    await this.write({ table: 'schedules', id, change: 'deleted' }, async (trx) => {
      const result = await trx.deleteFrom('schedules').where('id', '=', id).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError('schedule', id);
      await trx
        .deleteFrom('approval_steps')
        .where('subject_type', '=', 'schedule')
        .where('subject_id', '=', id)
        .execute();
    });
  }
}
