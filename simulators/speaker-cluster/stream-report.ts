import type { PlayOf } from './media-fetcher.js';
import { redactUrl } from './media-fetcher.js';
import type { Tone } from './stream-analysis.js';
import { SignalMeter } from './stream-analysis.js';

/**
 * No new audio for longer than this is a gap: the platform fills pauses in a live talk with
 * silence, so a real gap means the sender (or the network) is gone.
 */
export const STREAM_GAP_MS = 1_000;
const GAPS_KEPT = 50;
const RECONNECTS_KEPT = 50;

/** How a stream item ended: the server ended the response, a `stop`, its `endAt`, or a failure. */
export type StreamEnd = 'end-of-stream' | 'stopped' | 'endAt' | `error: ${string}`;

/**
 * `opening` until the first audio is decoded; `decoding` while audio arrives; `gap` after more than
 * a second without; `reconnecting` after the connection broke; `fault` or `ended` once it is over.
 */
export type StreamHealth = 'opening' | 'decoding' | 'gap' | 'reconnecting' | 'fault' | 'ended';

export interface StreamGap {
  /** When the last audio before the gap arrived, on the cluster's clock. */
  readonly startAt: number;
  readonly durationMs: number;
}

export interface StreamReconnect {
  /** When the GET was sent again, on the cluster's clock. */
  readonly at: number;
  /** 1 to 3: the attempt since audio last arrived. */
  readonly attempt: number;
  /** Why the previous connection ended. */
  readonly cause: string;
  /** Why this attempt failed; absent when it opened the stream again. */
  readonly error?: string;
}

/** What a simulated cluster received and decoded of one stream item. */
export interface StreamReport {
  readonly cmdId: string;
  readonly broadcastId: string;
  /** The URL without its query: the signature stays out of reports. */
  readonly url: string;
  /** When the stream was first requested (its startAt, or later), on the cluster's clock. */
  readonly openedAt: number;
  /** Of the last response; null before one arrived. */
  readonly contentType: string | null;
  /** Body bytes received, over every connection. */
  readonly bytes: number;
  /** Seconds of audio decoded. */
  readonly decodedS: number;
  readonly sampleRate: number | null;
  readonly firstAudioAt: number | null;
  readonly lastAudioAt: number | null;
  /** Pauses longer than STREAM_GAP_MS in the arrival of audio, a pause at the end included; last 50. */
  readonly gaps: readonly StreamGap[];
  /** Every attempt to open the stream again after it broke; last 50. */
  readonly reconnects: readonly StreamReconnect[];
  /** Dominant pitch of the decoded audio, Hz; null without a pitched frame. */
  readonly dominantHz: number | null;
  /** Mean RMS level of the decoded audio, full scale 1. */
  readonly rms: number;
  /** Steady tones in the order decoded (see SignalMeter). */
  readonly tones: readonly Tone[];
  readonly health: StreamHealth;
  readonly ended: StreamEnd | null;
  readonly endedAt: number | null;
}

/** Builds one item's StreamReport as its stream is read; every time comes from the caller's clock. */
export class StreamRecorder {
  private readonly cmdId: string;
  private readonly broadcastId: string;
  private readonly url: string;
  private readonly meter = new SignalMeter();
  private readonly gaps: StreamGap[] = [];
  private readonly reconnects: StreamReconnect[] = [];
  private contentType: string | null = null;
  private bytes = 0;
  private decodedS = 0;
  private sampleRate: number | null = null;
  private firstAudioAt: number | null = null;
  private lastAudioAt: number | null = null;
  private broken = false;
  private end: { how: StreamEnd; at: number } | null = null;

  constructor(
    play: PlayOf<'stream'>,
    private readonly openedAt: number,
  ) {
    this.cmdId = play.id;
    this.broadcastId = play.broadcastId;
    this.url = redactUrl(play.source.url);
  }

  get bytesReceived(): number {
    return this.bytes;
  }

  get hasAudio(): boolean {
    return this.firstAudioAt !== null;
  }

  connected(contentType: string | null): void {
    this.contentType = contentType;
    this.broken = false;
  }

  received(bytes: number): void {
    this.bytes += bytes;
  }

  /** New audio arrived at `at`; returns the gap it closes, if any. */
  decoded(samples: Float32Array, sampleRate: number, at: number): StreamGap | null {
    if (samples.length === 0) return null;
    const gap = this.lastAudioAt !== null && at - this.lastAudioAt > STREAM_GAP_MS ? this.gapUntil(at) : null;
    this.firstAudioAt ??= at;
    this.lastAudioAt = at;
    this.decodedS += samples.length / sampleRate;
    this.sampleRate = sampleRate;
    this.meter.push(samples, sampleRate);
    return gap;
  }

  /** The connection broke; a reconnect may follow. */
  lost(): void {
    this.broken = true;
  }

  reconnecting(at: number, attempt: number, cause: string): void {
    this.reconnects.push({ at, attempt, cause });
    if (this.reconnects.length > RECONNECTS_KEPT) this.reconnects.shift();
  }

  reconnectFailed(error: string): void {
    const last = this.reconnects.pop();
    if (last) this.reconnects.push({ ...last, error });
  }

  /** The first end wins; a pause in the audio up to it counts as a gap. */
  finish(how: StreamEnd, at: number): void {
    if (this.end) return;
    this.end = { how, at };
    if (this.lastAudioAt !== null && at - this.lastAudioAt > STREAM_GAP_MS) this.gapUntil(at);
  }

  report(now: number): StreamReport {
    const { dominantHz, rms, tones } = this.meter.summary();
    return {
      cmdId: this.cmdId,
      broadcastId: this.broadcastId,
      url: this.url,
      openedAt: this.openedAt,
      contentType: this.contentType,
      bytes: this.bytes,
      decodedS: round(this.decodedS, 3),
      sampleRate: this.sampleRate,
      firstAudioAt: this.firstAudioAt,
      lastAudioAt: this.lastAudioAt,
      gaps: [...this.gaps],
      reconnects: [...this.reconnects],
      dominantHz: dominantHz === null ? null : round(dominantHz, 1),
      rms: round(rms, 4),
      tones: tones.map((tone) => ({
        startS: round(tone.startS, 2),
        durationS: round(tone.durationS, 2),
        hz: round(tone.hz, 1),
      })),
      health: this.health(now),
      ended: this.end?.how ?? null,
      endedAt: this.end?.at ?? null,
    };
  }

  private health(now: number): StreamHealth {
    if (this.end) return this.end.how.startsWith('error:') ? 'fault' : 'ended';
    if (this.broken) return 'reconnecting';
    if (this.lastAudioAt === null) return 'opening';
    return now - this.lastAudioAt > STREAM_GAP_MS ? 'gap' : 'decoding';
  }

  private gapUntil(at: number): StreamGap {
    const gap = { startAt: this.lastAudioAt ?? at, durationMs: at - (this.lastAudioAt ?? at) };
    this.gaps.push(gap);
    if (this.gaps.length > GAPS_KEPT) this.gaps.shift();
    return gap;
  }
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
