import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../database.js';
import type { StateDatabase, StateTransaction } from './state-database.js';

/*
 * With DATABASE_URL, a store whose records change seldom but are read on every message (the
 * registry, media, schedules) keeps them in PostgreSQL and a read copy in each instance's SQLite
 * file: reads stay synchronous and local, and the logs written to that file (shipped-log.ts) keep
 * their foreign keys and joins to them. Every write goes to PostgreSQL first and is announced to the other instances
 * (NOTIFY, delivered on commit); each copies what changed, and copies everything again whenever
 * its LISTEN connection was (re)opened. On SQLite alone the file is the store and nothing is copied.
 */

/** A table copied row by row, keyed by one column. */
export interface CopiedTable {
  name: string;
  key: string;
  columns: readonly string[];
  /** A column naming a row of an earlier copied table, which is copied first when missing here. */
  parent?: { column: string; table: string };
  /** Rows of other tables that belong to one of this table's rows, copied (replaced) with it. */
  children?: readonly CopiedChild[];
  /** A column every update changes (updated_at): a full copy tells which rows changed by it. */
  version?: string;
}

/** Rows of another table that belong to a copied row. */
export interface CopiedChild {
  name: string;
  foreignKey: string;
  columns: readonly string[];
  /**
   * An SQL condition on the child table's own columns naming the rows this copy owns, where a
   * shipped log keeps rows in the same table (approval steps of schedules, not broadcasts).
   */
  where?: string;
  /** The order rows are copied in, for a child whose SQLite key is assigned as it is inserted. */
  orderBy?: string;
}

/** What a write touched, as the instances tell each other. */
export interface TableTouch {
  table: string;
  id: string;
  change: 'created' | 'updated' | 'deleted';
  /** Copied, but nobody needs to hear of it (a rotated device secret). */
  quiet?: boolean;
}

interface Notice extends TableTouch {
  /** The copy that wrote it, which is up to date already. */
  origin: string;
}

/** How long a start waits for its LISTEN connection before copying without it. */
const LISTEN_WAIT_MS = 15_000;
/** Rows written per SQLite transaction by a full copy, the event loop let go between them. */
const COPY_SLICE = 500;
/** How long after a failed copy everything is copied again. */
const COPY_AGAIN_MS = 1_000;

/** INSERT … ON CONFLICT DO UPDATE, never REPLACE: a replaced row would cascade to its dependants. */
function upsertSql(table: string, columns: readonly string[], key: string): string {
  const updates = columns.filter((c) => c !== key).map((c) => `${c} = excluded.${c}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (${key}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`;
}

type Row = Record<string, unknown>;

/** A child's condition and order in PostgreSQL, after `WHERE` or `AND` (written by the store, not input). */
const scoped = (child: CopiedChild, join: 'WHERE' | 'AND') =>
  sql`${child.where ? sql.raw(` ${join} ${child.where}`) : sql``}${child.orderBy ? sql.raw(` ORDER BY ${child.orderBy}`) : sql``}`;

const pick = (row: Row, columns: readonly string[]): Row =>
  Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));

/**
 * A row's values as one string, equal for PostgreSQL's row (as picked for SQLite) and the row
 * SQLite gives back once it is stored: numbers, text and blobs compared by their text.
 */
const rowValues = (row: Row, columns: readonly string[]): string =>
  JSON.stringify(
    columns.map((c) => {
      const value = row[c];
      if (value === null || value === undefined) return null;
      if (Buffer.isBuffer(value)) return `blob:${value.toString('hex')}`;
      if (typeof value === 'boolean') return value ? '1' : '0';
      return String(value);
    }),
  );

/**
 * Keeps `tables` (parents first) of an instance's SQLite file equal to PostgreSQL's. `channel`
 * names the NOTIFY channel, one per store.
 */
export class TableCopy {
  readonly origin = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private listening: { close(): Promise<void> } | null = null;
  private queue: Promise<void> = Promise.resolve();
  private again: NodeJS.Timeout | null = null;
  private readonly childStatements = new Map<
    CopiedChild,
    { drop: ReturnType<Db['prepare']>; insert: ReturnType<Db['prepare']> }
  >();
  private readonly tables = new Map<string, CopiedTable>();

  constructor(
    private readonly db: Db,
    private readonly state: StateDatabase,
    private readonly logger: Logger,
    private readonly channel: string,
    tables: readonly CopiedTable[],
  ) {
    for (const table of tables) this.tables.set(table.name, table);
  }

  /** Whether there is anything to copy: the store is in PostgreSQL. */
  get remote(): boolean {
    return this.state.engine === 'postgres';
  }

  /** Tells the other instances, when `trx` commits, what it touched. */
  async announce(trx: StateTransaction, touch: TableTouch): Promise<void> {
    if (!this.remote) return;
    const notice: Notice = { ...touch, origin: this.origin };
    await this.state.notify(trx, this.channel, JSON.stringify(notice));
  }

  /**
   * Starts following PostgreSQL: tables still empty there are first filled from this instance's
   * SQLite file (once, whichever instance gets there first); then everything is copied here, and
   * each change another instance announces is copied as it comes. `onCopied` hears what changed
   * after the first copy.
   */
  async start(onCopied: (touch: TableTouch) => void): Promise<void> {
    if (!this.remote) return;
    await this.fillPostgresOnce();
    // Listening first, then the copy: a change made in between is heard, not lost.
    let connected: () => void = () => undefined;
    const listening = new Promise<void>((resolve) => {
      connected = resolve;
    });
    let initial = true;
    this.listening = this.state.listen(
      this.channel,
      (payload) => {
        let notice: Notice;
        try {
          notice = JSON.parse(payload) as Notice;
        } catch {
          return;
        }
        if (notice.origin === this.origin || !this.tables.has(notice.table)) return;
        const { origin: _, ...touch } = notice;
        // One at a time, in the order sent: an older read must not land after a newer one.
        this.queue = this.queue
          .then(() => this.copy(touch))
          .then(() => onCopied(touch))
          .catch((error) => {
            this.logger.warn(
              { err: error, notice },
              'could not copy a change: copying everything again shortly',
            );
            this.copyAllLater(onCopied);
          });
      },
      () => {
        // Every (re)connection copies everything: what was sent while nobody listened is not resent.
        this.queue = this.queue
          .then(() => this.copyAll())
          .then((changes) => {
            if (initial) {
              initial = false;
              this.logger.info({ changed: changes.length }, 'copied from PostgreSQL');
            } else for (const touch of changes) onCopied(touch);
          })
          .catch((error) => this.logger.warn({ err: error }, 'could not copy from PostgreSQL'))
          .finally(connected);
      },
    );
    let waited: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      waited = setTimeout(() => resolve('late'), LISTEN_WAIT_MS);
    });
    if ((await Promise.race([listening, late])) === 'late') {
      // Start on a copy all the same; the connection, once made, copies again.
      this.logger.warn('PostgreSQL LISTEN not connected yet: starting on a copy made without it');
      initial = false;
      await this.copyAll();
    }
    clearTimeout(waited);
  }

  /**
   * A change that could not be copied (a record of another store it refers to has not arrived yet,
   * or PostgreSQL did not answer) is caught up by copying everything again, once, a moment later.
   */
  private copyAllLater(onCopied: (touch: TableTouch) => void): void {
    if (this.again || !this.listening) return;
    this.again = setTimeout(() => {
      this.again = null;
      this.queue = this.queue
        .then(() => this.copyAll())
        .then((changes) => {
          for (const touch of changes) onCopied(touch);
        })
        .catch((error) => {
          this.logger.warn({ err: error }, 'could not copy from PostgreSQL');
          this.copyAllLater(onCopied);
        });
    }, COPY_AGAIN_MS);
    this.again.unref();
  }

  async stop(): Promise<void> {
    if (this.again) clearTimeout(this.again);
    this.again = null;
    await this.listening?.close();
    this.listening = null;
    await this.queue;
  }

  /**
   * Copies everything now, after the changes already heard and in their order, so no older read
   * lands after it; returns what changed.
   */
  catchUp(): Promise<TableTouch[]> {
    if (!this.remote) return Promise.resolve([]);
    const run = this.queue.then(() => this.copyAll());
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Copies one row (with its children) from PostgreSQL, or its absence. */
  async copy(touch: Pick<TableTouch, 'table' | 'id'>): Promise<void> {
    if (!this.remote) return;
    const table = this.tables.get(touch.table);
    if (!table) throw new Error(`${touch.table} is not a copied table`);
    const found =
      await sql<Row>`SELECT * FROM ${sql.table(table.name)} WHERE ${sql.ref(table.key)} = ${touch.id}`.execute(
        this.state.db,
      );
    const row = found.rows[0];
    const children = await Promise.all(
      (table.children ?? []).map(
        async (child) =>
          (
            await sql<Row>`SELECT * FROM ${sql.table(child.name)} WHERE ${sql.ref(child.foreignKey)} = ${touch.id}${scoped(child, 'AND')}`.execute(
              this.state.db,
            )
          ).rows,
      ),
    );
    const parentId = row && table.parent ? String(row[table.parent.column] ?? '') : '';
    if (table.parent && parentId && !this.has(table.parent.table, parentId))
      await this.copy({ table: table.parent.table, id: parentId });
    this.db.transaction(() => {
      if (!row) {
        // Children without a foreign key to their row (a shared table) go with it here too.
        for (const child of table.children ?? []) this.replaceChildren(child, touch.id, []);
        this.db.prepare(`DELETE FROM ${table.name} WHERE ${table.key} = ?`).run(touch.id);
        return;
      }
      this.db.prepare(upsertSql(table.name, table.columns, table.key)).run(pick(row, table.columns));
      for (const [i, child] of (table.children ?? []).entries())
        this.replaceChildren(child, touch.id, children[i] ?? []);
    })();
  }

  /** Makes this instance's copy equal PostgreSQL's, in one SQLite transaction; returns what changed. */
  async copyAll(): Promise<TableTouch[]> {
    const read = async (name: string, child?: CopiedChild) =>
      (
        await sql<Row>`SELECT * FROM ${sql.table(name)}${child ? scoped(child, 'WHERE') : sql``}`.execute(
          this.state.db,
        )
      ).rows;
    const tables = [...this.tables.values()];
    const rows = await Promise.all(tables.map((t) => read(t.name)));
    const childRows = await Promise.all(
      tables.map((t) => Promise.all((t.children ?? []).map((c) => read(c.name, c)))),
    );
    const changes: TableTouch[] = [];
    const gone: { table: CopiedTable; id: string }[] = [];
    for (const [i, table] of tables.entries()) {
      const theirs = rows[i] ?? [];
      // What each row here is: its version, or without one its columns' values as one string.
      const version = table.version;
      const here = new Map(
        version
          ? (
              this.db.prepare(`SELECT ${table.key} AS id, ${version} AS v FROM ${table.name}`).all() as {
                id: string;
                v: unknown;
              }[]
            ).map((r) => [String(r.id), r.v])
          : (this.db.prepare(`SELECT ${table.columns.join(', ')} FROM ${table.name}`).all() as Row[]).map(
              (r) => [String(r[table.key]), rowValues(r, table.columns)],
            ),
      );
      const upsert = this.db.prepare(upsertSql(table.name, table.columns, table.key));
      const childrenOf = (table.children ?? []).map((child, c) => {
        const byParent = new Map<string, Row[]>();
        for (const row of childRows[i]?.[c] ?? []) {
          const parent = String(row[child.foreignKey]);
          const list = byParent.get(parent);
          if (list) list.push(row);
          else byParent.set(parent, [row]);
        }
        return byParent;
      });
      const written: { row: Row; id: string; same: boolean }[] = [];
      for (const row of theirs) {
        const id = String(row[table.key]);
        const known = here.has(id);
        // Unchanged (by its version, or by every column's value): the row is not written again
        // (its children are, below).
        const same =
          known &&
          here.get(id) === (version ? row[version] : rowValues(pick(row, table.columns), table.columns));
        if (!known) changes.push({ table: table.name, id, change: 'created' });
        else if (!same) changes.push({ table: table.name, id, change: 'updated' });
        here.delete(id);
        written.push({ row, id, same });
      }
      // A slice of rows per transaction, the event loop (the broker, the dispatcher) let go between
      // slices: a copy of a large store after a reconnection never holds it for long.
      for (let at = 0; at < written.length; at += COPY_SLICE) {
        const slice = written.slice(at, at + COPY_SLICE);
        this.db.transaction(() => {
          for (const { row, id, same } of slice) {
            if (!same) upsert.run(pick(row, table.columns));
            for (const [c, child] of (table.children ?? []).entries())
              this.replaceChildren(child, id, childrenOf[c]?.get(id) ?? []);
          }
        })();
        if (at + COPY_SLICE < written.length) await new Promise((resolve) => setImmediate(resolve));
      }
      for (const id of here.keys()) gone.push({ table, id });
    }
    // Dependants first: a child before its parent.
    this.db.transaction(() => {
      for (const { table, id } of gone.reverse()) {
        // Children too: one kept in a table shared with another store has no cascade to go with it.
        for (const child of table.children ?? []) this.replaceChildren(child, id, []);
        this.db.prepare(`DELETE FROM ${table.name} WHERE ${table.key} = ?`).run(id);
        changes.push({ table: table.name, id, change: 'deleted' });
      }
    })();
    return changes;
  }

  private has(table: string, id: string): boolean {
    const key = this.tables.get(table)?.key ?? 'id';
    return this.db.prepare(`SELECT 1 FROM ${table} WHERE ${key} = ?`).get(id) !== undefined;
  }

  private replaceChildren(child: CopiedChild, parentId: string, rows: Row[]): void {
    let statements = this.childStatements.get(child);
    if (!statements) {
      statements = {
        drop: this.db.prepare(
          `DELETE FROM ${child.name} WHERE ${child.foreignKey} = ?${child.where ? ` AND ${child.where}` : ''}`,
        ),
        insert: this.db.prepare(
          `INSERT INTO ${child.name} (${child.columns.join(', ')}) VALUES (${child.columns.map((c) => `@${c}`).join(', ')})`,
        ),
      };
      this.childStatements.set(child, statements);
    }
    statements.drop.run(parentId);
    for (const row of rows) statements.insert.run(pick(row, child.columns));
  }

  /**
   * The first instance of a store on a PostgreSQL (a platform moving to DATABASE_URL) fills each
   * of its tables still empty there with this file's rows, in one transaction under an advisory
   * lock, and marks the store as filled (`copy_fills`): instances starting together fill it once,
   * and rows deleted later are never brought back by an instance starting with an old file.
   * Without this the first copy would empty the file.
   */
  private async fillPostgresOnce(): Promise<void> {
    const local = (name: string, child?: CopiedChild) =>
      this.db
        .prepare(
          `SELECT * FROM ${name}${child?.where ? ` WHERE ${child.where}` : ''}${child?.orderBy ? ` ORDER BY ${child.orderBy}` : ''}`,
        )
        .all() as Row[];
    const tables = [...this.tables.values()];
    const filled = await this.state.transaction(async (trx) => {
      // hashtext() of the channel's name: one lock number per store, for every instance.
      await sql`SELECT pg_advisory_xact_lock(hashtext(${this.channel}))`.execute(trx);
      const marked = await trx
        .insertInto('copy_fills')
        .values({ channel: this.channel, filled_at: Date.now() })
        .onConflict((oc) => oc.column('channel').doNothing())
        .executeTakeFirst();
      if (Number(marked.numInsertedOrUpdatedRows ?? 0) === 0) return 0;
      let count = 0;
      const insert = async (name: string, columns: readonly string[], rows: Row[]) => {
        for (let i = 0; i < rows.length; i += 500) {
          const part = rows.slice(i, i + 500).map((row) => pick(row, columns));
          await sql`INSERT INTO ${sql.table(name)} (${sql.join(columns.map((c) => sql.ref(c)))}) VALUES ${sql.join(
            part.map((row) => sql`(${sql.join(columns.map((c) => row[c]))})`),
          )}`.execute(trx);
        }
        count += rows.length;
      };
      for (const table of tables) {
        const any = await sql`SELECT 1 FROM ${sql.table(table.name)} LIMIT 1`.execute(trx);
        if (any.rows.length > 0) continue;
        await insert(table.name, table.columns, local(table.name));
        for (const child of table.children ?? [])
          await insert(child.name, child.columns, local(child.name, child));
      }
      return count;
    });
    if (filled > 0)
      this.logger.warn(
        { channel: this.channel, rows: filled },
        "PostgreSQL was empty: filled from this instance's SQLite file",
      );
  }
}
