import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(
      `The database is at schema version ${found}, newer than this release knows (${known}). ` +
        'Run a newer release; migrations only go forward.',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** Opens (creating if needed) the platform database and brings its schema up to date. */
export function openDatabase(path: string, logger: Logger): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, logger);
  cacheStatements(db);
  return db;
}

/** Distinct statement texts kept compiled; beyond it the cache starts over (SQL built per call). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * better-sqlite3 compiles a statement on every prepare(), and the stores prepare where they use
 * them: on the hot paths (an emergency's thousands of acks) compiling cost more than running.
 * Compiled statements are kept per SQL text. They are safe to share because nothing here binds
 * them permanently or switches them to raw/pluck modes, and SQLite recompiles them itself after a
 * schema change.
 */
function cacheStatements(db: Db): void {
  const compile = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (!statement) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
      statement = compile(sql);
      cache.set(sql, statement);
    }
    return statement;
  }) as Db['prepare'];
}

export function migrate(db: Db, logger: Logger): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as {
    version: number | null;
  };
  const current = row.version ?? 0;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) throw new SchemaTooNewError(current, latest);
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    })();
    logger.info({ version: migration.version, name: migration.name }, 'database migrated');
  }
}
