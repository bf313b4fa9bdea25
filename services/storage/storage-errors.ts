/**
 * What a failed write to the platform's disk means, whichever layer reported it: SQLite
 * (better-sqlite3's SqliteError carries SQLite's extended result code, e.g. `SQLITE_FULL`,
 * `SQLITE_IOERR_WRITE`) or Node's file system (errno codes such as `ENOSPC`).
 */
export type StorageFailureKind = 'full' | 'read-only' | 'permission' | 'io';

export interface StorageFailure {
  kind: StorageFailureKind;
  /** The code as reported (`SQLITE_FULL`, `ENOSPC`, …). */
  code: string;
  /** Says what happened in words an operator can act on; names no path. */
  cause: string;
}

const ERRNO: Record<string, Omit<StorageFailure, 'code'>> = {
  ENOSPC: { kind: 'full', cause: 'no space left on the data disk' },
  EDQUOT: { kind: 'full', cause: 'the disk quota of the data directory is exhausted' },
  EFBIG: { kind: 'full', cause: 'a file grew past the size the system allows' },
  EROFS: { kind: 'read-only', cause: 'the data disk is mounted read-only' },
  EACCES: { kind: 'permission', cause: 'permission denied on the data directory' },
  EPERM: { kind: 'permission', cause: 'the operation is not permitted on the data directory' },
  EIO: { kind: 'io', cause: 'the data disk reported an input/output error' },
};

/** The storage failure behind `error`, or null when it is something else. */
export function storageFailure(error: unknown): StorageFailure | null {
  if (typeof error !== 'object' || error === null) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  const errno = ERRNO[code];
  if (errno) return { ...errno, code };
  if (!code.startsWith('SQLITE_')) return null;
  // SQLite's extended codes name the primary code first: SQLITE_IOERR_WRITE is an SQLITE_IOERR.
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_DISKFULL')
    return { kind: 'full', code, cause: 'no space left on the data disk (the database cannot grow)' };
  if (code.startsWith('SQLITE_READONLY'))
    return { kind: 'read-only', code, cause: 'the database cannot be written (read-only)' };
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN'))
    return { kind: 'io', code, cause: `the database could not be written (${code})` };
  return null;
}
