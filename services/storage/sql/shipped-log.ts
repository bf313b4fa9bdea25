import { type RawBuilder, sql } from 'kysely';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { systemClock } from '../../../devices/index.js';
import { BurstLogger } from '../../burst-logger.js';
import type { Db } from '../database.js';
import type { Listening, StateDatabase, StateTransaction } from './state-database.js';

/*
 * With DATABASE_URL, a log written on a hot path (the broadcast log: a delivery changes with every
 * ack) stays written synchronously to each instance's SQLite file, and what an instance changes is
 * shipped to PostgreSQL behind it, in the order made; the other instances copy it from there.
 *
 * - Temporary triggers on the log's tables fill `log_outbox` (a persistent table: what a crash
 *   left unshipped is shipped on the next start) with each insert, update (only the columns it
 *   changed) and delete, in the same SQLite transaction as the change.
 * - A shipper applies the outbox to PostgreSQL in batches, one transaction each under an advisory
 *   lock, column by column (two instances changing different columns of one row both land),
 *   recording each change it applied in `log_changes`, numbered in the order applied, and NOTIFYs.
 *   An update older than PostgreSQL's row by its version column is not applied, nor one changing a
 *   settled column (a finished broadcast stays finished): a change shipped late, after a crash, never
 *   undoes what another instance recorded since.
 * - Every instance copies the changes others shipped, in that order, as PostgreSQL now has the
 *   rows, then applies again what it changed itself and has not shipped yet; an instance that never
 *   copied (a new DATA_DIR) or fell behind what was pruned copies everything.
 *
 * On SQLite alone none of this runs: the file is the log.
 */

type Row = Record<string, unknown>;

export interface ShippedTable {
  name: string;
  /** The columns naming a row on every instance (never a local AUTOINCREMENT id). */
  key: readonly string[];
  /** The columns shipped and copied, the key's among them. */
  columns: readonly string[];
  /** False where the key is not a unique constraint (rows appended): inserts check first. */
  unique?: boolean;
  /** The rows of a table shared with another store that are this log's. */
  only?: { column: string; value: string };
  /** A column every update moves forward (updated_at): an older update is not applied. */
  version?: string;
  /** Once this column leaves `open`, no update from an instance that had it open is applied. */
  settled?: { column: string; open: string };
}

export type ShippedOp = 'insert' | 'update' | 'delete';

/** A change another instance made, as now copied here (`row` null: the row is gone). */
export interface CopiedChange {
  table: string;
  op: ShippedOp;
  key: unknown[];
  row: Row | null;
}

interface OutboxEntry {
  id: number;
  tbl: string;
  op: ShippedOp;
  key: string;
  cols: string | null;
}

interface Shipping {
  table: ShippedTable;
  op: ShippedOp;
  key: unknown[];
  cols: Row;
}

/** Outbox entries shipped per PostgreSQL transaction. */
const SHIP_BATCH = 2_000;
/** Changes copied per SQLite transaction. */
const COPY_BATCH = 1_000;
/** Rows per multi-row INSERT in PostgreSQL, and per page of a full copy. */
const ROWS_PER_STATEMENT = 500;
/** How long changes stay in `log_changes`; an instance away longer copies everything. */
const KEEP_CHANGES_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;
/** The pause before shipping or copying again after a failure, growing to the second figure. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

const keyText = (table: string, key: unknown[]) => `${table}\u0000${JSON.stringify(key)}`;

/**
 * A value as PostgreSQL stores it: SQLite keeps a fraction in an INTEGER column (a time computed
 * with a backoff factor), BIGINT refuses it. The shipped tables have no REAL column.
 */
const toPostgres = (value: unknown) =>
  typeof value === 'number' && !Number.isInteger(value) ? Math.round(value) : (value ?? null);

export class ShippedLog {
  readonly origin = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private readonly tables = new Map<string, ShippedTable>();
  private readonly types = new Map<string, Map<string, string>>();
  /**
   * This log's rows of the outbox, which every shipped log of the file shares: each ships, counts
   * and drops only its own tables' changes.
   */
  private readonly own: string;
  private listening: Listening | null = null;
  private running = false;
  private shipping: Promise<void> = Promise.resolve();
  private copying: Promise<void> = Promise.resolve();
  private shipTurn: NodeJS.Immediate | null = null;
  private shipAgain: NodeJS.Timeout | null = null;
  private copyAgain: NodeJS.Timeout | null = null;
  private pruning: NodeJS.Timeout | null = null;
  private shipFailures = 0;
  /** After a batch PostgreSQL refused for its data: the next ships each change on its own. */
  private oneByOne = false;
  /** Changes PostgreSQL refused for their data (never for an outage), dropped and logged. */
  refused = 0;
  /** Shipping attempts that failed (PostgreSQL away), each tried again later. */
  failedShips = 0;
  /** One line per table and minute, however many are refused. */
  private readonly refusals: BurstLogger;
  private copyFailures = 0;
  private copyWanted = false;
  private onCopied: (changes: CopiedChange[]) => void = () => undefined;

  constructor(
    private readonly db: Db,
    private readonly state: StateDatabase,
    private readonly logger: Logger,
    /** The NOTIFY channel, and this log's name in `log_changes`, `copy_fills` and `log_position`. */
    readonly channel: string,
    /** Parents first. */
    tables: readonly ShippedTable[],
  ) {
    for (const table of tables) this.tables.set(table.name, table);
    this.own = `tbl IN (${tables.map((t) => `'${t.name.replace(/'/g, "''")}'`).join(', ')})`;
    this.refusals = new BurstLogger(logger, systemClock, 60_000);
  }

  get remote(): boolean {
    return this.state.engine === 'postgres';
  }

  /** Whether it ships and copies now (started on PostgreSQL, not stopped). */
  get active(): boolean {
    return this.running;
  }

  /** How many changes made here wait to be shipped. */
  get unshipped(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM log_outbox WHERE ${this.own}`).get() as { n: number })
      .n;
  }

  /**
   * Starts shipping and copying: fills an empty PostgreSQL from this file once, ships what an
   * earlier run left, and copies what the other instances shipped; `onCopied` hears each batch
   * copied after that.
   */
  async start(onCopied: (changes: CopiedChange[]) => void): Promise<void> {
    if (!this.remote || this.running) return;
    this.running = true;
    this.createTriggers();
    await this.fillPostgresOnce();
    await this.ship();
    await this.copy();
    this.onCopied = onCopied;
    this.listening = this.state.listen(
      this.channel,
      (origin) => {
        if (origin !== this.origin) this.copyLater();
      },
      () => this.copyLater(),
    );
    this.pruning = setInterval(() => {
      this.prune().catch((error) => this.logger.warn({ err: error }, 'could not prune shipped changes'));
    }, PRUNE_EVERY_MS);
    this.pruning.unref();
  }

  /** Ships what is waiting and copies what others shipped: a dispatcher taking over goes on from it. */
  async catchUp(): Promise<void> {
    if (!this.running) return;
    await this.ship();
    await this.copyQueued();
  }

  /** Ships what is left (as far as PostgreSQL answers), stops following, and drops the triggers. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const timer of [this.shipAgain, this.copyAgain, this.pruning]) if (timer) clearTimeout(timer);
    if (this.shipTurn) clearImmediate(this.shipTurn);
    this.shipTurn = null;
    await this.listening?.close();
    this.listening = null;
    await this.copying;
    this.running = true;
    await this.ship().catch(() => undefined);
    this.running = false;
    await this.shipping;
    if (this.shipAgain) clearTimeout(this.shipAgain);
    this.shipAgain = null;
    this.dropTriggers();
  }

  // --- shipping --------------------------------------------------------------------------------

  /** Called by the triggers: ships on the next turn of the event loop. */
  private nudge(): void {
    if (!this.running || this.shipTurn || this.shipAgain) return;
    this.shipTurn = setImmediate(() => {
      this.shipTurn = null;
      this.ship().catch(() => undefined);
    });
  }

  /** Ships the whole outbox, batch by batch; a failure is retried with a growing pause. */
  private ship(): Promise<void> {
    const next = this.shipping.then(async () => {
      if (!this.running) return;
      try {
        while (this.running && (await this.shipBatch()) > 0) {}
        this.shipFailures = 0;
      } catch (error) {
        // A value PostgreSQL refuses (class 22, 23) would stop the log for good: the next attempt
        // ships change by change, each under a savepoint, and drops the ones refused.
        const code = String((error as { code?: unknown }).code ?? '');
        if (code.startsWith('22') || code.startsWith('23')) this.oneByOne = true;
        this.shipFailures++;
        this.failedShips++;
        const pause = Math.min(RETRY_FIRST_MS * 2 ** (this.shipFailures - 1), RETRY_MAX_MS);
        this.logger.warn(
          { err: error, unshipped: this.unshipped, retryInMs: pause },
          'could not ship changes to PostgreSQL; kept here and tried again',
        );
        if (this.running && !this.shipAgain) {
          this.shipAgain = setTimeout(() => {
            this.shipAgain = null;
            this.ship().catch(() => undefined);
          }, pause);
          this.shipAgain.unref();
        }
        throw error;
      }
    });
    // One after another; a failure is the caller's to hear, not the next batch's.
    this.shipping = next.catch(() => undefined);
    return next;
  }

  private async shipBatch(): Promise<number> {
    const entries = this.db
      .prepare(`SELECT * FROM log_outbox WHERE ${this.own} ORDER BY id LIMIT ?`)
      .all(SHIP_BATCH) as OutboxEntry[];
    if (entries.length === 0) return 0;
    // Change by change, none folded into another, after a refusal: only the refused one is dropped.
    const batch = this.merged(entries, !this.oneByOne);
    await this.state.transaction(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`log:${this.channel}`}))`.execute(trx);
      const applied: Shipping[] = [];
      if (this.oneByOne) {
        for (const entry of batch) {
          await sql`SAVEPOINT one_change`.execute(trx);
          try {
            const done =
              entry.op === 'insert' && entry.table.unique !== false
                ? (await this.insertRemote(trx, [entry])).length > 0
                : await this.applyRemote(trx, entry);
            await sql`RELEASE SAVEPOINT one_change`.execute(trx);
            if (done) applied.push(entry);
          } catch (error) {
            const code = String((error as { code?: unknown }).code ?? '');
            if (!code.startsWith('22') && !code.startsWith('23')) throw error;
            await sql`ROLLBACK TO SAVEPOINT one_change`.execute(trx);
            this.refused++;
            this.refusals.warn(
              entry.table.name,
              {
                table: entry.table.name,
                op: entry.op,
                key: JSON.stringify(entry.key).slice(0, 200),
                code,
                error: String((error as Error).message).slice(0, 300),
                refused: this.refused,
              },
              'PostgreSQL refused a change of the log: dropped',
            );
          }
        }
      }
      if (!this.oneByOne) applied.push(...(await this.applyBatch(trx, batch)));
      const at = Date.now();
      for (let i = 0; i < applied.length; i += ROWS_PER_STATEMENT) {
        const part = applied.slice(i, i + ROWS_PER_STATEMENT);
        await sql`INSERT INTO log_changes (channel, origin, tbl, op, key, at) VALUES ${sql.join(
          part.map(
            (c) =>
              sql`(${this.channel}, ${this.origin}, ${c.table.name}, ${c.op}, ${JSON.stringify(c.key)}, ${at})`,
          ),
        )}`.execute(trx);
      }
      if (applied.length > 0) await this.state.notify(trx, this.channel, this.origin);
    });
    this.oneByOne = false;
    const last = (entries[entries.length - 1] as OutboxEntry).id;
    this.db.prepare(`DELETE FROM log_outbox WHERE id <= ? AND ${this.own}`).run(last);
    return entries.length;
  }

  /**
   * A folded batch in few statements. Between two deletes no row is both inserted and updated (the
   * updates are folded into the insert), so each stretch runs its inserts first, in order (parents
   * first; a run into one table is one statement), then its updates, one statement per table and
   * set of columns changed.
   */
  private async applyBatch(trx: StateTransaction, batch: Shipping[]): Promise<Shipping[]> {
    const applied: Shipping[] = [];
    let stretch: Shipping[] = [];
    const flush = async () => {
      const inserts = stretch.filter((s) => s.op === 'insert');
      for (let i = 0; i < inserts.length; ) {
        const entry = inserts[i] as Shipping;
        if (entry.table.unique === false) {
          if (await this.applyRemote(trx, entry)) applied.push(entry);
          i++;
          continue;
        }
        let end = i;
        while (end < inserts.length && end - i < ROWS_PER_STATEMENT && inserts[end]?.table === entry.table)
          end++;
        applied.push(...(await this.insertRemote(trx, inserts.slice(i, end))));
        i = end;
      }
      const groups = new Map<string, Shipping[]>();
      for (const s of stretch) {
        if (s.op !== 'update') continue;
        const group = `${s.table.name}\u0000${Object.keys(s.cols).sort().join(',')}`;
        const list = groups.get(group) ?? [];
        list.push(s);
        groups.set(group, list);
      }
      for (const group of groups.values())
        for (let i = 0; i < group.length; i += ROWS_PER_STATEMENT)
          applied.push(...(await this.updateRemote(trx, group.slice(i, i + ROWS_PER_STATEMENT))));
      stretch = [];
    };
    for (const entry of batch) {
      if (entry.op !== 'delete') {
        stretch.push(entry);
        continue;
      }
      await flush();
      if (await this.applyRemote(trx, entry)) applied.push(entry);
    }
    await flush();
    return applied;
  }

  /** PostgreSQL's type of each column of a table, for the casts of a multi-row UPDATE's values. */
  private async columnTypes(trx: StateTransaction, table: ShippedTable): Promise<Map<string, string>> {
    const known = this.types.get(table.name);
    if (known) return known;
    const { rows } = await sql<{ column_name: string; udt_name: string }>`
      SELECT column_name, udt_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ${table.name}`.execute(trx);
    const types = new Map(
      rows.filter((r) => /^[a-z0-9_]+$/.test(r.udt_name)).map((r) => [r.column_name, r.udt_name]),
    );
    this.types.set(table.name, types);
    return types;
  }

  /**
   * Updates of one table changing the same columns, in one statement; those applied (not refused by
   * a newer version or a settled column) are returned.
   */
  private async updateRemote(trx: StateTransaction, group: Shipping[]): Promise<Shipping[]> {
    const first = group[0] as Shipping;
    const { table } = first;
    if (group.length === 1) return (await this.applyRemote(trx, first)) ? [first] : [];
    const sets = Object.keys(first.cols).filter((c) => table.columns.includes(c) && !table.key.includes(c));
    if (sets.length === 0) return [];
    const types = await this.columnTypes(trx, table);
    const columns = [...table.key, ...sets];
    const typed = (column: string, value: unknown) => {
      const type = types.get(column);
      return type ? sql`${toPostgres(value)}::${sql.raw(type)}` : sql`${toPostgres(value)}`;
    };
    const values = sql.join(
      group.map(
        (s) =>
          sql`(${sql.join(
            columns.map((c) => typed(c, table.key.includes(c) ? s.key[table.key.indexOf(c)] : s.cols[c])),
          )})`,
      ),
    );
    const target = (c: string) => sql.ref(`t.${c}`);
    const given = (c: string) => sql.ref(`v.${c}`);
    const guards = table.key.map((k) => sql`${target(k)} = ${given(k)}`);
    const { version, settled } = table;
    if (version && sets.includes(version))
      guards.push(
        sql`(${target(version)} IS NULL OR ${given(version)} IS NULL OR ${target(version)} <= ${given(version)})`,
      );
    if (settled && sets.includes(settled.column))
      guards.push(
        sql`(${target(settled.column)} = ${settled.open} OR ${target(settled.column)} = ${given(settled.column)})`,
      );
    const { rows } = await sql<Row>`UPDATE ${sql.table(table.name)} AS t
      SET ${sql.join(sets.map((c) => sql`${sql.ref(c)} = ${given(c)}`))}
      FROM (VALUES ${values}) AS v (${sql.join(columns.map((c) => sql.ref(c)))})
      WHERE ${sql.join(guards, sql` AND `)}
      RETURNING ${sql.join(table.key.map((k) => target(k)))}`.execute(trx);
    const updated = new Set(rows.map((r) => JSON.stringify(table.key.map((k) => r[k]))));
    return group.filter((s) => updated.has(JSON.stringify(s.key)));
  }

  /**
   * The outbox's entries with each row's successive changes folded into its first: an insert and
   * the updates after it become one insert of the latest values, a run of updates one update.
   */
  private merged(entries: OutboxEntry[], fold = true): Shipping[] {
    const out: Shipping[] = [];
    const open = new Map<string, Shipping>();
    for (const e of entries) {
      const table = this.tables.get(e.tbl);
      if (!table) continue;
      const key = JSON.parse(e.key) as unknown[];
      const cols = e.cols ? (JSON.parse(e.cols) as Row) : {};
      const id = keyText(e.tbl, key);
      const earlier = open.get(id);
      if (fold && e.op === 'update' && earlier && earlier.op !== 'delete') {
        Object.assign(earlier.cols, cols);
        continue;
      }
      const shipping: Shipping = { table, op: e.op, key, cols };
      out.push(shipping);
      if (e.op === 'delete') open.delete(id);
      // Rows without a unique key may repeat: each insert stays its own.
      else if (table.unique !== false) open.set(id, shipping);
    }
    return out;
  }

  private keyMatch(table: ShippedTable, key: unknown[]) {
    return sql.join(
      table.key.map((k, i) => sql`${sql.ref(k)} = ${toPostgres(key[i])}`),
      sql` AND `,
    );
  }

  /** A run of inserts into a table with a unique key: those whose row was not there yet. */
  private async insertRemote(trx: StateTransaction, run: Shipping[]): Promise<Shipping[]> {
    const table = (run[0] as Shipping).table;
    const columns = table.columns;
    const { rows } =
      await sql<Row>`INSERT INTO ${sql.table(table.name)} (${sql.join(columns.map((c) => sql.ref(c)))})
      VALUES ${sql.join(run.map((s) => sql`(${sql.join(columns.map((c) => toPostgres(s.cols[c])))})`))}
      ON CONFLICT DO NOTHING RETURNING ${sql.join(table.key.map((k) => sql.ref(k)))}`.execute(trx);
    const inserted = new Set(rows.map((r) => JSON.stringify(table.key.map((k) => r[k]))));
    return run.filter((s) => inserted.has(JSON.stringify(s.key)));
  }

  /** Applies one change; false when it changed nothing (a late change PostgreSQL has since passed). */
  private async applyRemote(trx: StateTransaction, s: Shipping): Promise<boolean> {
    const { table } = s;
    const name = sql.table(table.name);
    if (s.op === 'delete') {
      const result = await sql`DELETE FROM ${name} WHERE ${this.keyMatch(table, s.key)}`.execute(trx);
      return Number(result.numAffectedRows ?? 0) > 0;
    }
    if (s.op === 'insert') {
      const there = await sql`SELECT 1 FROM ${name} WHERE ${this.keyMatch(table, s.key)} LIMIT 1`.execute(
        trx,
      );
      if (there.rows.length > 0) return false;
      const columns = table.columns;
      await sql`INSERT INTO ${name} (${sql.join(columns.map((c) => sql.ref(c)))})
        VALUES (${sql.join(columns.map((c) => toPostgres(s.cols[c])))})`.execute(trx);
      return true;
    }
    const sets = Object.entries(s.cols).filter(([c]) => table.columns.includes(c) && !table.key.includes(c));
    if (sets.length === 0) return false;
    const guards = [this.keyMatch(table, s.key)];
    const version = table.version;
    if (version && s.cols[version] !== undefined && s.cols[version] !== null)
      guards.push(
        sql`(${sql.ref(version)} IS NULL OR ${sql.ref(version)} <= ${toPostgres(s.cols[version])})`,
      );
    const settled = table.settled;
    if (settled && s.cols[settled.column] !== undefined)
      guards.push(
        sql`(${sql.ref(settled.column)} = ${settled.open} OR ${sql.ref(settled.column)} = ${s.cols[settled.column]})`,
      );
    const result = await sql`UPDATE ${name} SET ${sql.join(
      sets.map(([c, v]) => sql`${sql.ref(c)} = ${toPostgres(v)}`),
    )} WHERE ${sql.join(guards, sql` AND `)}`.execute(trx);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  // --- copying ---------------------------------------------------------------------------------

  /** Copies soon, once however many notices arrive meanwhile. */
  private copyLater(): void {
    if (!this.running || this.copyWanted) return;
    this.copyWanted = true;
    this.copyQueued().catch(() => undefined);
  }

  /** Copies after any copy under way: one at a time, so the position only moves forward. */
  private copyQueued(): Promise<void> {
    const next = this.copying.then(async () => {
      this.copyWanted = false;
      await this.copy();
    });
    this.copying = next.catch(() => undefined);
    return next;
  }

  /** Copies every change others shipped since the last copy; a failure is retried with a pause. */
  private async copy(): Promise<void> {
    try {
      while (this.running && (await this.copyBatch())) {}
      this.copyFailures = 0;
    } catch (error) {
      this.copyFailures++;
      const pause = Math.min(RETRY_FIRST_MS * 2 ** (this.copyFailures - 1), RETRY_MAX_MS);
      this.logger.warn({ err: error, retryInMs: pause }, 'could not copy shipped changes; trying again');
      if (this.running && !this.copyAgain) {
        this.copyAgain = setTimeout(() => {
          this.copyAgain = null;
          this.copyLater();
        }, pause);
        this.copyAgain.unref();
      }
      throw error;
    }
  }

  private position(): number | null {
    const row = this.db.prepare('SELECT last_id FROM log_position WHERE channel = ?').get(this.channel) as
      | { last_id: number }
      | undefined;
    return row?.last_id ?? null;
  }

  private setPosition(lastId: number): void {
    this.db
      .prepare(
        'INSERT INTO log_position (channel, last_id) VALUES (?, ?) ON CONFLICT (channel) DO UPDATE SET last_id = excluded.last_id',
      )
      .run(this.channel, lastId);
  }

  /** Copies one batch of changes; true when there may be more. */
  private async copyBatch(): Promise<boolean> {
    const last = this.position();
    const horizon = await sql<{
      through_id: string;
    }>`SELECT through_id FROM log_horizon WHERE channel = ${this.channel}`.execute(this.state.db);
    const through = Number(horizon.rows[0]?.through_id ?? 0);
    if (last === null || last < through) {
      await this.copyEverything();
      return false;
    }
    const { rows } = await sql<{ id: string; origin: string; tbl: string; op: ShippedOp; key: string }>`
      SELECT id, origin, tbl, op, key FROM log_changes WHERE channel = ${this.channel} AND id > ${last}
      ORDER BY id LIMIT ${COPY_BATCH}`.execute(this.state.db);
    if (rows.length === 0) return false;
    const lastId = Number((rows[rows.length - 1] as { id: string }).id);
    const theirs = rows.filter((r) => r.origin !== this.origin && this.tables.has(r.tbl));
    // Each row once, as PostgreSQL has it now, in the order first changed: parents before children.
    const wanted = new Map<string, { table: ShippedTable; op: ShippedOp; key: unknown[] }>();
    for (const r of theirs) {
      const key = JSON.parse(r.key) as unknown[];
      const id = keyText(r.tbl, key);
      if (!wanted.has(id)) wanted.set(id, { table: this.tables.get(r.tbl) as ShippedTable, op: r.op, key });
    }
    const current = await this.readRows([...wanted.values()]);
    const changes = [...wanted.entries()].map(([id, w]) => ({
      table: w.table.name,
      op: w.op,
      key: w.key,
      row: current.get(id) ?? null,
    }));
    this.applyHere(changes, () => this.setPosition(lastId));
    if (changes.length > 0) this.onCopied(changes);
    return rows.length === COPY_BATCH;
  }

  /** The rows PostgreSQL has for these keys, by keyText (absent: deleted). */
  private async readRows(wanted: { table: ShippedTable; key: unknown[] }[]): Promise<Map<string, Row>> {
    const found = new Map<string, Row>();
    const byTable = new Map<ShippedTable, unknown[][]>();
    for (const w of wanted) {
      const list = byTable.get(w.table) ?? [];
      list.push(w.key);
      byTable.set(w.table, list);
    }
    for (const [table, keys] of byTable) {
      for (let i = 0; i < keys.length; i += ROWS_PER_STATEMENT) {
        const part = keys.slice(i, i + ROWS_PER_STATEMENT);
        const { rows } =
          await sql<Row>`SELECT ${sql.join(table.columns.map((c) => sql.ref(c)))} FROM ${sql.table(table.name)}
          WHERE (${sql.join(table.key.map((k) => sql.ref(k)))}) IN (${sql.join(
            part.map((key) => sql`(${sql.join(key.map((v) => sql`${v}`))})`),
          )})`.execute(this.state.db);
        for (const row of rows)
          found.set(
            keyText(
              table.name,
              table.key.map((k) => row[k]),
            ),
            fromPostgres(table, row),
          );
      }
    }
    return found;
  }

  /**
   * Writes copied rows (null: removes them) in one SQLite transaction, then applies again what this
   * instance changed of the same rows and has not shipped yet; the outbox entries the copy itself
   * made are dropped.
   */
  private applyHere(changes: CopiedChange[], also: () => void = () => undefined): void {
    this.db.transaction(() => {
      const mark = (
        this.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM log_outbox').get() as { m: number }
      ).m;
      const touched = new Set<string>();
      for (const change of changes) {
        const table = this.tables.get(change.table) as ShippedTable;
        touched.add(keyText(table.name, change.key));
        if (change.row) this.writeHere(table, change.row);
        else this.deleteHere(table, change.key);
      }
      if (mark > 0 && touched.size > 0) {
        const own = this.db
          .prepare(`SELECT * FROM log_outbox WHERE id <= ? AND ${this.own} ORDER BY id`)
          .all(mark) as OutboxEntry[];
        for (const entry of own) {
          const table = this.tables.get(entry.tbl);
          if (!table || !touched.has(keyText(entry.tbl, JSON.parse(entry.key) as unknown[]))) continue;
          const key = JSON.parse(entry.key) as unknown[];
          const cols = entry.cols ? (JSON.parse(entry.cols) as Row) : {};
          if (entry.op === 'delete') this.deleteHere(table, key);
          else if (entry.op === 'insert') this.writeHere(table, cols);
          else this.updateHere(table, key, cols);
        }
      }
      this.db.prepare('DELETE FROM log_outbox WHERE id > ?').run(mark);
      also();
    })();
  }

  private writeHere(table: ShippedTable, row: Row): void {
    const values = Object.fromEntries(table.columns.map((c) => [c, row[c] ?? null]));
    if (table.unique === false) {
      const updated = this.updateHere(
        table,
        table.key.map((k) => row[k]),
        values,
      );
      if (updated > 0) return;
      this.db
        .prepare(
          `INSERT INTO ${table.name} (${table.columns.join(', ')}) VALUES (${table.columns.map((c) => `@${c}`).join(', ')})`,
        )
        .run(values);
      return;
    }
    const updates = table.columns.filter((c) => !table.key.includes(c)).map((c) => `${c} = excluded.${c}`);
    this.db
      .prepare(
        `INSERT INTO ${table.name} (${table.columns.join(', ')}) VALUES (${table.columns.map((c) => `@${c}`).join(', ')})
         ON CONFLICT (${table.key.join(', ')}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
      )
      .run(values);
  }

  private updateHere(table: ShippedTable, key: unknown[], cols: Row): number {
    const sets = Object.keys(cols).filter((c) => table.columns.includes(c) && !table.key.includes(c));
    if (sets.length === 0) return 0;
    const params: Row = {};
    for (const c of sets) params[c] = cols[c] ?? null;
    table.key.forEach((k, i) => {
      params[`k_${k}`] = key[i];
    });
    return this.db
      .prepare(
        `UPDATE ${table.name} SET ${sets.map((c) => `${c} = @${c}`).join(', ')}
         WHERE ${table.key.map((k) => `${k} = @k_${k}`).join(' AND ')}`,
      )
      .run(params).changes;
  }

  private deleteHere(table: ShippedTable, key: unknown[]): void {
    this.db
      .prepare(`DELETE FROM ${table.name} WHERE ${table.key.map((k) => `${k} = ?`).join(' AND ')}`)
      .run(...key);
  }

  /**
   * Makes this file's log equal PostgreSQL's, a page at a time with the event loop let go between
   * pages; rows this instance added and has not shipped yet are kept.
   */
  private async copyEverything(): Promise<void> {
    const max = await sql<{
      m: string | null;
    }>`SELECT MAX(id) AS m FROM log_changes WHERE channel = ${this.channel}`.execute(this.state.db);
    const through = Number(max.rows[0]?.m ?? 0);
    const seen = new Map<ShippedTable, Set<string>>();
    let copied = 0;
    for (const table of this.tables.values()) {
      const keys = new Set<string>();
      seen.set(table, keys);
      const keyColumns = sql.join(table.key.map((k) => sql.ref(k)));
      // Paged by key, not by offset: rows deleted meanwhile shift no page.
      let after: unknown[] | null = null;
      for (;;) {
        const conditions: RawBuilder<unknown>[] = [
          ...(table.only ? [sql`${sql.ref(table.only.column)} = ${table.only.value}`] : []),
          ...(after ? [sql`(${keyColumns}) > (${sql.join(after.map((v) => sql`${v}`))})`] : []),
        ];
        const { rows } =
          await sql<Row>`SELECT ${sql.join(table.columns.map((c) => sql.ref(c)))} FROM ${sql.table(table.name)}
          ${conditions.length > 0 ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``}
          ORDER BY ${keyColumns} LIMIT ${ROWS_PER_STATEMENT}`.execute(this.state.db);
        const changes: CopiedChange[] = rows.map((r) => {
          const row = fromPostgres(table, r);
          const key = table.key.map((k) => row[k]);
          keys.add(JSON.stringify(key));
          return { table: table.name, op: 'insert' as const, key, row };
        });
        this.applyHere(changes);
        copied += changes.length;
        if (rows.length < ROWS_PER_STATEMENT) break;
        after = (changes[changes.length - 1] as CopiedChange).key;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    // What PostgreSQL does not have goes, children before parents, unless it waits to be shipped.
    const pending = new Set(
      (
        this.db.prepare(`SELECT tbl, key FROM log_outbox WHERE ${this.own}`).all() as {
          tbl: string;
          key: string;
        }[]
      ).map((e) => keyText(e.tbl, JSON.parse(e.key) as unknown[])),
    );
    const gone: CopiedChange[] = [];
    for (const table of [...this.tables.values()].reverse()) {
      const keys = seen.get(table) as Set<string>;
      const here = this.db
        .prepare(
          `SELECT ${table.key.join(', ')} FROM ${table.name}${table.only ? ` WHERE ${table.only.column} = '${table.only.value}'` : ''}`,
        )
        .raw()
        .all() as unknown[][];
      for (const key of here) {
        const normal = key;
        if (keys.has(JSON.stringify(normal)) || pending.has(keyText(table.name, normal))) continue;
        gone.push({ table: table.name, op: 'delete', key, row: null });
      }
    }
    this.applyHere(gone, () => this.setPosition(through));
    this.logger.info(
      { channel: this.channel, copied, removed: gone.length },
      'copied the log from PostgreSQL',
    );
  }

  /** Drops changes older than a day; an instance that had not copied them copies everything. */
  private async prune(): Promise<void> {
    await this.state.transaction(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`log:${this.channel}`}))`.execute(trx);
      const { rows } = await sql<{ m: string | null }>`WITH gone AS (
          DELETE FROM log_changes WHERE channel = ${this.channel} AND at < ${Date.now() - KEEP_CHANGES_MS} RETURNING id)
        SELECT MAX(id) AS m FROM gone`.execute(trx);
      const through = rows[0]?.m;
      if (through === null || through === undefined) return;
      await sql`INSERT INTO log_horizon (channel, through_id) VALUES (${this.channel}, ${Number(through)})
        ON CONFLICT (channel) DO UPDATE SET through_id = GREATEST(log_horizon.through_id, excluded.through_id)`.execute(
        trx,
      );
    });
  }

  // --- the first start on PostgreSQL -------------------------------------------------------------

  /**
   * The first instance on a PostgreSQL without this log fills it from its SQLite file, once, under
   * an advisory lock (`copy_fills`); an instance starting later with an old file copies instead.
   */
  private async fillPostgresOnce(): Promise<void> {
    const filled = await this.state.transaction(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`log:${this.channel}`}))`.execute(trx);
      const marked = await trx
        .insertInto('copy_fills')
        .values({ channel: this.channel, filled_at: Date.now() })
        .onConflict((oc) => oc.column('channel').doNothing())
        .executeTakeFirst();
      if (Number(marked.numInsertedOrUpdatedRows ?? 0) === 0) return -1;
      let count = 0;
      for (const table of this.tables.values()) {
        const rows = this.db
          .prepare(
            `SELECT ${table.columns.join(', ')} FROM ${table.name}${table.only ? ` WHERE ${table.only.column} = '${table.only.value}'` : ''}`,
          )
          .all() as Row[];
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
          const part = rows.slice(i, i + ROWS_PER_STATEMENT);
          await sql`INSERT INTO ${sql.table(table.name)} (${sql.join(table.columns.map((c) => sql.ref(c)))}) VALUES ${sql.join(
            part.map((row) => sql`(${sql.join(table.columns.map((c) => toPostgres(row[c])))})`),
          )} ON CONFLICT DO NOTHING`.execute(trx);
        }
        count += rows.length;
      }
      return count;
    });
    if (filled < 0) return;
    // This file is what PostgreSQL now has: nothing to ship from before, nothing to copy back.
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM log_outbox WHERE ${this.own}`).run();
      this.setPosition(0);
    })();
    if (filled > 0)
      this.logger.warn(
        { channel: this.channel, rows: filled },
        "PostgreSQL had no log yet: filled from this instance's SQLite file",
      );
  }

  // --- triggers --------------------------------------------------------------------------------

  private get nudgeFunction(): string {
    return `sc_log_nudge_${this.channel.replace(/\W/g, '_')}`;
  }

  private triggerName(table: ShippedTable, op: ShippedOp): string {
    return `sc_log_${this.channel.replace(/\W/g, '_')}_${table.name}_${op}`;
  }

  private createTriggers(): void {
    this.db.function(this.nudgeFunction, { deterministic: false }, () => {
      this.nudge();
      return null;
    });
    const nudge = `SELECT ${this.nudgeFunction}();`;
    for (const table of this.tables.values()) {
      const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
      const keyOf = (row: 'NEW' | 'OLD') => `json_array(${table.key.map((k) => `${row}.${k}`).join(', ')})`;
      const only = (row: 'NEW' | 'OLD') =>
        table.only ? `${row}.${table.only.column} = ${quote(table.only.value)}` : '';
      const when = (...conditions: string[]) => {
        const all = conditions.filter((c) => c !== '');
        return all.length > 0 ? `WHEN ${all.map((c) => `(${c})`).join(' AND ')}` : '';
      };
      const outbox = (op: ShippedOp, key: string, cols: string) =>
        `INSERT INTO main.log_outbox (tbl, op, key, cols) VALUES (${quote(table.name)}, '${op}', ${key}, ${cols});`;
      const whole = `json_object(${table.columns.map((c) => `${quote(c)}, NEW.${c}`).join(', ')})`;
      const changed = table.columns.filter((c) => !table.key.includes(c));
      const changedCols = `(SELECT json_group_object(k, v) FROM (${changed
        .map((c) => `SELECT ${quote(c)} AS k, NEW.${c} AS v WHERE NEW.${c} IS NOT OLD.${c}`)
        .join(' UNION ALL ')}))`;
      this.dropTrigger(table, 'insert');
      this.dropTrigger(table, 'update');
      this.dropTrigger(table, 'delete');
      this.db.exec(
        `CREATE TEMP TRIGGER ${this.triggerName(table, 'insert')} AFTER INSERT ON main.${table.name} ${when(only('NEW'))}
         BEGIN ${outbox('insert', keyOf('NEW'), whole)} ${nudge} END`,
      );
      if (changed.length > 0)
        this.db.exec(
          `CREATE TEMP TRIGGER ${this.triggerName(table, 'update')} AFTER UPDATE ON main.${table.name}
           ${when(only('NEW'), changed.map((c) => `NEW.${c} IS NOT OLD.${c}`).join(' OR '))}
           BEGIN ${outbox('update', keyOf('NEW'), changedCols)} ${nudge} END`,
        );
      this.db.exec(
        `CREATE TEMP TRIGGER ${this.triggerName(table, 'delete')} AFTER DELETE ON main.${table.name} ${when(only('OLD'))}
         BEGIN ${outbox('delete', keyOf('OLD'), 'NULL')} ${nudge} END`,
      );
    }
  }

  private dropTrigger(table: ShippedTable, op: ShippedOp): void {
    this.db.exec(`DROP TRIGGER IF EXISTS temp.${this.triggerName(table, op)}`);
  }

  private dropTriggers(): void {
    if (!this.db.open) return;
    for (const table of this.tables.values())
      for (const op of ['insert', 'update', 'delete'] as const) this.dropTrigger(table, op);
  }
}

/** A row as PostgreSQL returned it, its columns only (BIGINT comes back as a number: state-database.ts). */
function fromPostgres(table: ShippedTable, row: Row): Row {
  const out: Row = {};
  for (const c of table.columns) out[c] = row[c] ?? null;
  return out;
}

const exposed = new WeakMap<Registry, Set<ShippedLog>>();

/**
 * A platform's shipped logs in its metrics: `sc_log_unshipped{log}` (changes written here and not
 * yet in PostgreSQL: it grows while PostgreSQL is away), and as errors the platform kept running
 * through, failed shipping attempts (`<log>-ship`) and changes PostgreSQL refused (`<log>-refused`).
 */
export function exposeShippedLog(
  metrics: Registry,
  keptRunning: (kind: string, count: () => number) => void,
  log: ShippedLog,
): void {
  let logs = exposed.get(metrics);
  if (!logs) {
    const all = new Set<ShippedLog>();
    logs = all;
    exposed.set(metrics, all);
    new Gauge({
      name: 'sc_log_unshipped',
      help: 'Changes of a log written on this instance and not yet shipped to PostgreSQL (DATABASE_URL)',
      labelNames: ['log'] as const,
      registers: [metrics],
      collect() {
        this.reset();
        for (const one of all) if (one.active) this.set({ log: one.channel }, one.unshipped);
      },
    });
  }
  logs.add(log);
  keptRunning(`${log.channel}-ship`, () => log.failedShips);
  keptRunning(`${log.channel}-refused`, () => log.refused);
}
