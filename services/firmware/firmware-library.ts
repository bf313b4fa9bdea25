import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { FirmwareImage } from '../../contracts/firmware.js';
import type { Clock } from '../../devices/index.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { receiveFile, removeUnfinishedUploads, uploadTempPath } from '../media/file-transfer.js';
import type { Db } from '../storage/database.js';
import { isoTime } from '../time.js';

interface Row {
  id: string;
  version: string;
  filename: string;
  size_bytes: number;
  sha256: string;
  notes: string | null;
  created_by: string | null;
  created_at: number;
}

/** An upload on disk, not yet a firmware image: what arrived, and where. */
export interface ReceivedFile {
  path: string;
  filename: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * Firmware images: uploads streamed to `{dir}/{id}.bin`, hashed as they arrive, and kept only when
 * their SHA-256 is the one the uploader declared (the vendor's published checksum), so a truncated
 * or tampered file never reaches a cluster. One row per image in `firmware_images`.
 */
export class FirmwareLibrary {
  private readonly log: Logger;

  constructor(
    private readonly options: { db: Db; clock: Clock; logger: Logger; dir: string; maxBytes: number },
  ) {
    this.log = options.logger.child({ component: 'firmware' });
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Creates the directory and removes uploads a crash left half-written. */
  async start(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    const count = await removeUnfinishedUploads(this.options.dir);
    if (count > 0) this.log.warn({ count }, 'removed unfinished firmware uploads');
  }

  /** Streams an upload to a temporary file, hashing and counting it; refused past maxBytes. */
  async receive(stream: NodeJS.ReadableStream | Readable, filename: string): Promise<ReceivedFile> {
    const { dir, maxBytes } = this.options;
    await mkdir(dir, { recursive: true });
    const path = uploadTempPath(dir, randomBytes(6).toString('hex'));
    const { sizeBytes, sha256 } = await receiveFile(stream, path, maxBytes);
    return { path, filename: basename(filename || 'firmware.bin').slice(0, 200), sizeBytes, sha256 };
  }

  /**
   * Keeps a received file as an image when its checksum is the declared one and its version is
   * new; otherwise removes it and refuses (422, 409).
   */
  async commit(
    file: ReceivedFile,
    meta: { version: string; sha256: string; notes?: string; createdBy: string | null },
  ): Promise<FirmwareImage> {
    let kept = false;
    try {
      if (file.sizeBytes === 0) throw new UnprocessableError('the file is empty');
      if (file.sha256 !== meta.sha256.toLowerCase()) {
        throw new UnprocessableError(
          `checksum mismatch: the uploaded file's SHA-256 is ${file.sha256}, not ${meta.sha256.toLowerCase()}`,
          { sha256: file.sha256, declared: meta.sha256.toLowerCase() },
        );
      }
      if (this.findByVersion(meta.version))
        throw new ConflictError(`firmware ${meta.version} is already uploaded`, { version: meta.version });
      const id = `fw-${randomBytes(5).toString('hex')}`;
      const now = this.options.clock.now();
      const path = this.pathOf(id);
      await rename(file.path, path);
      try {
        this.options.db
          .prepare(
            `INSERT INTO firmware_images (id, version, filename, size_bytes, sha256, notes, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            meta.version,
            file.filename,
            file.sizeBytes,
            file.sha256,
            meta.notes ?? null,
            meta.createdBy,
            now,
          );
      } catch (error) {
        await rm(path, { force: true });
        throw error;
      }
      kept = true;
      this.log.info({ id, version: meta.version, sizeBytes: file.sizeBytes }, 'firmware stored');
      return this.get(id);
    } finally {
      if (!kept) await rm(file.path, { force: true });
    }
  }

  /** Removes a received file that will not be committed (a later part of the upload was refused). */
  async discard(file: ReceivedFile): Promise<void> {
    await rm(file.path, { force: true });
  }

  get(id: string): FirmwareImage {
    const row = this.options.db.prepare('SELECT * FROM firmware_images WHERE id = ?').get(id) as
      | Row
      | undefined;
    if (!row) throw new NotFoundError('firmware', id);
    return toImage(row);
  }

  findByVersion(version: string): FirmwareImage | null {
    const row = this.options.db.prepare('SELECT * FROM firmware_images WHERE version = ?').get(version) as
      | Row
      | undefined;
    return row ? toImage(row) : null;
  }

  /** Newest first. */
  list(page: { limit: number; offset: number }): { items: FirmwareImage[]; total: number } {
    const { db } = this.options;
    const rows = db
      .prepare('SELECT * FROM firmware_images ORDER BY created_at DESC, id LIMIT ? OFFSET ?')
      .all(page.limit, page.offset) as Row[];
    const { total } = db.prepare('SELECT COUNT(*) AS total FROM firmware_images').get() as { total: number };
    return { items: rows.map(toImage), total };
  }

  /** Where an image's file is, for serving it. */
  filePath(id: string): string {
    return this.pathOf(this.get(id).id);
  }

  private pathOf(id: string): string {
    return join(this.options.dir, `${id}.bin`);
  }
}

function toImage(row: Row): FirmwareImage {
  return {
    id: row.id,
    version: row.version,
    filename: row.filename,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    notes: row.notes,
    createdBy: row.created_by,
    createdAt: isoTime(row.created_at),
  };
}
