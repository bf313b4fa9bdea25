import { createHash } from 'node:crypto';
import type { CommandOf } from '../../devices/index.js';

export type PlayCommand = CommandOf<'play'>;
type PlaySource = PlayCommand['source'];
/** A play whose source is of one kind. */
export type PlayOf<K extends PlaySource['kind']> = PlayCommand & { source: Extract<PlaySource, { kind: K }> };
/** A media source: a play's, or one item of a programme. */
export type MediaSource = Extract<PlaySource, { kind: 'media' }>;

/** The ack error codes a media step may fail with (docs/protocol.md section 8). */
export type MediaErrorCode = 'fetch-failed' | 'checksum-mismatch' | 'internal';

export class MediaFetchError extends Error {
  override readonly name = 'MediaFetchError';

  constructor(
    readonly code: MediaErrorCode,
    message: string,
    /** The HTTP status that refused the request, when one did. */
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export interface MediaFetchContext {
  /**
   * Aborted when the fetch must end early: its timeout, a `stop` of the item, a power cut or the
   * cluster stopping. A reason that is a MediaFetchError is the error to fail the item with.
   */
  readonly signal: AbortSignal;
}

/** What the media step learnt about the audio. */
export interface MediaInfo {
  /** Body bytes received. */
  readonly bytes?: number;
  /** Playing time of one repetition, when the file tells it (a PCM WAV header). */
  readonly durationS?: number;
  /** A programme: what was learnt of each item, in order (nothing of a silence). */
  readonly items?: readonly MediaInfo[];
}

/**
 * Makes a `media` source ready (download, size and SHA-256 check); streams are read by a
 * StreamPlayer instead. A rejection fails the item with event `playback-failed` and ack `failed`,
 * using the MediaFetchError code, or `fetch-failed` for any other error.
 */
export type MediaFetcher = (play: PlayCommand, context: MediaFetchContext) => Promise<MediaInfo | undefined>;

/** For tests that need no HTTP server: every source is ready at once, with nothing learnt about it. */
export const skipMediaFetch: MediaFetcher = () => Promise.resolve(undefined);

/** The default timeout of one media fetch, on the cluster's clock (SimulatedClusterOptions.mediaTimeoutMs). */
export const DEFAULT_MEDIA_TIMEOUT_MS = 30_000;

/** How much of the start of a download is kept to read a WAV header; the rest is hashed and dropped. */
const HEAD_BYTES_KEPT = 64 * 1024;

/**
 * The default media step, as a cluster does it (docs/protocol.md section 7, `play`): a plain HTTP
 * GET of the signed `source.url`, no credentials. Media is downloaded in full, its length checked
 * against `sizeBytes` and its SHA-256 against `sha256` when given, then thrown away (a simulator
 * plays nothing); only the first 64 KiB are kept long enough to read a WAV header.
 */
export const httpMediaFetch: MediaFetcher = (play, { signal }) =>
  play.source.kind === 'media'
    ? downloadMedia(play.source, signal)
    : Promise.reject(new MediaFetchError('internal', 'a stream is played by a StreamPlayer, not downloaded'));

async function downloadMedia(source: MediaSource, signal: AbortSignal): Promise<MediaInfo> {
  const where = `GET ${redactUrl(source.url)}`;
  const response = await httpGet(source.url, signal, where);
  const reader = response.body?.getReader();
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let length = 0;
  try {
    while (reader) {
      const chunk = await reader.read().catch((error: unknown) => {
        throw fetchFailure(error, signal, `${where}: download interrupted`);
      });
      if (chunk.done) break;
      length += chunk.value.byteLength;
      hash.update(chunk.value);
      if (headBytes < HEAD_BYTES_KEPT) {
        head.push(Buffer.from(chunk.value));
        headBytes += chunk.value.byteLength;
      }
      if (source.sizeBytes !== undefined && length > source.sizeBytes) {
        throw new MediaFetchError(
          'checksum-mismatch',
          `${where}: body longer than sizeBytes ${source.sizeBytes}; download abandoned`,
        );
      }
    }
  } finally {
    // Releases the connection when the loop ended early; a no-op after the last chunk.
    await reader?.cancel().catch(() => undefined);
  }
  if (source.sizeBytes !== undefined && length !== source.sizeBytes) {
    throw new MediaFetchError(
      'checksum-mismatch',
      `${where}: got ${length} bytes, sizeBytes is ${source.sizeBytes}`,
    );
  }
  const digest = hash.digest('hex');
  if (source.sha256 !== undefined && digest !== source.sha256.toLowerCase()) {
    throw new MediaFetchError(
      'checksum-mismatch',
      `${where}: SHA-256 ${digest} differs from ${source.sha256}`,
    );
  }
  const durationS = wavDurationS(Buffer.concat(head), length);
  return durationS === undefined ? { bytes: length } : { bytes: length, durationS };
}

/** A GET whose failures are MediaFetchErrors; an HTTP status other than 2xx is one, with the status. */
export async function httpGet(
  url: string,
  requestSignal: AbortSignal,
  where: string,
  reasonSignal = requestSignal,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'GET', redirect: 'follow', signal: requestSignal });
  } catch (error) {
    throw fetchFailure(error, reasonSignal, `${where} failed`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    throw new MediaFetchError('fetch-failed', `${where}: HTTP ${status}`, response.status);
  }
  return response;
}

/** The abort reason when it is the error to report (a timeout), else fetch-failed with the cause. */
export function fetchFailure(error: unknown, signal: AbortSignal, what: string): MediaFetchError {
  if (error instanceof MediaFetchError) return error;
  if (signal.aborted) {
    return signal.reason instanceof MediaFetchError
      ? signal.reason
      : new MediaFetchError('fetch-failed', `${what}: aborted`);
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return new MediaFetchError(
    'fetch-failed',
    `${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
  );
}

/** The URL without its query: the signature in a signed URL is not for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Playing time of a PCM WAV file from its header: the `data` chunk's size over the `fmt ` chunk's
 * byte rate. `head` is the start of the file, `totalBytes` the whole file's length (a `data` size
 * of 0 or 0xFFFFFFFF, as streaming encoders write, means "to the end"). Undefined when it is not
 * a WAV file this simple reader understands.
 */
export function wavDurationS(head: Buffer, totalBytes = head.length): number | undefined {
  if (
    head.length < 12 ||
    head.toString('latin1', 0, 4) !== 'RIFF' ||
    head.toString('latin1', 8, 12) !== 'WAVE'
  ) {
    return undefined;
  }
  let byteRate: number | undefined;
  let offset = 12;
  while (offset + 8 <= head.length) {
    const id = head.toString('latin1', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + 12 > head.length) return undefined;
      byteRate = head.readUInt32LE(body + 8);
    } else if (id === 'data') {
      if (!byteRate) return undefined;
      const available = Math.max(0, totalBytes - body);
      const dataBytes = size === 0 || size === 0xffffffff ? available : Math.min(size, available);
      return dataBytes > 0 ? dataBytes / byteRate : undefined;
    }
    // Chunks are padded to an even length.
    offset = body + size + (size % 2);
  }
  return undefined;
}
