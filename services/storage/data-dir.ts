import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** DATA_DIR cannot be created or written; the message names the directory and the reason. */
export class DataDirError extends Error {
  constructor(
    readonly dir: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(
      `DATA_DIR ${dir} ${detail}; give the platform's user write access to it, or set DATA_DIR ` +
        'to a writable directory',
    );
    this.name = 'DataDirError';
  }
}

/** Files that only an earlier install leaves in DATA_DIR; their presence means the dir was used. */
export const EARLIER_INSTALL_MARKERS = [
  'mqtt-internal-password',
  'media-signing.key',
  'camera-credentials.key',
  'media',
] as const;

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'the path exists and is not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'a part of the path does not exist',
  ELOOP: 'too many symbolic links in the path',
  ENAMETOOLONG: 'the path is too long',
};

function reason(error: unknown): { code: string | undefined; text: string } {
  const code = (error as NodeJS.ErrnoException).code;
  const words = code ? REASONS[code] : undefined;
  const text = code ? `${code}: ${words ?? (error as Error).message}` : String((error as Error).message);
  return { code, text };
}

/**
 * Creates `dir` if needed and proves it writable by creating and removing a small probe file,
 * so a bad DATA_DIR fails at start-up with a plain message instead of deep inside SQLite. A full
 * disk is no reason to stay down (the platform can still send an emergency bulletin, and says on
 * /healthz that the disk is full): it answers 'full' instead of throwing.
 */
export function ensureWritableDataDir(dir: string): 'ok' | 'full' {
  try {
    // It holds the database, the keys and the internal credential: the platform's user only.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const { code, text } = reason(error);
    throw new DataDirError(dir, code, `cannot be created (${text})`);
  }
  const probe = join(dir, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(probe, 'wx', 0o600);
    try {
      writeSync(fd, 'probe');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const { code, text } = reason(error);
    if (code === 'ENOSPC' || code === 'EDQUOT') return 'full';
    throw new DataDirError(dir, code, `is not writable (${text})`);
  } finally {
    try {
      unlinkSync(probe);
    } catch {
      // Not created, or already gone.
    }
  }
  return 'ok';
}

/** The markers of an earlier install that `dir` holds (empty for a fresh directory). */
export function earlierInstallMarkers(dir: string): string[] {
  return EARLIER_INSTALL_MARKERS.filter((name) => existsSync(join(dir, name)));
}
