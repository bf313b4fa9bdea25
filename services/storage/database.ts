import { chmodSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { earlierInstallMarkers, ensureWritableDataDir } from './data-dir.js';
import { MIGRATIONS } from './migrations/index.js';

export { DataDirError } from './data-dir.js';

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

/** How to get a damaged or emptied database back, appended to every DatabaseCorruptError. */
export function restoreInstructions(path: string): string {
  return (
    `To restore: stop the platform, copy your latest backup (npm run backup -- --out <file>) over ${path}, ` +
    `delete ${path}-wal and ${path}-shm, and start again. See docs/backup.md.`
  );
}

/** The database file is damaged or was emptied; starting on it would lose data. */
export class DatabaseCorruptError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${problem} ${restoreInstructions(path)}`);
    this.name = 'DatabaseCorruptError';
  }
}

/** Longest part of quick_check's report (or SQLite's error) quoted in a DatabaseCorruptError. */
const MAX_PROBLEM_CHARS = 500;

function bounded(text: string): string {
  return text.length > MAX_PROBLEM_CHARS ? `${text.slice(0, MAX_PROBLEM_CHARS)}…` : text;
}

function isCorruptionError(error: unknown): error is Error {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'));
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Runs SQLite's quick_check on an open database; anything but 'ok' closes it and throws a
 * DatabaseCorruptError naming the first problems. Exported for the backup command.
 */
export function assertIntact(db: Db, path: string): void {
  let problems: string[];
  try {
    const rows = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
    problems = rows.map((row) => row.quick_check);
  } catch (error) {
    if (!isCorruptionError(error)) throw error;
    problems = [error.message];
  }
  if (problems.length === 1 && problems[0] === 'ok') return;
  db.close();
  throw new DatabaseCorruptError(
    path,
    `The database ${path} is damaged; SQLite's quick_check reported: ${bounded(problems.join('; '))}.`,
  );
}

/**
 * Refuses, before SQLite touches it, a database that cannot be right: DATA_DIR not writable, or
 * an empty database file in a DATA_DIR an earlier install used (opening it would silently start a
 * fresh install and lose every device secret). Returns whether the file already holds data.
 */
function checkBeforeOpen(path: string): boolean {
  const dir = dirname(path);
  ensureWritableDataDir(dir);
  const size = sizeOf(path);
  const walSize = sizeOf(`${path}-wal`) ?? 0;
  if (size === 0 && walSize === 0) {
    const markers = earlierInstallMarkers(dir);
    if (markers.length > 0) {
      throw new DatabaseCorruptError(
        path,
        `The database ${path} is empty (0 bytes) although this data dir was used before ` +
          `(it holds ${markers.join(', ')}). Starting would create a fresh install and lose every ` +
          'registered device and device secret, so the platform refuses to start.',
      );
    }
    return false;
  }
  return size !== undefined;
}

/**
 * Opens (creating if needed) the platform database and brings its schema up to date. Before that it
 * checks DATA_DIR is writable (DataDirError) and an existing database is intact
 * (DatabaseCorruptError), so a damaged install fails at start-up with instructions.
 */
export function openDatabase(path: string, logger: Logger): Db {
  const existing = path !== ':memory:' && checkBeforeOpen(path);
  let db: Db | undefined;
  try {
    db = new Database(path);
    db.pragma('busy_timeout = 5000');
    if (existing) assertIntact(db, path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, logger);
  } catch (error) {
    if (db?.open) db.close();
    if (isCorruptionError(error)) {
      throw new DatabaseCorruptError(
        path,
        `The database ${path} is damaged; SQLite reported: ${bounded(error.message)}.`,
      );
    }
    throw error;
  }
  cacheStatements(db);
  // ORDER BY natural_key(name): "Thôn 2" before "Thôn 10", as people number villages.
  db.function('natural_key', { deterministic: true }, (value: unknown) =>
    typeof value === 'string' ? value.replace(/\d+/g, (digits) => digits.padStart(12, '0')) : value,
  );
  if (path !== ':memory:') ownerOnly(path);
  return db;
}

/**
 * The database and its WAL hold device secrets' hashes, sessions and the audit log: readable by the
 * platform's user only, whatever the umask made them (SQLite creates them 0644).
 */
function ownerOnly(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
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
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const current = Math.max(0, ...applied);
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) throw new SchemaTooNewError(current, latest);
  // Each migration not applied yet, in order: one added below a version a database already has
  // (written in parallel with it) is applied too, not skipped.
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
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
