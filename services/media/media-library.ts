import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileTypeFromFile } from 'file-type';
import { parseFile } from 'music-metadata';
import type { Logger } from 'pino';
import type { MediaRecord } from '../../contracts/media.js';
import type { Clock } from '../../devices/index.js';
import { ConflictError, NotFoundError, UnprocessableError, UnsupportedMediaError } from '../errors.js';
import type { Db } from '../storage/database.js';
import { type AudioFormat, acceptedFormat } from './audio-formats.js';
import { receiveFile, removeUnfinishedUploads, uploadTempPath } from './file-transfer.js';
import { WebmRefusal, webmToOggOpus } from './webm-remux.js';

export interface MediaLibraryOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Where the audio files live: DATA_DIR/media. */
  dir: string;
  maxBytes: number;
  /** `http://host:port` as the devices reach the platform; read per link, as the port may be ephemeral. */
  baseUrl: () => string;
  signingKey: Buffer;
  /** Names of the schedules and broadcasts still using a media item; empty when it is free. */
  isReferenced: (mediaId: string) => string[];
}

interface Row {
  id: string;
  name: string;
  mime: string;
  ext: MediaRecord['ext'];
  size_bytes: number;
  sha256: string;
  duration_s: number;
  created_at: number;
  created_by: string | null;
  commune_id: string | null;
}

/**
 * The audio library: uploads are streamed to disk, checked for what they really are and how long
 * they play, then kept as `{dir}/{id}.{ext}` with one row in `media`. Devices fetch the files over
 * HTTP with links signed here.
 */
export class MediaLibrary {
  private readonly log: Logger;

  constructor(private readonly options: MediaLibraryOptions) {
    this.log = options.logger.child({ component: 'media' });
  }

  /** The largest upload accepted, in bytes. */
  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Creates the directory and removes uploads a crash left half-written. */
  async start(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    const count = await removeUnfinishedUploads(this.options.dir);
    if (count > 0) this.log.warn({ count }, 'removed unfinished uploads');
  }

  /**
   * Stores one upload. Nothing is kept unless every check passes: the partial file is removed on
   * any failure, including a client that breaks off mid-upload.
   */
  async ingest(
    file: { stream: NodeJS.ReadableStream | Readable; filename: string },
    meta: { name?: string; createdBy: string | null; communeId?: string | null },
  ): Promise<MediaRecord> {
    const { dir } = this.options;
    const id = `m-${randomBytes(5).toString('hex')}`;
    const temp = uploadTempPath(dir, id);
    await mkdir(dir, { recursive: true });
    let kept = false;
    try {
      const received = await receiveFile(file.stream, temp, this.options.maxBytes);
      if (received.sizeBytes === 0) throw new UnprocessableError('the file is empty');
      // A browser recording (WebM) is kept as Ogg Opus: the same audio, in a container clusters play.
      const { sizeBytes, sha256 } = (await this.fromWebm(temp)) ?? received;
      const format = await this.sniff(temp);
      const durationS = await this.readDuration(temp, format);
      const now = this.options.clock.now();
      const record: MediaRecord = {
        id,
        name: nameFor(meta.name, file.filename),
        mime: format.mime,
        ext: format.ext,
        sizeBytes,
        sha256,
        durationS,
        createdAt: new Date(now).toISOString(),
        createdBy: meta.createdBy,
        communeId: meta.communeId ?? null,
      };
      const path = this.pathOf(record);
      await rename(temp, path);
      try {
        this.options.db
          .prepare(
            `INSERT INTO media (id, name, mime, ext, size_bytes, sha256, duration_s, created_at, created_by,
               commune_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            record.name,
            record.mime,
            record.ext,
            sizeBytes,
            sha256,
            durationS,
            now,
            meta.createdBy,
            record.communeId,
          );
      } catch (error) {
        await rm(path, { force: true });
        throw error;
      }
      kept = true;
      this.log.info({ id, mime: record.mime, sizeBytes, durationS }, 'media stored');
      return record;
    } finally {
      if (!kept) await rm(temp, { force: true });
    }
  }

  get(id: string): MediaRecord {
    const row = this.options.db.prepare('SELECT * FROM media WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new NotFoundError('media', id);
    return toRecord(row);
  }

  /** Newest first; with `communes`, only their items and the shared library. */
  list(
    page: { limit: number; offset: number },
    communes?: readonly string[] | null,
  ): { items: MediaRecord[]; total: number } {
    const { db } = this.options;
    const scoped = Boolean(communes);
    const where = scoped
      ? 'WHERE commune_id IS NULL OR commune_id IN (SELECT value FROM json_each(@communes))'
      : '';
    const params = scoped ? { communes: JSON.stringify(communes) } : {};
    const rows = db
      .prepare(`SELECT * FROM media ${where} ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset`)
      .all({ ...page, ...params }) as Row[];
    const { total } = db.prepare(`SELECT COUNT(*) AS total FROM media ${where}`).get(params) as {
      total: number;
    };
    return { items: rows.map(toRecord), total };
  }

  /**
   * The item, when a caller limited to `communes` may use it (one of their communes' or the shared
   * library's); otherwise NotFoundError, as for an item that does not exist.
   */
  getVisible(id: string, communes: readonly string[] | null | undefined): MediaRecord {
    const record = this.get(id);
    if (communes && record.communeId !== null && !communes.includes(record.communeId))
      throw new NotFoundError('media', id);
    return record;
  }

  rename(id: string, name: string): MediaRecord {
    this.get(id);
    this.options.db.prepare('UPDATE media SET name = ? WHERE id = ?').run(nameFor(name, ''), id);
    return this.get(id);
  }

  /** Removes an item no schedule or broadcast uses any more; returns what was removed. */
  async delete(id: string): Promise<MediaRecord> {
    const record = this.get(id);
    const usedBy = this.options.isReferenced(id);
    if (usedBy.length > 0) {
      throw new ConflictError(`media "${id}" is still used by ${usedBy.join(', ')}`, { usedBy });
    }
    this.options.db.prepare('DELETE FROM media WHERE id = ?').run(id);
    // The row is gone, so the file is unreachable whatever happens next; a failure to remove it
    // only costs disk space, and is logged for the technician rather than failing the request.
    await rm(this.pathOf(record), { force: true }).catch((error: unknown) =>
      this.log.error({ err: error, id }, 'could not remove the media file'),
    );
    this.log.info({ id }, 'media deleted');
    return record;
  }

  /** Where the item's file is, for serving it. */
  filePath(id: string): string {
    return this.pathOf(this.get(id));
  }

  /** A download link a device can use without credentials until `expiresAt` (epoch ms). */
  /**
   * A link devices download with until `expiresAt`. With `broadcastId` the link belongs to that
   * broadcast (signed with it): it stops working as soon as the broadcast is stopped.
   */
  signedUrl(mediaId: string, expiresAt: number, broadcastId?: string): string {
    if (!Number.isSafeInteger(expiresAt)) throw new RangeError('expiresAt must be epoch milliseconds');
    const sig = this.signature(mediaId, expiresAt, broadcastId);
    const scope = broadcastId ? `&b=${encodeURIComponent(broadcastId)}` : '';
    return `${this.options.baseUrl()}/api/v1/media/${encodeURIComponent(mediaId)}/content?exp=${expiresAt}${scope}&sig=${sig}`;
  }

  /** Whether a link's signature is ours and still valid at `now`; compared in constant time. */
  verifySignature(mediaId: string, exp: number, sig: string, now: number, broadcastId?: string): boolean {
    if (!Number.isSafeInteger(exp) || now > exp) return false;
    const expected = Buffer.from(this.signature(mediaId, exp, broadcastId));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private signature(mediaId: string, exp: number, broadcastId?: string): string {
    const scope = broadcastId ? `:${broadcastId}` : '';
    return createHmac('sha256', this.options.signingKey)
      .update(`${mediaId}:${exp}${scope}`)
      .digest('base64url');
  }

  private pathOf(record: Pick<MediaRecord, 'id' | 'ext'>): string {
    return join(this.options.dir, `${record.id}.${record.ext}`);
  }

  /** Replaces a WebM upload by its Ogg Opus remux; null when the file is not WebM. */
  private async fromWebm(path: string): Promise<{ sizeBytes: number; sha256: string } | null> {
    const detected = await fileTypeFromFile(path);
    if (detected?.ext !== 'webm') return null;
    const ogg = `${path}.ogg`;
    try {
      await webmToOggOpus(path, ogg);
    } catch (error) {
      await rm(ogg, { force: true });
      if (error instanceof WebmRefusal)
        throw new UnsupportedMediaError(error.message, { detected: detected.mime });
      this.log.debug({ err: error }, 'WebM remux failed');
      throw new UnprocessableError('the WebM file is damaged or truncated and could not be read');
    }
    await rename(ogg, path);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      sizeBytes += chunk.length;
    }
    return { sizeBytes, sha256: hash.digest('hex') };
  }

  private async sniff(path: string): Promise<AudioFormat> {
    const detected = await fileTypeFromFile(path);
    const format = acceptedFormat(detected);
    if (!format) {
      const what = detected
        ? `${detected.mime} (.${detected.ext})`
        : 'of a type that could not be recognised';
      throw new UnsupportedMediaError(`the file is ${what}; upload MP3, WAV, OGG, AAC or WebM (Opus) audio`, {
        detected: detected?.mime ?? null,
      });
    }
    return format;
  }

  private async readDuration(path: string, format: AudioFormat): Promise<number> {
    let duration: number | undefined;
    try {
      duration = (await parseFile(path, { duration: true })).format.duration;
    } catch (error) {
      // A file that sniffs as audio but does not parse is damaged or truncated: the client's fault.
      // The parser's message names the temporary path, so it goes to the log, not the answer.
      this.log.debug({ err: error }, 'audio parse failed');
      throw new UnprocessableError(`the ${format.ext} file is damaged or truncated and could not be read`);
    }
    if (duration === undefined || !Number.isFinite(duration) || duration <= 0) {
      throw new UnprocessableError(`no playing time could be read from the ${format.ext} file`);
    }
    return duration;
  }
}

/** The given name, else the file name without its directory or extension. */
function nameFor(given: string | undefined, filename: string): string {
  const fromFile = basename(filename.replaceAll('\\', '/'));
  const stem = fromFile.slice(0, fromFile.length - extname(fromFile).length);
  return (given?.trim() || stem.trim() || 'untitled').slice(0, 200);
}

function toRecord(row: Row): MediaRecord {
  return {
    id: row.id,
    name: row.name,
    mime: row.mime,
    ext: row.ext,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    durationS: row.duration_s,
    createdAt: new Date(row.created_at).toISOString(),
    createdBy: row.created_by,
    communeId: row.commune_id,
  };
}
