import type { CommandOf } from '../../devices/index.js';

export type PlayCommand = CommandOf<'play'>;

/** The ack error codes a media step may fail with (docs/protocol.md section 8). */
export type MediaErrorCode = 'fetch-failed' | 'checksum-mismatch' | 'internal';

export class MediaFetchError extends Error {
  override readonly name = 'MediaFetchError';

  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Makes a play command's audio ready before its start time (download, size and SHA-256 check,
 * decode). A rejection fails the item with event `playback-failed` and ack `failed`, using the
 * MediaFetchError code, or `fetch-failed` for any other error.
 */
export type MediaFetcher = (play: PlayCommand) => Promise<void>;

/** The default: the simulator has no audio to fetch, so every source is ready at once. */
export const skipMediaFetch: MediaFetcher = () => Promise.resolve();
