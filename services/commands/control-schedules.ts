import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Targets } from '../../contracts/broadcasts.js';
import type {
  ControlSchedule,
  ControlScheduleCreateSchema,
  ControlSchedulePatchSchema,
} from '../../contracts/commands.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { NotFoundError } from '../errors.js';
import { normalizeRecurrence } from '../schedules/recurrence-rule.js';
import { expandOccurrences, nextOccurrence, normalizeWall } from '../schedules/schedule-expansion.js';
import type { Db } from '../storage/database.js';
import { isoTime } from '../time.js';
import type { CommandService } from './command-service.js';

type Command = ControlSchedule['command'];
type LastRun = { at: number; done: number; offline: number; failed: number };

interface Row {
  id: string;
  name: string;
  targets: string;
  command: string;
  starts_local: string;
  rrule: string | null;
  timezone: string;
  enabled: number;
  last_run: string | null;
  created_by: string | null;
  created_at: number;
}

/** The longest it sleeps with nothing due: the wall clock may have been set meanwhile. */
const MAX_SLEEP_MS = 3_600_000;
/** How long a run waits for the clusters' acks before it is recorded. */
const ACK_WAIT_MS = 10_000;

/**
 * Volume and power on a calendar: at each occurrence (a one-off or an RRULE in the schedule's
 * zone) every online cluster of the targets gets the command, and the run is recorded with how
 * many acknowledged, were offline or refused. Occurrences while the platform was down are not
 * made up later: a missed "off at night" is not worth switching amplifiers at noon.
 */
export class ControlScheduler {
  private timer: TimerHandle | null = null;
  private running = false;
  private checkedUntil: number;

  constructor(
    private readonly options: {
      db: Db;
      commands: CommandService;
      isOnline(clusterId: string): boolean;
      resolveTargets(targets: Targets): string[];
      clock: Clock;
      logger: Logger;
      defaultTimezone: string;
    },
  ) {
    this.checkedUntil = options.clock.now();
  }

  start(): void {
    this.checkedUntil = this.options.clock.now();
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Sleeps until the next run due (at most an hour); re-armed after a run, on every change, and by
   * the holder of its lease with several instances (a schedule set through another instance).
   */
  arm(): void {
    if (!this.running) return;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    const now = this.options.clock.now();
    const rows = this.options.db.prepare('SELECT * FROM control_schedules WHERE enabled = 1').all() as Row[];
    let next = now + MAX_SLEEP_MS;
    for (const row of rows) {
      const due = nextOccurrence(this.expandable(row), now + 1);
      if (due && due.start < next) next = due.start;
    }
    this.timer = this.options.clock.setTimeout(
      () => {
        this.tick();
        this.arm();
      },
      Math.max(1, next - now),
    );
  }

  list(): ControlSchedule[] {
    const rows = this.options.db
      .prepare('SELECT * FROM control_schedules ORDER BY created_at')
      .all() as Row[];
    return rows.map((row) => this.view(row));
  }

  get(id: string): ControlSchedule {
    return this.view(this.row(id));
  }

  /** The targets are already scoped to the caller's commune. */
  create(input: z.output<typeof ControlScheduleCreateSchema>, createdBy: string | null): ControlSchedule {
    const id = `ctl-${randomBytes(5).toString('hex')}`;
    this.options.db
      .prepare(
        `INSERT INTO control_schedules (id, name, targets, command, starts_local, rrule, timezone, enabled, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.name,
        JSON.stringify(input.targets),
        JSON.stringify(input.command),
        normalizeWall(input.start),
        input.rrule ? normalizeRecurrence(input.rrule) : null,
        input.timezone ?? this.options.defaultTimezone,
        input.enabled ? 1 : 0,
        createdBy,
        this.options.clock.now(),
      );
    this.arm();
    return this.get(id);
  }

  update(id: string, patch: z.output<typeof ControlSchedulePatchSchema>): ControlSchedule {
    const current = this.row(id);
    this.options.db
      .prepare('UPDATE control_schedules SET name = ?, enabled = ? WHERE id = ?')
      .run(
        patch.name ?? current.name,
        patch.enabled === undefined ? current.enabled : patch.enabled ? 1 : 0,
        id,
      );
    this.arm();
    return this.get(id);
  }

  delete(id: string): ControlSchedule {
    const schedule = this.get(id);
    this.options.db.prepare('DELETE FROM control_schedules WHERE id = ?').run(id);
    this.arm();
    return schedule;
  }

  /** Runs what fell due since the last tick. */
  tick(): void {
    const now = this.options.clock.now();
    const from = this.checkedUntil;
    this.checkedUntil = now;
    const rows = this.options.db.prepare('SELECT * FROM control_schedules WHERE enabled = 1').all() as Row[];
    for (const row of rows) {
      const due = expandOccurrences(this.expandable(row), from, now + 1).filter(
        (o) => o.start > from && o.start <= now,
      );
      if (due.length > 0) void this.run(row, now);
    }
  }

  private async run(row: Row, at: number): Promise<void> {
    const { commands, isOnline, resolveTargets, logger } = this.options;
    const command = JSON.parse(row.command) as Command;
    const result: LastRun = { at, done: 0, offline: 0, failed: 0 };
    try {
      const clusterIds = resolveTargets(JSON.parse(row.targets) as Targets);
      const sent = await Promise.all(
        clusterIds.map(async (clusterId) => {
          if (!isOnline(clusterId)) return null;
          const record = await commands.send(clusterId, command);
          return record ? commands.waitForFinal(record.id, ACK_WAIT_MS) : null;
        }),
      );
      for (const record of sent) {
        if (record === null) result.offline++;
        else if (record.status === 'done') result.done++;
        else result.failed++;
      }
    } catch (error) {
      logger.error({ err: error, scheduleId: row.id }, 'a control schedule could not run');
    }
    this.options.db
      .prepare('UPDATE control_schedules SET last_run = ? WHERE id = ?')
      .run(JSON.stringify(result), row.id);
    logger.info({ scheduleId: row.id, ...result }, 'control schedule ran');
  }

  private expandable(row: Row) {
    return {
      startsLocal: row.starts_local,
      timezone: row.timezone,
      rrule: row.rrule,
      exdates: [],
      durationS: 1,
    };
  }

  private row(id: string): Row {
    const row = this.options.db.prepare('SELECT * FROM control_schedules WHERE id = ?').get(id) as
      | Row
      | undefined;
    if (!row) throw new NotFoundError('control schedule', id);
    return row;
  }

  private view(row: Row): ControlSchedule {
    const next = row.enabled ? nextOccurrence(this.expandable(row), this.options.clock.now()) : null;
    const last = row.last_run ? (JSON.parse(row.last_run) as LastRun) : null;
    return {
      id: row.id,
      name: row.name,
      targets: JSON.parse(row.targets) as Targets,
      command: JSON.parse(row.command) as Command,
      start: row.starts_local,
      rrule: row.rrule,
      timezone: row.timezone,
      enabled: row.enabled === 1,
      next: next ? isoTime(next.start) : null,
      lastRun: last ? { ...last, at: isoTime(last.at) } : null,
      createdBy: row.created_by,
      createdAt: isoTime(row.created_at),
    };
  }
}
