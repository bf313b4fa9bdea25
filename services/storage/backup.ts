import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { assertIntact } from './database.js';

/** The platform database's file name inside DATA_DIR. */
export const DATABASE_FILE = 'smart-commune.sqlite';

export interface BackupResult {
  /** The backup file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
}

/** Resolves symlinks of the part of `path` that exists, so two spellings of a file compare equal. */
function canonical(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    try {
      return join(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/**
 * Copies DATA_DIR's database to `out` with SQLite's backup API (consistent even while the platform
 * writes), owner-only (0600), checked with quick_check, and as a single self-contained file
 * (journal_mode DELETE, no -wal to carry along). `out` is replaced only once the copy checked out.
 */
export async function backupDatabase(dataDir: string, out: string): Promise<BackupResult> {
  const source = join(dataDir, DATABASE_FILE);
  if (!existsSync(source)) throw new Error(`No database at ${source}; check DATA_DIR.`);
  const target = canonical(out);
  const live = canonical(source);
  if ([live, `${live}-wal`, `${live}-shm`].includes(target)) {
    throw new Error(`Refusing to write the backup over the live database (${out}).`);
  }
  if (existsSync(target) && statSync(target).isDirectory()) {
    throw new Error(`${out} is a directory; give a file name for the backup.`);
  }

  const partial = join(dirname(target), `.${basename(target)}.partial-${randomBytes(4).toString('hex')}`);
  closeSync(openSync(partial, 'wx', 0o600));
  try {
    const db = new Database(source, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      await db.backup(partial);
    } finally {
      db.close();
    }
    const copy = new Database(partial, { fileMustExist: true });
    try {
      assertIntact(copy, partial);
      copy.pragma('journal_mode = DELETE');
    } finally {
      if (copy.open) copy.close();
    }
    removeQuietly(`${partial}-wal`);
    removeQuietly(`${partial}-shm`);
    chmodSync(partial, 0o600);
    renameSync(partial, target);
  } catch (error) {
    removeQuietly(partial);
    removeQuietly(`${partial}-wal`);
    removeQuietly(`${partial}-shm`);
    removeQuietly(`${partial}-journal`);
    throw error;
  }
  return { path: target, bytes: statSync(target).size };
}
