import { type Driver, Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Db } from '../database.js';
import { migratePostgres } from './postgres-migrations.js';
import type { StateSchema } from './schema.js';
import { STATE_STORES } from './state-stores.js';

export type StateEngine = 'sqlite' | 'postgres';
export type StateTransaction = Transaction<StateSchema>;

/**
 * The query layer (Kysely) over the engine that holds the converted stores' state: the platform's
 * SQLite file, or PostgreSQL when DATABASE_URL names one. Stores take this, never an engine.
 */
export interface StateDatabase {
  readonly engine: StateEngine;
  readonly db: Kysely<StateSchema>;
  /** Runs `work` in one transaction: all of it is stored, or (when it throws) none. */
  transaction<T>(work: (trx: StateTransaction) => Promise<T>): Promise<T>;
  /**
   * Sends `payload` to every instance listening on `channel` when `trx` commits (PostgreSQL's
   * NOTIFY); nothing on SQLite, where one file has nobody else to tell.
   */
  notify(trx: StateTransaction, channel: string, payload: string): Promise<void>;
  /**
   * Hears what any instance sends on `channel` (PostgreSQL's LISTEN on a connection of its own,
   * reconnected with a backoff when lost). `onResync` runs after every connection, the first
   * included, when messages may have been missed. Null on SQLite.
   */
  listen(channel: string, onMessage: (payload: string) => void, onResync: () => void): Listening | null;
  /** Closes PostgreSQL's pool; on SQLite the shared handle stays with its owner. */
  close(): Promise<void>;
}

export interface Listening {
  close(): Promise<void>;
}

/**
 * On SQLite the query layer runs on the platform's own better-sqlite3 handle, already migrated by
 * openDatabase: one file, one connection, so the converted stores and those still on prepared
 * statements see each other's writes at once. Kysely serialises its own queries on that
 * connection; a transaction's statements run one after another within microtasks, and a statement
 * of another store that lands in that window joins the transaction.
 */
export function sqliteState(handle: Db): StateDatabase {
  const db = new Kysely<StateSchema>({ dialect: new SqliteStateDialect(handle) });
  return {
    engine: 'sqlite',
    db,
    transaction: (work) => db.transaction().execute(work),
    notify: async () => {},
    listen: () => null,
    // Kysely's destroy() would close the shared handle under the stores still using it.
    close: async () => {},
  };
}

/**
 * SQLite ends a transaction by itself on some failures (SQLITE_FULL, SQLITE_IOERR): Kysely's
 * ROLLBACK then fails with "no transaction is active" and would hide the failure that matters, so
 * it is sent only while a transaction is open.
 */
class SqliteStateDialect extends SqliteDialect {
  constructor(private readonly handle: Db) {
    super({ database: handle });
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection) => {
      if (this.handle.inTransaction) await rollback(connection);
    };
    return driver;
  }
}

/** PostgreSQL's int8 (BIGINT, COUNT(*)) as a number: times in ms and counts fit well within 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresStateOptions {
  url: string;
  logger: Logger;
  /** Connections kept open at most (default 10). */
  poolMax?: number;
}

/**
 * Connects to PostgreSQL with a pool and applies its migrations. The password in `url` is never
 * logged; a failure names the host and database only.
 */
export async function postgresState(options: PostgresStateOptions): Promise<StateDatabase> {
  const log = options.logger.child({ component: 'state-db' });
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    types,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', (error) => log.warn({ err: error }, 'a pooled PostgreSQL connection failed'));
  const db = new Kysely<StateSchema>({ dialect: new PostgresDialect({ pool }) });
  try {
    const applied = await migratePostgres(db as unknown as Kysely<unknown>);
    for (const name of applied) log.info({ migration: name }, 'PostgreSQL migrated');
  } catch (error) {
    await db.destroy();
    throw new Error(`PostgreSQL at ${describeUrl(options.url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const listener = new PostgresListener(options.url, log);
  return {
    engine: 'postgres',
    db,
    transaction: (work) => db.transaction().execute(work),
    async notify(trx, channel, payload) {
      await sql`SELECT pg_notify(${channel}, ${payload})`.execute(trx);
    },
    listen(channel, onMessage, onResync) {
      const remove = listener.add({ channel, onMessage, onResync });
      return { close: async () => remove() };
    },
    async close() {
      await listener.close();
      await db.destroy();
    },
  };
}

const RELISTEN_MIN_MS = 500;
const RELISTEN_MAX_MS = 15_000;

interface Subscription {
  channel: string;
  onMessage(payload: string): void;
  onResync(): void;
}

/**
 * One LISTEN connection for every channel of an instance, outside the pool (a pooled connection
 * may be handed to anyone, and a connection per store would spend PostgreSQL's connection limit).
 * It is opened with the first channel; a lost connection is opened again after a growing pause,
 * every channel is listened to again, and each one's `onResync` runs, since whatever was sent
 * meanwhile went unheard. A channel added while connected is listened to at once.
 */
class PostgresListener {
  private client: pg.Client | null = null;
  private connected = false;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private pauseMs = RELISTEN_MIN_MS;
  private readonly subscriptions = new Set<Subscription>();

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  /** Listens on the subscription's channel; returns what stops it (the last one ends the connection). */
  add(subscription: Subscription): () => Promise<void> {
    this.subscriptions.add(subscription);
    if (this.closed) return async () => {};
    if (!this.client) this.open();
    else if (this.connected) {
      const client = this.client;
      client
        .query(`LISTEN ${pg.escapeIdentifier(subscription.channel)}`)
        .then(() => {
          if (this.subscriptions.has(subscription)) subscription.onResync();
        })
        // The connection was lost meanwhile: its reopening listens to every channel again.
        .catch((error: unknown) => this.log.debug({ err: error }, 'LISTEN failed on a closing connection'));
    }
    return async () => {
      this.subscriptions.delete(subscription);
      if ([...this.subscriptions].some((s) => s.channel === subscription.channel)) return;
      if (this.subscriptions.size === 0) await this.close(false);
      else if (this.connected)
        await this.client
          ?.query(`UNLISTEN ${pg.escapeIdentifier(subscription.channel)}`)
          .catch(() => undefined);
    };
  }

  private open(): void {
    if (this.closed || this.subscriptions.size === 0) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
    this.client = client;
    this.connected = false;
    let lost = false;
    const again = (error?: Error) => {
      if (lost || this.closed || this.client !== client) return;
      lost = true;
      this.connected = false;
      if (error) this.log.warn({ err: error }, 'PostgreSQL LISTEN connection lost');
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      this.retry = setTimeout(() => this.open(), this.pauseMs);
      this.retry.unref();
      this.pauseMs = Math.min(this.pauseMs * 2, RELISTEN_MAX_MS);
    };
    client.on('error', again);
    client.on('end', () => again());
    client.on('notification', (message) => {
      if (message.payload === undefined) return;
      for (const subscription of [...this.subscriptions])
        if (subscription.channel === message.channel) subscription.onMessage(message.payload);
    });
    client
      .connect()
      .then(async () => {
        // Until no channel is left out: one may be added while the others are being listened to.
        const listened = new Set<string>();
        for (;;) {
          const pending = [...new Set([...this.subscriptions].map((s) => s.channel))].filter(
            (channel) => !listened.has(channel),
          );
          if (pending.length === 0) break;
          for (const channel of pending) {
            await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
            listened.add(channel);
          }
        }
        if (this.closed || this.client !== client) return;
        this.connected = true;
        this.pauseMs = RELISTEN_MIN_MS;
        for (const subscription of [...this.subscriptions]) subscription.onResync();
      })
      .catch(again);
  }

  /** Ends the connection: for good when the database closes, until the next channel otherwise. */
  async close(forGood = true): Promise<void> {
    if (forGood) this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const client = this.client;
    this.client = null;
    this.connected = false;
    if (client) await client.end().catch(() => undefined);
  }
}

/** host:port/database of a postgres:// URL, without its credentials. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

/**
 * The query layer as the configuration asks: PostgreSQL with DATABASE_URL, else the SQLite handle
 * given.
 */
export async function openState(
  config: Pick<Config, 'DATABASE_URL'>,
  sqlite: Db,
  logger: Logger,
): Promise<StateDatabase> {
  if (!config.DATABASE_URL) return sqliteState(sqlite);
  const state = await postgresState({ url: config.DATABASE_URL, logger });
  logger.info(
    { postgres: describeUrl(config.DATABASE_URL), stores: STATE_STORES.map((s) => s.name) },
    "state in PostgreSQL; this instance's SQLite file holds its copy",
  );
  return state;
}
