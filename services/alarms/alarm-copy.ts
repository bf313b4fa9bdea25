import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * Alarms, village outages and maintenance windows as each instance copies them from PostgreSQL
 * (services/storage/sql/table-copy.ts): the alarm console, the availability reports and the engine
 * read them from this instance's SQLite file. One instance (the camera poller's holder) raises and
 * clears alarms; an acknowledgement or a window is written by the instance that served it.
 */

export const ALARMS_CHANNEL = 'alarms_changed';

export const ALARM_TABLES: readonly CopiedTable[] = [
  {
    name: 'alarms',
    key: 'id',
    columns: [
      'id',
      'kind',
      'severity',
      'state',
      'device_id',
      'device_kind',
      'commune_id',
      'village_id',
      'detail',
      'incident_id',
      'held',
      'opened_at',
      'acknowledged_at',
      'acknowledged_by',
      'note',
      'cleared_at',
    ],
  },
  {
    name: 'incidents',
    key: 'id',
    columns: ['id', 'kind', 'commune_id', 'village_id', 'opened_at', 'cleared_at', 'devices'],
  },
  {
    name: 'maintenance_windows',
    key: 'id',
    columns: [
      'id',
      'commune_id',
      'village_id',
      'device_ids',
      'starts_at',
      'ends_at',
      'reason',
      'created_by',
      'created_at',
    ],
  },
];

export const alarmCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, ALARMS_CHANNEL, ALARM_TABLES);

export const ALARM_RULES_CHANNEL = 'alarm_rules_changed';

const RULE_COLUMNS = [
  'commune_id',
  'kind',
  'enabled',
  'severity',
  'threshold',
  'for_s',
  'updated_by',
  'updated_at',
] as const;

type RuleRow = Record<(typeof RULE_COLUMNS)[number], unknown>;

/**
 * The communes' alarm rules, keyed by (commune, kind), which a TableCopy (one key column) cannot
 * follow. They are few (at most one per kind and commune) and change by hand, so every change
 * copies the whole table again.
 */
export class AlarmRulesCopy {
  private readonly origin = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private listening: { close(): Promise<void> } | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly state: StateDatabase,
    private readonly logger: Logger,
  ) {}

  get remote(): boolean {
    return this.state.engine === 'postgres';
  }

  async announce(trx: StateTransaction, communeId: string): Promise<void> {
    if (!this.remote) return;
    await this.state.notify(trx, ALARM_RULES_CHANNEL, JSON.stringify({ communeId, origin: this.origin }));
  }

  /** Fills an empty PostgreSQL from this file once, copies the rules, then follows every change. */
  async start(onCopied: (communeId: string) => void): Promise<void> {
    if (!this.remote) return;
    await this.fillPostgresOnce();
    let connected: () => void = () => undefined;
    const first = new Promise<void>((resolve) => {
      connected = resolve;
    });
    this.listening = this.state.listen(
      ALARM_RULES_CHANNEL,
      (payload) => {
        let notice: { communeId?: unknown; origin?: unknown };
        try {
          notice = JSON.parse(payload) as typeof notice;
        } catch {
          return;
        }
        if (notice.origin === this.origin || typeof notice.communeId !== 'string') return;
        const communeId = notice.communeId;
        this.queue = this.queue
          .then(() => this.copy())
          .then(() => onCopied(communeId))
          .catch((error) => this.logger.warn({ err: error }, 'could not copy the alarm rules'));
      },
      () => {
        this.queue = this.queue
          .then(() => this.copy())
          .catch((error) => this.logger.warn({ err: error }, 'could not copy the alarm rules'))
          .finally(connected);
      },
    );
    await Promise.race([first, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
  }

  async stop(): Promise<void> {
    await this.listening?.close();
    this.listening = null;
    await this.queue;
  }

  /** Makes this file's rules equal PostgreSQL's. */
  async copy(): Promise<void> {
    if (!this.remote) return;
    const rows = (await sql<RuleRow>`SELECT * FROM alarm_rules`.execute(this.state.db)).rows;
    const insert = this.db.prepare(
      `INSERT INTO alarm_rules (${RULE_COLUMNS.join(', ')}) VALUES (${RULE_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM alarm_rules').run();
      for (const row of rows) insert.run(Object.fromEntries(RULE_COLUMNS.map((c) => [c, row[c] ?? null])));
    })();
  }

  private async fillPostgresOnce(): Promise<void> {
    const local = this.db.prepare('SELECT * FROM alarm_rules').all() as RuleRow[];
    if (local.length === 0) return;
    await this.state.transaction(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${ALARM_RULES_CHANNEL}))`.execute(trx);
      const any = await sql`SELECT 1 FROM alarm_rules LIMIT 1`.execute(trx);
      if (any.rows.length > 0) return;
      for (const row of local)
        await sql`INSERT INTO alarm_rules (${sql.join(RULE_COLUMNS.map((c) => sql.ref(c)))}) VALUES (${sql.join(
          RULE_COLUMNS.map((c) => row[c] ?? null),
        )})`.execute(trx);
      this.logger.warn(
        { rows: local.length },
        "PostgreSQL had no alarm rules: filled from this instance's SQLite file",
      );
    });
  }
}
