import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
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
import type { ControlSchedulesTable } from '../storage/sql/schema.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import { TableCopy } from '../storage/sql/table-copy.js';
import { isoTime } from '../time.js';
import type { CommandService } from './command-service.js';

type Command = ControlSchedule['command'];
type LastRun = { at: number; done: number; offline: number; failed: number };

type Row = Selectable<ControlSchedulesTable>;

/** The longest it sleeps with nothing due: the wall clock may have been set meanwhile. */
const MAX_SLEEP_MS = 3_600_000;
/** How long a run waits for the clusters' acks before it is recorded. */
const ACK_WAIT_MS = 10_000;

const COLUMNS = [
  'id',
  'name',
  'targets',
  'command',
  'starts_local',
  'rrule',
  'timezone',
  'enabled',
  'last_run',
  'created_by',
  'created_at',
] as const;

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
  /** With DATABASE_URL: this instance's copy of PostgreSQL's control schedules (table-copy.ts). */
  private readonly copy: TableCopy;

  constructor(
    private readonly options: {
      /** The platform's SQLite file: the schedules themselves, or this instance's copy. */
      db: Db;
      /** Where writes go: the same file, or PostgreSQL. */
      state: StateDatabase;
      commands: CommandService;
      isOnline(clusterId: string): boolean;
      resolveTargets(targets: Targets): string[];
      clock: Clock;
      logger: Logger;
      defaultTimezone: string;
    },
  ) {
    this.checkedUntil = options.clock.now();
    this.copy = new TableCopy(options.db, options.state, options.logger, 'control_schedules_changed', [
      { name: 'control_schedules', key: 'id', columns: COLUMNS },
    ]);
  }

  /** With PostgreSQL: copies the schedules here and follows other instances' changes. */
  async open(): Promise<void> {
    await this.copy.start(() => this.arm());
  }

  async close(): Promise<void> {
    await this.copy.stop();
  }

  /** One write through the query layer, told to the other instances, then copied here. */
  private async write(
    id: string,
    change: 'created' | 'updated' | 'deleted',
    work: (trx: Parameters<Parameters<StateDatabase['transaction']>[0]>[0]) => Promise<unknown>,
  ): Promise<void> {
    await this.options.state.transaction(async (trx) => {
      await work(trx);
      await this.copy.announce(trx, { table: 'control_schedules', id, change });
    });
    await this.copy.copy({ table: 'control_schedules', id });
  }

  /** A schedule another instance saved a moment ago is looked up in PostgreSQL before it is missing. */
  private async present(id: string): Promise<Row> {
    try {
      return this.row(id);
    } catch (error) {
      if (!(error instanceof NotFoundError) || !this.copy.remote) throw error;
      await this.copy.copy({ table: 'control_schedules', id });
      return this.row(id);
    }
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
  async create(
    input: z.output<typeof ControlScheduleCreateSchema>,
    createdBy: string | null,
  ): Promise<ControlSchedule> {
    const id = `ctl-${randomBytes(5).toString('hex')}`;
    await this.write(id, 'created', (trx) =>
      trx
        .insertInto('control_schedules')
        .values({
          id,
          name: input.name,
          targets: JSON.stringify(input.targets),
          command: JSON.stringify(input.command),
          starts_local: normalizeWall(input.start),
          rrule: input.rrule ? normalizeRecurrence(input.rrule) : null,
          timezone: input.timezone ?? this.options.defaultTimezone,
          enabled: input.enabled ? 1 : 0,
          last_run: null,
          created_by: createdBy,
          created_at: this.options.clock.now(),
        })
        .execute(),
    );
    this.arm();
    return this.get(id);
  }

  async update(id: string, patch: z.output<typeof ControlSchedulePatchSchema>): Promise<ControlSchedule> {
    const current = await this.present(id);
    await this.write(id, 'updated', (trx) =>
      trx
        .updateTable('control_schedules')
        .set({
          name: patch.name ?? current.name,
          enabled: patch.enabled === undefined ? current.enabled : patch.enabled ? 1 : 0,
        })
        .where('id', '=', id)
        .execute(),
    );
    this.arm();
    return this.get(id);
  }

  async delete(id: string): Promise<ControlSchedule> {
    const schedule = this.view(await this.present(id));
    await this.write(id, 'deleted', (trx) =>
      trx.deleteFrom('control_schedules').where('id', '=', id).execute(),
    );
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
    try {
      await this.write(row.id, 'updated', (trx) =>
        trx
          .updateTable('control_schedules')
          .set({ last_run: JSON.stringify(result) })
          .where('id', '=', row.id)
          .execute(),
      );
    } catch (error) {
      // Removed meanwhile, or the database is away: the run happened all the same, and is logged.
      logger.warn({ err: error, scheduleId: row.id }, 'a control schedule run was not recorded');
    }
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
