import { createHash } from 'node:crypto';
import type { ClockTimers } from './clock-timers.js';
import { fetchFailure, httpGet, MediaFetchError, redactUrl } from './media-fetcher.js';

/** What arrived of a download: its length, its SHA-256 and its first bytes. */
export interface DownloadedFile {
  bytes: number;
  sha256: string;
  head: Buffer;
  /** The body ran past maxBytes and the download was abandoned there. */
  overrun: boolean;
}

/**
 * A plain GET of a signed URL (no credentials), hashed as it arrives and thrown away but for its
 * first `headBytes`: a simulator keeps no files. A body longer than `maxBytes` is abandoned at once,
 * as firmware with a fixed buffer would. Network failures are MediaFetchErrors `fetch-failed`.
 */
export async function downloadHashed(
  url: string,
  signal: AbortSignal,
  { maxBytes, headBytes = 64 * 1024 }: { maxBytes: number; headBytes?: number },
): Promise<DownloadedFile> {
  const where = `GET ${redactUrl(url)}`;
  const response = await httpGet(url, signal, where);
  const reader = response.body?.getReader();
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  try {
    while (reader) {
      const chunk = await reader.read().catch((error: unknown) => {
        throw fetchFailure(error, signal, `${where}: download interrupted`);
      });
      if (chunk.done) break;
      bytes += chunk.value.byteLength;
      if (bytes > maxBytes) return { bytes, sha256: '', head: Buffer.concat(head), overrun: true };
      hash.update(chunk.value);
      if (kept < headBytes) {
        head.push(Buffer.from(chunk.value));
        kept += chunk.value.byteLength;
      }
    }
  } finally {
    // Releases the connection when the loop ended early; a no-op after the last chunk.
    await reader?.cancel().catch(() => undefined);
  }
  return { bytes, sha256: hash.digest('hex'), head: Buffer.concat(head), overrun: false };
}

/**
 * A signal that aborts with the outer one, or with `fetch-failed` after `timeoutMs` on the
 * cluster's clock; `release()` cancels the timer.
 */
export function timeoutSignal(
  timers: ClockTimers,
  outer: AbortSignal,
  timeoutMs: number,
  what: string,
): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const relay = () => controller.abort(outer.reason);
  if (outer.aborted) relay();
  else outer.addEventListener('abort', relay, { once: true });
  const timer = timers.timeout(
    () =>
      controller.abort(
        new MediaFetchError('fetch-failed', `${what}: not complete within ${timeoutMs / 1000} s`),
      ),
    timeoutMs,
  );
  return {
    signal: controller.signal,
    release() {
      timers.cancel(timer);
      outer.removeEventListener('abort', relay);
    },
  };
}

/** The error a failed download step reports: its MediaFetchError, or fetch-failed with the cause. */
export function downloadError(error: unknown, signal: AbortSignal, what: string): MediaFetchError {
  return fetchFailure(error, signal, what);
}
