import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { FirmwareImage } from '../../contracts/firmware.js';
import type { Clock } from '../../devices/index.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { receiveFile, removeUnfinishedUploads, uploadTempPath } from '../media/file-transfer.js';
import {
  fetchChunks,
  fileExists,
  itemsWithoutChunks,
  removeOrphanFiles,
  storeChunks,
  storeMissingChunks,
} from '../media/media-chunks.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { isoTime } from '../time.js';
import { FIRMWARE_FILES, firmwareImagesCopy } from './firmware-copy.js';

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

export interface FirmwareLibraryOptions {
  /** The platform's SQLite file: the images' rows, or this instance's copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL (rows and files' bytes). */
  state: StateDatabase;
  clock: Clock;
  logger: Logger;
  /** Where the image files live: DATA_DIR/firmware. */
  dir: string;
  maxBytes: number;
}

const IMAGE_FILE = /^(fw-[0-9a-f]+)\.bin$/;

/**
 * Firmware images: uploads streamed to `{dir}/{id}.bin`, hashed as they arrive, and kept only when
 * their SHA-256 is the one the uploader declared (the vendor's published checksum), so a truncated
 * or tampered file never reaches a cluster. One row per image in `firmware_images`.
 *
 * With DATABASE_URL the rows are in PostgreSQL, copied into each instance's SQLite file
 * (firmware-copy.ts), and so are the files' bytes (firmware_chunks, as media files are kept):
 * each instance serves from its own `{dir}`, fetching there an image another instance received as
 * soon as it hears of it, or when a cluster asks for it first.
 */
export class FirmwareLibrary {
  private readonly log: Logger;
  private readonly copy: TableCopy;
  /** Files being fetched from PostgreSQL, by image id: one fetch however many ask. */
  private readonly fetching = new Map<string, Promise<string>>();
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: FirmwareLibraryOptions) {
    this.log = options.logger.child({ component: 'firmware' });
    this.copy = firmwareImagesCopy(options.db, options.state, this.log);
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /**
   * Creates the directory and removes uploads a crash left half-written. With PostgreSQL, copies
   * the rows, then (in the background) stores the bytes of images PostgreSQL has none of and
   * fetches the files missing here.
   */
  async start(): Promise<void> {
    this.stopped = false;
    await mkdir(this.options.dir, { recursive: true });
    const count = await removeUnfinishedUploads(this.options.dir);
    if (count > 0) this.log.warn({ count }, 'removed unfinished firmware uploads');
    await this.copy.start((touch) => this.heard(touch));
    if (this.copy.remote)
      this.sweeping = this.sweep().catch((error: unknown) =>
        this.log.error({ err: error }, 'could not bring the firmware files in line with PostgreSQL'),
      );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.copy.stop();
    await this.sweeping;
    await Promise.allSettled(this.fetching.values());
  }

  /** An image another instance received (or whose bytes it stored at last): its file is fetched. */
  private heard(touch: TableTouch): void {
    if (touch.table !== 'firmware_images' || touch.change === 'deleted') return;
    const image = this.find(touch.id);
    if (!image) return;
    this.localFile(image.id).catch((error: unknown) =>
      this.log.error({ err: error, id: touch.id }, 'could not fetch the firmware image from PostgreSQL'),
    );
  }

  private async sweep(): Promise<void> {
    const { db, dir, state } = this.options;
    const ids = db.prepare('SELECT id FROM firmware_images').pluck().all() as string[];
    await removeOrphanFiles(dir, IMAGE_FILE, new Set(ids), (id) => this.find(id) !== null);
    for (const id of await itemsWithoutChunks(state, FIRMWARE_FILES)) {
      if (this.stopped) return;
      const path = this.pathOf(id);
      if (!this.find(id) || !(await fileExists(path))) continue;
      const stored = await storeMissingChunks(
        state,
        id,
        path,
        (trx) => this.copy.announce(trx, { table: 'firmware_images', id, change: 'updated' }),
        FIRMWARE_FILES,
      );
      if (stored) this.log.info({ id }, 'firmware image stored in PostgreSQL');
    }
    for (const id of ids) {
      if (this.stopped) return;
      // Logged, and fetched again when a cluster asks for it.
      await this.localFile(id).catch((error: unknown) =>
        this.log.warn({ err: error, id }, 'could not fetch the firmware image from PostgreSQL'),
      );
    }
  }

  /**
   * Where the image's file is here, fetched from PostgreSQL first when another instance received
   * it and it is not here yet (checked against its size and SHA-256).
   */
  async localFile(id: string): Promise<string> {
    const image = await this.present(id);
    const path = this.pathOf(image.id);
    if (!this.copy.remote || (await fileExists(path))) return path;
    let work = this.fetching.get(id);
    if (!work) {
      const temp = uploadTempPath(this.options.dir, `${id}-${randomBytes(4).toString('hex')}`);
      work = fetchChunks(this.options.state, image, temp, path, FIRMWARE_FILES)
        .then(() => {
          this.log.info({ id, sizeBytes: image.sizeBytes }, 'firmware image fetched from PostgreSQL');
          return path;
        })
        .finally(() => this.fetching.delete(id));
      this.fetching.set(id, work);
    }
    return work;
  }

  /** The image, looked up in PostgreSQL once more before it is called missing: another instance may have just stored it. */
  async present(id: string): Promise<FirmwareImage> {
    const found = this.find(id);
    if (found || !this.copy.remote) return found ?? this.get(id);
    await this.copy.copy({ table: 'firmware_images', id });
    return this.get(id);
  }

  private find(id: string): FirmwareImage | null {
    const row = this.options.db.prepare('SELECT * FROM firmware_images WHERE id = ?').get(id) as
      | Row
      | undefined;
    return row ? toImage(row) : null;
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
      const touch: TableTouch = { table: 'firmware_images', id, change: 'created' };
      try {
        // With PostgreSQL the bytes are stored in the same transaction: when the others hear of the
        // image, its file can be fetched.
        await translateConstraintAsync(
          {
            duplicateId: 'a firmware image with this id already exists',
            // The version another instance has just stored: the same 409 as the check above.
            duplicate: `firmware ${meta.version} is already uploaded`,
          },
          () =>
            this.options.state.transaction(async (trx) => {
              await trx
                .insertInto('firmware_images')
                .values({
                  id,
                  version: meta.version,
                  filename: file.filename,
                  size_bytes: file.sizeBytes,
                  sha256: file.sha256,
                  notes: meta.notes ?? null,
                  created_by: meta.createdBy,
                  created_at: now,
                })
                .execute();
              if (this.copy.remote) await storeChunks(trx, id, path, FIRMWARE_FILES);
              await this.copy.announce(trx, touch);
            }),
        );
        await this.copy.copy(touch);
      } catch (error) {
        await rm(path, { force: true });
        if (error instanceof ConflictError && error.details === undefined)
          throw new ConflictError(error.message, { version: meta.version });
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
    const image = this.find(id);
    if (!image) throw new NotFoundError('firmware', id);
    return image;
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

  /** Where an image's file is here, for serving it (localFile fetches one that is not here yet). */
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
