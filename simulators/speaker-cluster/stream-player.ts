import { MPEGDecoder } from 'mpg123-decoder';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { ClockTimers } from './clock-timers.js';
import type { MediaErrorCode, PlayOf } from './media-fetcher.js';
import { fetchFailure, httpGet, MediaFetchError, redactUrl } from './media-fetcher.js';
import type { StreamEnd } from './stream-report.js';
import { StreamRecorder } from './stream-report.js';

/** After the connection breaks mid-stream: this many GETs of the same URL, this far apart. */
export const STREAM_RECONNECT = { attempts: 3, delayMs: 1_000 } as const;
/** This many body bytes in a row without a decoded frame are not MP3 (4 s of 64 kbps). */
export const UNDECODABLE_BYTES = 32 * 1024;
/** The platform serves live talk as MPEG-1 Layer III; decode by Content-Type (docs/protocol.md section 7). */
const MP3_MEDIA_TYPE = 'audio/mpeg';

/** How a stream ended by itself once its item plays. */
export type StreamOutcome =
  | { readonly kind: 'end-of-stream' }
  | { readonly kind: 'failed'; readonly code: MediaErrorCode; readonly message: string };

export interface StreamPlayerDeps {
  clock: Clock;
  timers: ClockTimers;
  log: Logger;
  /** No first audio this long after opening fails the item; also each GET's limit for its response. */
  openTimeoutMs: number;
  /** The stream ended by itself after playing() was called: end its item. */
  ended(outcome: StreamOutcome): void;
}

/**
 * Reads one stream item's HTTP response to its end and decodes it as it arrives, as a cluster
 * plays it, keeping a StreamRecorder of what came. The connection stays open through gaps (the
 * sender may come back); a broken connection is opened again, STREAM_RECONNECT.attempts times at
 * most, STREAM_RECONNECT.delayMs apart on the cluster's clock. The owner ends it with close().
 */
export class StreamPlayer {
  readonly recorder: StreamRecorder;
  /**
   * Resolves at the first decoded audio (the item's first sound). Rejects with a MediaFetchError
   * when the stream cannot start: `fetch-failed` when it cannot be opened or sends nothing,
   * `internal` when it is not MP3; with a plain Error when close() came first.
   */
  readonly firstAudio: Promise<void>;
  private readonly first: Deferred;
  private readonly stopped = new AbortController();
  private readonly where: string;
  private firstSettled = false;
  private isPlaying = false;
  private pending: StreamOutcome | null = null;
  private openTimer: TimerHandle | null = null;

  constructor(
    private readonly play: PlayOf<'stream'>,
    private readonly deps: StreamPlayerDeps,
  ) {
    this.recorder = new StreamRecorder(play, deps.clock.now());
    this.where = `GET ${redactUrl(play.source.url)}`;
    this.first = deferred();
    this.firstAudio = this.first.promise;
  }

  /** Reads until the stream ends or close() is called; never rejects. */
  async run(): Promise<void> {
    this.openTimer = this.deps.timers.timeout(() => this.onOpenTimeout(), this.deps.openTimeoutMs);
    try {
      await this.readToEnd();
    } catch (error) {
      this.fail(asStreamError(error));
    } finally {
      if (!this.closed) this.fail(new MediaFetchError('internal', 'the stream reader stopped'));
    }
  }

  /** The item made its first sound: from now on the stream's own end ends the item. */
  playing(): void {
    this.isPlaying = true;
    const outcome = this.pending;
    this.pending = null;
    // Not from inside the playback-started hook: the item is ended once it has fully begun.
    if (outcome) queueMicrotask(() => this.deps.ended(outcome));
  }

  /** Ends the stream for its owner (stop, endAt, pre-emption, power) and closes the connection. */
  close(how: StreamEnd): void {
    if (this.closed) return;
    this.recorder.finish(how, this.now());
    this.shutDown(new Error(`stream closed: ${how}`));
    this.pending = null;
  }

  private get closed(): boolean {
    return this.stopped.signal.aborted;
  }

  private async readToEnd(): Promise<void> {
    /** Why the last connection broke, while reconnecting. */
    let cause: string | null = null;
    let attempt = 0;
    for (;;) {
      if (cause !== null) {
        if (attempt === STREAM_RECONNECT.attempts) {
          this.fail(
            new MediaFetchError(
              'fetch-failed',
              `${this.where}: stream lost (${cause}); ${attempt} reconnects failed`,
            ),
          );
          return;
        }
        attempt += 1;
        if (!(await this.sleep(STREAM_RECONNECT.delayMs))) return;
        this.recorder.reconnecting(this.now(), attempt, cause);
        this.deps.log.warn({ cmdId: this.play.id, attempt, cause }, 'stream lost; opening it again');
      }
      const connection = new AbortController();
      const hangUp = () => connection.abort(this.stopped.signal.reason);
      this.stopped.signal.addEventListener('abort', hangUp, { once: true });
      try {
        let response: Response;
        try {
          response = await this.open(connection.signal);
        } catch (error) {
          if (this.closed) return;
          const failure = asStreamError(error);
          // Only a stream that has played is opened again; one that never did fails at startAt.
          if (failure.code !== 'fetch-failed' || cause === null) throw failure;
          // Gone (404, 410) while reopening: the talk ended meanwhile, as the protocol says.
          if (
            failure instanceof MediaFetchError &&
            (failure.httpStatus === 404 || failure.httpStatus === 410)
          ) {
            this.endOfStream();
            return;
          }
          this.recorder.reconnectFailed(failure.message);
          continue;
        }
        try {
          await this.decodeBody(response, connection.signal, () => {
            attempt = 0;
          });
        } catch (error) {
          if (this.closed) return;
          const failure = asStreamError(error);
          if (failure.code !== 'fetch-failed' || !this.recorder.hasAudio) throw failure;
          cause = failure.message;
          this.recorder.lost();
          continue;
        }
        this.endOfStream();
        return;
      } finally {
        this.stopped.signal.removeEventListener('abort', hangUp);
        connection.abort();
      }
    }
  }

  /** A GET answered 2xx with an MP3 content type, within the open timeout; `signal` ends it. */
  private async open(signal: AbortSignal): Promise<Response> {
    const timeout = new AbortController();
    const limitS = this.deps.openTimeoutMs / 1000;
    const timer = this.deps.timers.timeout(
      () =>
        timeout.abort(new MediaFetchError('fetch-failed', `${this.where}: no response within ${limitS} s`)),
      this.deps.openTimeoutMs,
    );
    try {
      const response = await httpGet(
        this.play.source.url,
        AbortSignal.any([signal, timeout.signal]),
        this.where,
      );
      const contentType = response.headers.get('content-type');
      const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
      if (mediaType !== MP3_MEDIA_TYPE) {
        await response.body?.cancel().catch(() => undefined);
        throw new MediaFetchError(
          'internal',
          `${this.where}: stream-fault: content-type ${contentType ?? '(none)'} is not ${MP3_MEDIA_TYPE}`,
        );
      }
      this.recorder.connected(contentType);
      return response;
    } finally {
      this.deps.timers.cancel(timer);
    }
  }

  /** Decodes the body as it arrives; resolves when the server ends it, rejects when it breaks. */
  private async decodeBody(response: Response, signal: AbortSignal, onAudio: () => void): Promise<void> {
    const reader = response.body?.getReader();
    if (!reader) return;
    // A fresh decoder per connection: a new response starts at a frame of its own.
    const decoder = new MPEGDecoder();
    try {
      await decoder.ready;
      let sinceAudio = 0;
      for (;;) {
        const chunk = await reader.read().catch((error: unknown) => {
          throw fetchFailure(error, signal, `${this.where}: stream broke`);
        });
        if (chunk.done) return;
        this.recorder.received(chunk.value.byteLength);
        const decoded = decoder.decode(chunk.value);
        const samples = decoded.channelData[0];
        if (decoded.samplesDecoded > 0 && samples) {
          sinceAudio = 0;
          this.onAudio(samples.subarray(0, decoded.samplesDecoded), decoded.sampleRate);
          onAudio();
          continue;
        }
        sinceAudio += chunk.value.byteLength;
        if (sinceAudio >= UNDECODABLE_BYTES) {
          throw new MediaFetchError(
            'internal',
            `${this.where}: stream-fault: ${sinceAudio} bytes without a decodable MP3 frame`,
          );
        }
      }
    } finally {
      decoder.free();
      await reader.cancel().catch(() => undefined);
    }
  }

  private onAudio(samples: Float32Array, sampleRate: number): void {
    const gap = this.recorder.decoded(samples, sampleRate, this.now());
    if (gap) {
      this.deps.log.warn(
        { cmdId: this.play.id, gapStartAt: gap.startAt, gapMs: gap.durationMs },
        `stream gap: no audio for ${gap.durationMs} ms`,
      );
    }
    if (this.firstSettled) return;
    this.firstSettled = true;
    this.cancelOpenTimer();
    this.deps.log.info({ cmdId: this.play.id, sampleRate }, 'stream audio decoded');
    this.first.resolve();
  }

  private onOpenTimeout(): void {
    this.openTimer = null;
    if (this.firstSettled) return;
    const limitS = this.deps.openTimeoutMs / 1000;
    this.fail(
      this.recorder.bytesReceived === 0
        ? new MediaFetchError('fetch-failed', `${this.where}: no stream data within ${limitS} s`)
        : new MediaFetchError(
            'internal',
            `${this.where}: stream-fault: no decodable MP3 audio within ${limitS} s`,
          ),
    );
  }

  private endOfStream(): void {
    if (this.closed) return;
    if (!this.recorder.hasAudio) {
      const bytes = this.recorder.bytesReceived;
      this.fail(
        bytes === 0
          ? new MediaFetchError('fetch-failed', `${this.where}: the stream ended without sending data`)
          : new MediaFetchError(
              'internal',
              `${this.where}: stream-fault: ended after ${bytes} bytes without audio`,
            ),
      );
      return;
    }
    this.recorder.finish('end-of-stream', this.now());
    this.shutDown(new Error('end of stream'));
    this.deps.log.info({ cmdId: this.play.id }, 'stream ended by the server');
    this.deliver({ kind: 'end-of-stream' });
  }

  private fail(error: MediaFetchError): void {
    if (this.closed) return;
    this.recorder.finish(`error: ${error.code}: ${error.message}`, this.now());
    this.shutDown(error);
    this.deps.log.warn({ cmdId: this.play.id, code: error.code, reason: error.message }, 'stream failed');
    this.deliver({ kind: 'failed', code: error.code, message: error.message });
  }

  /** Closes the connection; a start still awaited fails with the reason. */
  private shutDown(reason: Error): void {
    this.stopped.abort(reason);
    this.cancelOpenTimer();
    if (this.firstSettled) return;
    this.firstSettled = true;
    this.first.reject(reason);
  }

  /** An end after the first audio reaches the owner once the item plays (see playing()). */
  private deliver(outcome: StreamOutcome): void {
    if (!this.recorder.hasAudio) return;
    if (this.isPlaying) this.deps.ended(outcome);
    else this.pending = outcome;
  }

  /** Resolves true after ms on the cluster's clock, false as soon as the stream is closed. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve(false);
        return;
      }
      const onStop = () => {
        this.deps.timers.cancel(timer);
        resolve(false);
      };
      const timer = this.deps.timers.timeout(() => {
        this.stopped.signal.removeEventListener('abort', onStop);
        resolve(true);
      }, ms);
      this.stopped.signal.addEventListener('abort', onStop, { once: true });
    });
  }

  private cancelOpenTimer(): void {
    if (this.openTimer !== null) this.deps.timers.cancel(this.openTimer);
    this.openTimer = null;
  }

  private now(): number {
    return this.deps.clock.now();
  }
}

function asStreamError(error: unknown): MediaFetchError {
  if (error instanceof MediaFetchError) return error;
  return new MediaFetchError('internal', error instanceof Error ? error.message : String(error));
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
