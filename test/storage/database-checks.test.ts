import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { backupDatabase } from '../../services/storage/backup.js';
import { DataDirError } from '../../services/storage/data-dir.js';
import { DatabaseCorruptError, type Db, openDatabase } from '../../services/storage/database.js';

const silent = pino({ level: 'silent' });
const dirs: string[] = [];
const open: Db[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'db-checks-'));
  dirs.push(dir);
  return dir;
}

function opened(path: string): Db {
  const db = openDatabase(path, silent);
  open.push(db);
  return db;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A database with a table of many rows, closed and checkpointed into the main file. */
function populated(path: string, rows = 5000): void {
  const db = new Database(path);
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO items (body) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i += 1) insert.run(`item ${i} ${'x'.repeat(100)}`);
  })();
  db.close();
}

describe('openDatabase start-up checks', () => {
  it('opens and migrates in a fresh data dir (created if missing)', () => {
    const dir = join(tempDir(), 'nested', 'data');
    const db = opened(join(dir, 'smart-commune.sqlite'));
    const row = db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number };
    expect(row.n).toBeGreaterThan(0);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // Device secrets' hashes, sessions and the audit log: the platform's user only.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const file of ['smart-commune.sqlite', 'smart-commune.sqlite-wal'])
      expect(statSync(join(dir, file)).mode & 0o777, file).toBe(0o600);
  });

  it('reopens an intact existing database', () => {
    const path = join(tempDir(), 'smart-commune.sqlite');
    opened(path).close();
    const db = opened(path);
    expect(
      (db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n,
    ).toBeGreaterThan(0);
  });

  it('accepts a 0-byte database file in a fresh data dir', () => {
    const dir = tempDir();
    const path = join(dir, 'smart-commune.sqlite');
    writeFileSync(path, '');
    const db = opened(path);
    expect(statSync(path).size).toBeGreaterThan(0);
    expect(
      (db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n,
    ).toBeGreaterThan(0);
  });

  it.each(['mqtt-internal-password', 'media-signing.key', 'camera-credentials.key', 'media'])(
    'refuses a 0-byte database in a data dir that holds %s from an earlier install',
    (marker) => {
      const dir = tempDir();
      const path = join(dir, 'smart-commune.sqlite');
      writeFileSync(path, '');
      if (marker === 'media') mkdirSync(join(dir, 'media'));
      else writeFileSync(join(dir, marker), 'secret');
      const error = caught(() => opened(path));
      expect(error).toBeInstanceOf(DatabaseCorruptError);
      const message = (error as Error).message;
      expect(message).toContain(path);
      expect(message).toContain('empty');
      expect(message).toContain('used before');
      expect(message).toContain(marker);
      expect(message).toMatch(/fresh install/);
      expect(message).toMatch(/device secret/);
      expect(message).toContain('docs/backup.md');
      // The file was left alone: still empty, so a restore can go over it.
      expect(statSync(path).size).toBe(0);
    },
  );

  it('refuses a database whose pages were overwritten with garbage', () => {
    const path = join(tempDir(), 'smart-commune.sqlite');
    populated(path);
    expect(statSync(path).size).toBeGreaterThan(4096 * 8);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xff), 0, 4096, 4096 * 2);
    writeSync(fd, randomBytes(4096), 0, 4096, 4096 * 5);
    closeSync(fd);
    const error = caught(() => opened(path));
    expect(error).toBeInstanceOf(DatabaseCorruptError);
    const message = (error as Error).message;
    expect(message).toContain(path);
    expect(message).toContain('damaged');
    expect(message).toContain('docs/backup.md');
    expect(message.length).toBeLessThan(1200);
  });

  it('refuses a file that is not a database at all', () => {
    const path = join(tempDir(), 'smart-commune.sqlite');
    writeFileSync(path, randomBytes(8192));
    const error = caught(() => opened(path));
    expect(error).toBeInstanceOf(DatabaseCorruptError);
    expect((error as Error).message).toContain(path);
  });

  it('names the data dir and the reason when it cannot be created (a file in the path)', () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const dir = join(file, 'sub');
    const error = caught(() => opened(join(dir, 'smart-commune.sqlite')));
    expect(error).toBeInstanceOf(DataDirError);
    const message = (error as Error).message;
    expect(message).toContain(`DATA_DIR ${dir}`);
    expect(message).toContain('ENOTDIR');
    expect(message).toContain('set DATA_DIR');
  });

  it.skipIf(process.getuid?.() === 0)('names the data dir when it is read-only', () => {
    const dir = tempDir();
    chmodSync(dir, 0o555);
    try {
      const error = caught(() => opened(join(dir, 'smart-commune.sqlite')));
      expect(error).toBeInstanceOf(DataDirError);
      expect((error as Error).message).toContain(`DATA_DIR ${dir} is not writable`);
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});

describe('backupDatabase', () => {
  it('copies the live database while it is open and being written', async () => {
    const dataDir = tempDir();
    const db = opened(join(dataDir, 'smart-commune.sqlite'));
    db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 3000; i += 1) insert.run(`note ${i} ${'y'.repeat(200)}`);
    })();
    const writer = setInterval(() => insert.run('written during the backup'), 1);
    let result: Awaited<ReturnType<typeof backupDatabase>>;
    try {
      result = await backupDatabase(dataDir, join(dataDir, 'backup.sqlite'));
    } finally {
      clearInterval(writer);
    }
    insert.run('after the backup');

    expect(result.path).toContain('backup.sqlite');
    expect(result.bytes).toBe(statSync(result.path).size);
    expect(statSync(result.path).mode & 0o777).toBe(0o600);
    const copy = new Database(result.path, { readonly: true, fileMustExist: true });
    try {
      expect(copy.pragma('quick_check', { simple: true })).toBe('ok');
      const n = (copy.prepare('SELECT COUNT(*) AS n FROM notes').get() as { n: number }).n;
      expect(n).toBeGreaterThanOrEqual(3000);
      expect(copy.prepare("SELECT 1 FROM notes WHERE body = 'after the backup'").get()).toBeUndefined();
      expect(
        (copy.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n,
      ).toBeGreaterThan(0);
    } finally {
      copy.close();
    }
    // The copy is a healthy platform database on its own.
    const restored = opened(result.path);
    expect(
      (restored.prepare('SELECT COUNT(*) AS n FROM notes').get() as { n: number }).n,
    ).toBeGreaterThanOrEqual(3000);
  });

  it('backs up a database the platform is not running on, replacing an earlier backup', async () => {
    const dataDir = tempDir();
    const out = join(tempDir(), 'nightly.sqlite');
    writeFileSync(out, 'an older backup');
    const db = opened(join(dataDir, 'smart-commune.sqlite'));
    db.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept')");
    db.close();
    const result = await backupDatabase(dataDir, out);
    const copy = new Database(result.path, { readonly: true });
    try {
      expect(copy.prepare('SELECT body FROM notes').pluck().get()).toBe('kept');
    } finally {
      copy.close();
    }
  });

  it('fails clearly without a database and refuses to overwrite the live one', async () => {
    const dataDir = tempDir();
    await expect(backupDatabase(dataDir, join(dataDir, 'b.sqlite'))).rejects.toThrow(/No database at/);
    opened(join(dataDir, 'smart-commune.sqlite'));
    await expect(backupDatabase(dataDir, join(dataDir, 'smart-commune.sqlite'))).rejects.toThrow(
      /live database/,
    );
  });
});
