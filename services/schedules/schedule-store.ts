import type { Content, Level, Targets } from '../../contracts/broadcasts.js';
import type { ApprovalState } from '../../contracts/schedules.js';
import { NotFoundError } from '../errors.js';
import type { Db } from '../storage/database.js';
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

/** Schedules on SQLite (table `schedules`, migration 0003). */
export class ScheduleStore {
  constructor(
    private readonly db: Db,
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

  insert(
    id: string,
    fields: ScheduleFields,
    createdBy: string | null,
    bulletinId: string | null = null,
  ): ScheduleRecord {
    const now = this.now();
    this.db
      .prepare(
        `INSERT INTO schedules (id, name, level, content, volume, repeat, timezone, starts_local, duration_s,
           rrule, lunar, exdates, targets, enabled, bulletin_id, created_by, created_at, updated_at)
         VALUES (@id, @name, @level, @content, @volume, @repeat, @timezone, @starts_local, @duration_s,
           @rrule, @lunar, @exdates, @targets, @enabled, @bulletin_id, @created_by, @created_at, @updated_at)`,
      )
      .run({
        ...columns(id, fields),
        bulletin_id: bulletinId,
        created_by: createdBy,
        created_at: now,
        updated_at: now,
      });
    return this.get(id);
  }

  update(id: string, fields: ScheduleFields): ScheduleRecord {
    const result = this.db
      .prepare(
        `UPDATE schedules SET name = @name, level = @level, content = @content, volume = @volume,
           repeat = @repeat, timezone = @timezone, starts_local = @starts_local, duration_s = @duration_s,
           rrule = @rrule, lunar = @lunar, exdates = @exdates, targets = @targets, enabled = @enabled, updated_at = @updated_at
         WHERE id = @id`,
      )
      .run({ ...columns(id, fields), updated_at: this.now() });
    if (result.changes === 0) throw new NotFoundError('schedule', id);
    return this.get(id);
  }

  delete(id: string): void {
    const result = this.db.prepare('DELETE FROM schedules WHERE id = ?').run(id);
    if (result.changes === 0) throw new NotFoundError('schedule', id);
  }
}
