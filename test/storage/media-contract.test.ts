import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError } from '../../services/errors.js';
import { CHUNK_BYTES } from '../../services/media/media-chunks.js';
import { MediaLibrary } from '../../services/media/media-library.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { type StateDatabase, sqliteState } from '../../services/storage/sql/state-database.js';
import { SpeechCache } from '../../services/tts/speech-cache.js';
import type { TtsEngine } from '../../services/tts/tts-engine.js';
import { wavTone } from '../media/audio-fixtures.js';
import type { ManualClock } from '../support/manual-clock.js';
import { engines, engineTest, type Opened } from '../support/state-engines.js';

/*
 * The media library's contract on both engines of the query layer: its rows, and with PostgreSQL
 * its files, which every instance must be able to serve whichever instance stored them.
 */

const silent = pino({ level: 'silent' });
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.each(engines)('the media library on $name', (engine) => {
  const run = engine.skip ? describe.skip : describe;
  run(engine.skip ?? 'media contract', () => {
    const test = engineTest(engine, { prefix: 'sc-media-', now: Date.UTC(2026, 11, 7, 8) });
    const { started, files: others } = test;
    const used = new Map<string, string[]>();
    let dir = '';
    let opened: Opened;
    let clock: ManualClock;
    beforeEach(() => {
      ({ dir, opened, clock } = test);
      used.clear();
    });

    const libraryOn = async (state: StateDatabase, db: Db, mediaDir: string) => {
      const library = new MediaLibrary({
        db,
        state,
        clock,
        logger: silent,
        dir: mediaDir,
        maxBytes: 8 * 1024 * 1024,
        baseUrl: () => 'http://127.0.0.1:1',
        signingKey: Buffer.alloc(32, 7),
        isReferenced: (id) => used.get(id) ?? [],
      });
      await library.start();
      started.push(library);
      return library;
    };
    const first = () => libraryOn(opened.state, opened.places, join(dir, 'media'));
    /** Another instance: on PostgreSQL its own SQLite file and media directory; on SQLite the same. */
    const second = async () => {
      if (opened.state.engine !== 'postgres')
        return libraryOn(opened.state, opened.places, join(dir, 'media'));
      const db = openDatabase(join(dir, 'other.sqlite'), silent);
      others.push(db);
      return libraryOn(await opened.second(), db, join(dir, 'media-other'));
    };
    /** Forty seconds of tone: 640 KB, three chunks in PostgreSQL. */
    const bulletin = wavTone(40);
    const ingest = (library: MediaLibrary, bytes = bulletin, name = 'Bản tin sáng') =>
      library.ingest({ stream: Readable.from([bytes]), filename: 'ban-tin.wav' }, { name, createdBy: 'lan' });

    it('stores an upload with what it is and how long it plays, and lists it', async () => {
      const library = await first();
      const record = await ingest(library);
      expect(record).toMatchObject({
        name: 'Bản tin sáng',
        mime: 'audio/wav',
        ext: 'wav',
        sizeBytes: bulletin.length,
        sha256: sha256(bulletin),
        createdBy: 'lan',
        communeId: null,
        createdAt: '2026-12-07T08:00:00.000Z',
      });
      expect(record.durationS).toBeCloseTo(40, 1);
      expect(library.get(record.id)).toEqual(record);
      expect(library.list({ limit: 10, offset: 0 })).toEqual({ items: [record], total: 1 });
      expect(readFileSync(library.filePath(record.id))).toEqual(bulletin);
      if (opened.state.engine === 'postgres') {
        const chunks = await opened.state.db
          .selectFrom('media_chunks')
          .select(['seq', 'data'])
          .where('media_id', '=', record.id)
          .orderBy('seq')
          .execute();
        expect(chunks.map((c) => c.seq)).toEqual([0, 1, 2]);
        expect(chunks.every((c) => c.data.length <= CHUNK_BYTES)).toBe(true);
        expect(Buffer.concat(chunks.map((c) => c.data))).toEqual(bulletin);
      }
    });

    it('renames an item, and answers 404 for one that does not exist', async () => {
      const library = await first();
      const record = await ingest(library);
      expect((await library.rename(record.id, '  Thông báo tiêm phòng  ')).name).toBe('Thông báo tiêm phòng');
      expect(library.get(record.id).name).toBe('Thông báo tiêm phòng');
      await expect(library.rename('m-0000000000', 'x')).rejects.toBeInstanceOf(NotFoundError);
      await expect(library.delete('m-0000000000')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses to delete an item still in use with a 409, and keeps it and its file', async () => {
      const library = await first();
      const record = await ingest(library);
      used.set(record.id, ['Lịch phát sáng thứ hai']);
      const refused = await library.delete(record.id).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConflictError);
      expect((refused as ConflictError).details).toEqual({ usedBy: ['Lịch phát sáng thứ hai'] });
      expect(library.get(record.id).id).toBe(record.id);
      expect(existsSync(library.filePath(record.id))).toBe(true);

      used.clear();
      await library.delete(record.id);
      expect(() => library.get(record.id)).toThrow(NotFoundError);
      expect(existsSync(join(dir, 'media', `${record.id}.wav`))).toBe(false);
      if (opened.state.engine === 'postgres') {
        const left = await opened.state.db.selectFrom('media_chunks').select('seq').execute();
        expect(left).toEqual([]);
      }
    });

    it('keeps items and their files across a restart', async () => {
      const library = await first();
      const record = await ingest(library);
      await library.rename(record.id, 'Đổi tên');
      await started.pop()?.stop();
      await opened.reopen();
      const again = await first();
      expect(again.get(record.id)).toEqual({ ...record, name: 'Đổi tên' });
      expect(readFileSync(await again.localFile(again.get(record.id)))).toEqual(bulletin);
    });

    it('lets another instance see an item at once and serve its file byte for byte, and removes it there when deleted', async () => {
      const a = await first();
      const b = await second();
      const record = await ingest(a);
      // At once: looked up in PostgreSQL when not copied yet, and fetched when not here yet.
      const seen = await b.findVisible(record.id, null);
      expect(seen).toEqual(record);
      const path = await b.localFile(seen);
      const served = readFileSync(path);
      expect(served.length).toBe(bulletin.length);
      expect(sha256(served)).toBe(record.sha256);
      expect(served).toEqual(bulletin);
      // And heard of: the copy has the row without being asked.
      const next = await ingest(a, wavTone(2), 'Thông báo ngắn');
      await vi.waitFor(() => expect(b.get(next.id).name).toBe('Thông báo ngắn'));
      await vi.waitFor(() => expect(existsSync(b.filePath(next.id))).toBe(true));
      expect(sha256(readFileSync(b.filePath(next.id)))).toBe(next.sha256);

      await a.rename(record.id, 'Bản tin chiều');
      await vi.waitFor(() => expect(b.get(record.id).name).toBe('Bản tin chiều'));

      await a.delete(record.id);
      await vi.waitFor(() => expect(() => b.get(record.id)).toThrow(NotFoundError));
      await vi.waitFor(() => expect(existsSync(path)).toBe(false));
      expect(b.list({ limit: 10, offset: 0 }).items.map((i) => i.id)).toEqual([next.id]);
    });

    it('fetches a file missing here again, and refuses bytes that do not match the item', async () => {
      const a = await first();
      const record = await ingest(a);
      const path = a.filePath(record.id);
      rmSync(path);
      if (opened.state.engine !== 'postgres') {
        // On SQLite alone the file is the only copy: gone is gone.
        expect(await a.localFile(record)).toBe(path);
        expect(existsSync(path)).toBe(false);
        return;
      }
      expect(readFileSync(await a.localFile(record))).toEqual(bulletin);
      rmSync(path);
      const damaged = Buffer.from(randomBytes(16));
      await opened.state.db
        .updateTable('media_chunks')
        .set({ data: damaged })
        .where('media_id', '=', record.id)
        .where('seq', '=', 2)
        .execute();
      await expect(a.localFile(record)).rejects.toThrow(/do not match/);
      expect(existsSync(path)).toBe(false);
    });

    it('moves a library kept in SQLite alone into PostgreSQL, files included, for the other instances', async () => {
      if (opened.state.engine !== 'postgres') return;
      // Stored before DATABASE_URL: the row in the SQLite file, the bytes in DATA_DIR/media only.
      const alone = await libraryOn(sqliteState(opened.places), opened.places, join(dir, 'media'));
      const record = await ingest(alone);
      await started.pop()?.stop();

      await first();
      const b = await second();
      await vi.waitFor(() => expect(existsSync(b.filePath(record.id))).toBe(true), { timeout: 10_000 });
      expect(readFileSync(b.filePath(record.id))).toEqual(bulletin);
    });

    it('keeps one synthesis of a text for every instance', async () => {
      let syntheses = 0;
      const tts: TtsEngine = {
        id: 'test-tone',
        async synthesize() {
          syntheses++;
          return { wav: wavTone(1), durationS: 1 };
        },
        close: async () => undefined,
      };
      const cacheOn = async (media: MediaLibrary, state: StateDatabase, db: Db) => {
        const cache = new SpeechCache({ db, state, engine: tts, media, clock, logger: silent });
        await cache.start();
        started.push(cache);
        return cache;
      };
      const a = await first();
      const cacheA = await cacheOn(a, opened.state, opened.places);
      const owner = { username: 'lan', communeId: 'huong-dao' };
      const id = await cacheA.speech({ text: 'Kính thưa bà con', voice: 'northern' }, owner);
      expect(await cacheA.speech({ text: 'Kính thưa bà con', voice: 'northern' }, owner)).toBe(id);
      expect(syntheses).toBe(1);

      const otherState = opened.state.engine === 'postgres' ? await opened.second() : opened.state;
      const b = await second();
      const otherDb = opened.state.engine === 'postgres' ? (others[0] as Db) : opened.places;
      const cacheB = await cacheOn(b, otherState, otherDb);
      expect(await cacheB.speech({ text: 'Kính thưa bà con', voice: 'northern' }, owner)).toBe(id);
      expect(syntheses).toBe(1);

      // A removed item is forgotten, and read anew.
      await a.delete(id);
      const again = await cacheA.speech({ text: 'Kính thưa bà con', voice: 'northern' }, owner);
      expect(again).not.toBe(id);
      expect(syntheses).toBe(2);
    });
  });
});
