import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { createMp3Encoder } from 'wasm-media-encoders';
import type { Content, ProgrammeItem } from '../../contracts/broadcasts.js';
import type { MediaRecord } from '../../contracts/media.js';
import type { Clock } from '../../devices/index.js';
import { NotFoundError } from '../errors.js';
import { speechCacheCopy } from '../media/media-copy.js';
import type { MediaLibrary } from '../media/media-library.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { normalizeVietnamese } from './normalize-vi.js';
import type { TtsEngine } from './tts-engine.js';

type TtsContent = Extract<Content, { kind: 'tts' }>;

/** Who a synthesis is for: the media item is kept in their commune's library. */
export interface SpeechOwner {
  username: string | null;
  communeId: string | null;
}

/** Speech goes to clusters as MP3 at this bitrate: a minute is under half a megabyte over 4G. */
const BITRATE_KBPS = 48;

/** Media names of synthesized bulletins start with this, then the start of the text. */
const NAME_PREFIX = 'Giọng đọc: ';

/**
 * Text read aloud, synthesized once: the audio of a (engine, voice, text) is kept as a media item
 * of the owner's commune library with its playing time and found again by a hash of the four, so a schedule saved twice with the
 * same text reuses it and a changed text or voice is read anew. Concurrent requests for the same
 * speech share one synthesis.
 */
export class SpeechCache {
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly log: Logger;
  private readonly copy: TableCopy;

  constructor(
    private readonly options: {
      /** The platform's SQLite file: the cache itself, or its read copy with DATABASE_URL. */
      db: Db;
      /** Where writes go: the same file, or PostgreSQL, so every instance reuses a synthesis. */
      state: StateDatabase;
      engine: TtsEngine;
      media: MediaLibrary;
      clock: Clock;
      logger: Logger;
    },
  ) {
    this.log = options.logger.child({ component: 'tts' });
    this.copy = speechCacheCopy(options.db, options.state, this.log);
  }

  /** With PostgreSQL, copies the cache and follows the other instances' syntheses. */
  async start(): Promise<void> {
    await this.copy.start(() => undefined);
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  /**
   * The content with every text given its audio (`mediaId`): a tts content, or the tts items of a
   * programme. Other content is returned as it is.
   */
  async prepare(content: Content, owner: SpeechOwner): Promise<Content> {
    if (content.kind === 'tts') return { ...content, mediaId: await this.speech(content, owner) };
    if (content.kind !== 'programme') return content;
    const items: ProgrammeItem[] = [];
    for (const item of content.items)
      items.push(item.kind === 'tts' ? { ...item, mediaId: await this.speech(item, owner) } : item);
    return { ...content, items };
  }

  /** The media id of this text in this voice, synthesized now when it is not kept yet. */
  async speech(content: Pick<TtsContent, 'text' | 'voice'>, owner: SpeechOwner): Promise<string> {
    const voice = content.voice ?? 'northern';
    const spoken = normalizeVietnamese(content.text, voice);
    const key = createHash('sha256')
      .update(`${this.options.engine.id}\n${owner.communeId ?? ''}\n${voice}\n${spoken}`)
      .digest('hex');
    const kept = await this.kept(key);
    if (kept) return kept;
    let work = this.inFlight.get(key);
    if (!work) {
      work = this.synthesize(key, spoken, voice, content.text, owner).finally(() =>
        this.inFlight.delete(key),
      );
      this.inFlight.set(key, work);
    }
    return work;
  }

  /** A cached media id whose item still exists; a removed item is forgotten. */
  private async kept(key: string): Promise<string | null> {
    const row = this.options.db.prepare('SELECT media_id FROM speech_cache WHERE key = ?').get(key) as
      | { media_id: string }
      | undefined;
    if (!row) return null;
    try {
      // Looked up in PostgreSQL too: another instance's item may not be copied here yet.
      await this.options.media.present(row.media_id);
      return row.media_id;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await this.write({ table: 'speech_cache', id: key, change: 'deleted' }, (trx) =>
        trx.deleteFrom('speech_cache').where('key', '=', key).execute(),
      );
      return null;
    }
  }

  /** One write through the query layer, announced to the other instances, then copied here. */
  private async write(touch: TableTouch, work: (trx: StateTransaction) => Promise<unknown>): Promise<void> {
    await this.options.state.transaction(async (trx) => {
      await work(trx);
      await this.copy.announce(trx, touch);
    });
    await this.copy.copy(touch);
  }

  /** A new media item of this text read aloud, under the given name, outside the cache. */
  async keep(
    content: Pick<TtsContent, 'text' | 'voice'>,
    name: string,
    owner: SpeechOwner,
  ): Promise<MediaRecord> {
    const voice = content.voice ?? 'northern';
    return this.render(normalizeVietnamese(content.text, voice), voice, content.text, name, owner);
  }

  private async synthesize(
    key: string,
    spoken: string,
    voice: TtsContent['voice'],
    text: string,
    owner: SpeechOwner,
  ): Promise<string> {
    const record = await this.render(spoken, voice, text, mediaName(text), owner);
    const row = { key, media_id: record.id, created_at: this.options.clock.now() };
    await this.write({ table: 'speech_cache', id: key, change: 'created' }, (trx) =>
      trx
        .insertInto('speech_cache')
        .values(row)
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({ media_id: row.media_id, created_at: row.created_at }),
        )
        .execute(),
    );
    return record.id;
  }

  /** Synthesis, MP3 encoding and a media item with its playing time. */
  private async render(
    spoken: string,
    voice: TtsContent['voice'],
    text: string,
    name: string,
    owner: SpeechOwner,
  ): Promise<MediaRecord> {
    const started = this.options.clock.now();
    const speech = await this.options.engine.synthesize(spoken, voice);
    const mp3 = await wavToMp3(speech.wav);
    const record = await this.options.media.ingest(
      {
        stream: Readable.from([mp3 ?? speech.wav]),
        filename: mp3 ? 'speech.mp3' : 'speech.wav',
      },
      { name, createdBy: owner.username, communeId: owner.communeId },
    );
    this.log.info(
      { mediaId: record.id, voice, characters: text.length, durationS: record.durationS },
      `speech synthesized in ${this.options.clock.now() - started} ms`,
    );
    return record;
  }
}

/** "Giọng đọc: " and the text's first words, on one line. */
function mediaName(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return NAME_PREFIX + (line.length > 80 ? `${line.slice(0, 79)}…` : line);
}

/** A 16-bit PCM WAV as MP3 (mono); null for a WAV this cannot read, which is then kept as it is. */
async function wavToMp3(wav: Buffer): Promise<Buffer | null> {
  const pcm = readPcmWav(wav);
  if (!pcm || pcm.sampleRate < 8_000 || pcm.sampleRate > 48_000) return null;
  const encoder = await createMp3Encoder();
  encoder.configure({ sampleRate: pcm.sampleRate, channels: 1, bitrate: BITRATE_KBPS });
  const chunks: Buffer[] = [];
  const frame = 1152 * 64;
  for (let i = 0; i < pcm.samples.length; i += frame)
    chunks.push(Buffer.from(encoder.encode([pcm.samples.subarray(i, i + frame)])));
  chunks.push(Buffer.from(encoder.finalize()));
  return Buffer.concat(chunks);
}

/** The samples of a PCM WAV, mixed down to mono, as floats in [-1, 1]; null if not 16-bit PCM. */
export function readPcmWav(wav: Buffer): { sampleRate: number; samples: Float32Array } | null {
  if (wav.length < 12 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE')
    return null;
  let format: { channels: number; sampleRate: number; bits: number; tag: number } | null = null;
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && size >= 16) {
      format = {
        tag: wav.readUInt16LE(body),
        channels: wav.readUInt16LE(body + 2),
        sampleRate: wav.readUInt32LE(body + 4),
        bits: wav.readUInt16LE(body + 14),
      };
    }
    if (id === 'data') {
      if (format?.tag !== 1 || format.bits !== 16 || format.channels < 1) return null;
      const end = Math.min(body + size, wav.length);
      const frames = Math.floor((end - body) / (2 * format.channels));
      const samples = new Float32Array(frames);
      for (let f = 0; f < frames; f++) {
        let sum = 0;
        for (let c = 0; c < format.channels; c++)
          sum += wav.readInt16LE(body + 2 * (f * format.channels + c));
        samples[f] = sum / format.channels / 32768;
      }
      return { sampleRate: format.sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  return null;
}
