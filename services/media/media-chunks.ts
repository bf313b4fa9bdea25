import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';

/*
 * A stored file's bytes in PostgreSQL (media_chunks for the media library, firmware_chunks for
 * firmware images), where every instance reaches them: written from the stored file and read back
 * into a file, one chunk at a time, so memory stays bounded whatever the file's size.
 */

/** 256 KiB: a few dozen rows for a bulletin, each well under PostgreSQL's TOAST limits. */
export const CHUNK_BYTES = 256 * 1024;

/** Where one kind of file keeps its chunks: its items' table, and the chunks' table and key column. */
export interface ChunkedFiles {
  items: 'media' | 'firmware_images';
  chunks: 'media_chunks' | 'firmware_chunks';
  key: 'media_id' | 'image_id';
  /** The item's name in errors. */
  noun: string;
}

export const MEDIA_FILES: ChunkedFiles = {
  items: 'media',
  chunks: 'media_chunks',
  key: 'media_id',
  noun: 'media',
};

/** Writes the file at `path` as the chunks of `mediaId`, within `trx`. */
export async function storeChunks(
  trx: StateTransaction,
  mediaId: string,
  path: string,
  files: ChunkedFiles = MEDIA_FILES,
): Promise<number> {
  let seq = 0;
  for await (const data of createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    await sql`INSERT INTO ${sql.table(files.chunks)} (${sql.ref(files.key)}, seq, data)
      VALUES (${mediaId}, ${seq}, ${data})`.execute(trx);
    seq++;
  }
  return seq;
}

/** The ids of items with no chunk in PostgreSQL (stored before DATABASE_URL was set). */
export async function itemsWithoutChunks(
  state: StateDatabase,
  files: ChunkedFiles = MEDIA_FILES,
): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    SELECT m.id FROM ${sql.table(files.items)} m WHERE NOT EXISTS (
      SELECT 1 FROM ${sql.table(files.chunks)} c WHERE c.${sql.ref(files.key)} = m.id)`.execute(state.db);
  return rows.rows.map((r) => r.id);
}

/**
 * Stores the chunks of an item that has none yet, under an advisory lock so that instances
 * starting together store them once, and announces them with `announce` so that the others fetch
 * them; false when the item is gone or already has chunks.
 */
export async function storeMissingChunks(
  state: StateDatabase,
  mediaId: string,
  path: string,
  announce: (trx: StateTransaction) => Promise<void>,
  files: ChunkedFiles = MEDIA_FILES,
): Promise<boolean> {
  return state.transaction(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`${files.chunks}:${mediaId}`}))`.execute(trx);
    const item = await sql`SELECT id FROM ${sql.table(files.items)} WHERE id = ${mediaId}`.execute(trx);
    if (item.rows.length === 0) return false;
    const any = await sql`SELECT seq FROM ${sql.table(files.chunks)}
      WHERE ${sql.ref(files.key)} = ${mediaId} LIMIT 1`.execute(trx);
    if (any.rows.length > 0) return false;
    await storeChunks(trx, mediaId, path, files);
    await announce(trx);
    return true;
  });
}

/** A file fetched from PostgreSQL that is not the one its item describes. */
export class ChunkMismatchError extends Error {
  constructor(mediaId: string, what: string, noun = 'media') {
    super(`the stored bytes of ${noun} "${mediaId}" do not match it: ${what}`);
    this.name = 'ChunkMismatchError';
  }
}

/**
 * Writes the chunks of `mediaId` to `temp`, checks their size and SHA-256 against the item's, then
 * renames the file to `path`; the temporary file is removed on any failure.
 */
export async function fetchChunks(
  state: StateDatabase,
  item: { id: string; sizeBytes: number; sha256: string },
  temp: string,
  path: string,
  files: ChunkedFiles = MEDIA_FILES,
): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let seq = 0; ; seq++) {
      const [row] = (
        await sql<{ data: Buffer }>`SELECT data FROM ${sql.table(files.chunks)}
          WHERE ${sql.ref(files.key)} = ${item.id} AND seq = ${seq}`.execute(state.db)
      ).rows;
      if (!row) return;
      size += row.data.length;
      if (size > item.sizeBytes)
        throw new ChunkMismatchError(item.id, `more than ${item.sizeBytes} bytes`, files.noun);
      hash.update(row.data);
      yield row.data;
    }
  }
  try {
    await pipeline(chunks, createWriteStream(temp, { flags: 'wx', mode: 0o640 }));
    if (size !== item.sizeBytes)
      throw new ChunkMismatchError(item.id, `${size} bytes stored, ${item.sizeBytes} expected`, files.noun);
    const sha256 = hash.digest('hex');
    if (sha256 !== item.sha256) throw new ChunkMismatchError(item.id, `SHA-256 ${sha256}`, files.noun);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Whether a file is there. */
export const fileExists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Removes the files in `dir` named for an item (the first group of `name`) that this instance's
 * copy no longer has — deleted while it was away, or a database restored from an older backup —
 * but not one written in the last minute: an upload here renames its file into place before it
 * adds the row.
 */
export async function removeOrphanFiles(
  dir: string,
  name: RegExp,
  known: ReadonlySet<string>,
  stillKnown: (id: string) => boolean,
): Promise<void> {
  const started = Date.now();
  for (const file of await readdir(dir)) {
    const id = name.exec(file)?.[1];
    if (!id || known.has(id)) continue;
    const path = join(dir, file);
    const modified = await stat(path).then(
      (s) => s.mtimeMs,
      () => started,
    );
    if (modified < started - 60_000 && !stillKnown(id)) await rm(path, { force: true });
  }
}
