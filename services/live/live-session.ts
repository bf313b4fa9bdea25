import { createWriteStream, type WriteStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createMp3Encoder } from 'wasm-media-encoders';
import type { LIVE_END_REASONS, LiveStatus } from '../../contracts/live.js';

export type LiveEndReason = (typeof LIVE_END_REASONS)[number];

/** MP3 at a constant 64 kbit/s, mono: what every cluster's decoder plays (docs/protocol.md). */
const BITRATE_KBPS = 64;
/** A listener this far behind (about 30 s of audio) is dropped rather than held in memory. */
const MAX_QUEUED_BYTES = 256 * 1024;
/** What a cluster that joins late gets first: the last second, so its decoder starts at once. */
const BACKLOG_BYTES = (BITRATE_KBPS * 1000) / 8;
/** A pause in the console's audio longer than this is filled with silence, so clusters keep playing. */
const FILL_AFTER_MS = 300;

export interface LiveSessionOptions {
  id: string;
  broadcastId: string | null;
  sampleRate: number;
  startedAt: number;
  /** Where the MP3 of the whole talk is written as it goes. */
  recordingPath: string;
  /** Told when the recording file cannot be written (the talk goes on). */
  onRecordingError(error: Error): void;
}

/**
 * One talk: the console's PCM encoded once to MP3 and written to every cluster reading the stream
 * and to the recording. Pauses in what the console sends are filled with silence up to the
 * silence limit, so a cluster hears a quiet moment, not the end of the stream.
 */
export class LiveSession {
  readonly id: string;
  private broadcast: string | null;
  readonly sampleRate: number;
  readonly startedAt: number;
  private readonly listeners = new Set<ServerResponse>();
  private readonly backlog: Buffer[] = [];
  private backlogBytes = 0;
  private readonly recording: WriteStream;
  private recordingFailed = false;
  private encoder: Awaited<ReturnType<typeof createMp3Encoder>> | null = null;
  /** Samples encoded since the start (audio and filled silence): the stream's own clock. */
  private encodedSamples = 0;
  private receivedSamples = 0;
  private lastAudioAt: number;
  private endedWith: LiveEndReason | null = null;

  private constructor(options: LiveSessionOptions, encoder: Awaited<ReturnType<typeof createMp3Encoder>>) {
    this.id = options.id;
    this.broadcast = options.broadcastId;
    this.sampleRate = options.sampleRate;
    this.startedAt = options.startedAt;
    this.lastAudioAt = options.startedAt;
    this.encoder = encoder;
    this.recording = createWriteStream(options.recordingPath, { mode: 0o600 });
    this.recording.on('error', (error) => {
      if (this.recordingFailed) return;
      this.recordingFailed = true;
      options.onRecordingError(error);
    });
  }

  static async open(options: LiveSessionOptions): Promise<LiveSession> {
    const encoder = await createMp3Encoder();
    encoder.configure({ sampleRate: options.sampleRate, channels: 1, bitrate: BITRATE_KBPS });
    return new LiveSession(options, encoder);
  }

  /** The broadcast that plays this talk; null for a clip. */
  get broadcastId(): string | null {
    return this.broadcast;
  }

  /** Names the broadcast once it exists (the session opens first, so its stream is there for the first play). */
  bind(broadcastId: string): void {
    this.broadcast ??= broadcastId;
  }

  get ended(): LiveEndReason | null {
    return this.endedWith;
  }

  get recordingKept(): boolean {
    return !this.recordingFailed;
  }

  /** Milliseconds since the console last sent audio. */
  silentFor(now: number): number {
    return now - this.lastAudioAt;
  }

  /**
   * A chunk from the console: little-endian signed 16-bit mono PCM, at most a second of it.
   * Returns a refusal (the chunk is dropped) or null.
   */
  push(pcm: Buffer, now: number): string | null {
    if (this.endedWith || !this.encoder) return 'the talk has ended';
    if (pcm.length % 2 !== 0) return 'audio: not 16-bit samples (odd length)';
    if (pcm.length > this.sampleRate * 2) return 'audio: more than one second in one chunk';
    const samples = new Float32Array(pcm.length / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = pcm.readInt16LE(i * 2) / 32_768;
    this.lastAudioAt = now;
    this.receivedSamples += samples.length;
    this.encode(samples);
    return null;
  }

  /** Keeps the stream going through a pause: silence up to `now`, less what the console may still send. */
  fillSilence(now: number): void {
    if (this.endedWith || now - this.lastAudioAt < FILL_AFTER_MS) return;
    const streamAt = this.startedAt + (this.encodedSamples / this.sampleRate) * 1000;
    const behindMs = now - streamAt - FILL_AFTER_MS / 3;
    if (behindMs <= 0) return;
    this.encode(new Float32Array(Math.floor((behindMs / 1000) * this.sampleRate)));
  }

  /** A cluster's stream request: the last second first, then everything as it is encoded. */
  addListener(response: ServerResponse): void {
    for (const chunk of this.backlog) response.write(chunk);
    this.listeners.add(response);
    response.on('close', () => this.listeners.delete(response));
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  status(now: number, deliveries: LiveStatus['deliveries']): LiveStatus {
    return {
      sessionId: this.id,
      broadcastId: this.broadcastId,
      elapsedS: Math.round((now - this.startedAt) / 100) / 10,
      receivedS: Math.round((this.receivedSamples / this.sampleRate) * 10) / 10,
      listeners: this.listeners.size,
      deliveries,
    };
  }

  /** Ends the stream everywhere and closes the recording; resolves once the file is complete. */
  async end(reason: LiveEndReason): Promise<void> {
    if (this.endedWith) return;
    this.endedWith = reason;
    const encoder = this.encoder;
    this.encoder = null;
    if (encoder) {
      this.emit(Buffer.from(encoder.finalize()));
    }
    for (const listener of this.listeners) listener.end();
    this.listeners.clear();
    await new Promise<void>((resolve) => {
      if (this.recording.closed || this.recording.destroyed) return resolve();
      this.recording.end(() => resolve());
      this.recording.once('error', () => resolve());
    });
  }

  get recordedSeconds(): number {
    return this.encodedSamples / this.sampleRate;
  }

  private encode(samples: Float32Array): void {
    if (!this.encoder) return;
    this.encodedSamples += samples.length;
    // The encoder reuses its output buffer: the bytes are copied before the next call.
    const bytes = this.encoder.encode([samples]);
    if (bytes.length > 0) this.emit(Buffer.from(bytes));
  }

  private emit(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.backlog.push(chunk);
    this.backlogBytes += chunk.length;
    while (this.backlogBytes - (this.backlog[0]?.length ?? 0) >= BACKLOG_BYTES) {
      this.backlogBytes -= (this.backlog.shift() as Buffer).length;
    }
    if (!this.recordingFailed) this.recording.write(chunk);
    for (const listener of this.listeners) {
      // A cluster that stopped reading is dropped; it reconnects and gets the last second again.
      if (listener.writableLength > MAX_QUEUED_BYTES) listener.destroy();
      else listener.write(chunk);
    }
  }
}
