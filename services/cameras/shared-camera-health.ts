import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { SharedLatest } from '../cluster/shared-latest.js';
import type { StoredCameraStatus } from './camera-health-store.js';
import type { FeedStatus } from './device-event-feed.js';

/*
 * With several instances only the poller lease's holder polls cameras and subscribes to their
 * events; the others learn each poll's outcome and each device's subscription state here, so their
 * API and consoles show the same, and a new holder goes on from where the last one stopped.
 */

interface Sharing<T> {
  redis: Redis;
  instanceId: string;
  adopt(value: T): void;
  logger: Logger;
}

/** Each camera's latest poll outcome, by camera id. */
export const sharedCameraHealth = (options: Sharing<StoredCameraStatus>) =>
  new SharedLatest<StoredCameraStatus>({
    ...options,
    hash: 'sc:camera-health:latest',
    channel: 'sc:camera-health:polls',
    keyOf: (status) => status.cameraId,
    valid: (value): value is StoredCameraStatus =>
      typeof (value as StoredCameraStatus | null)?.cameraId === 'string' &&
      typeof (value as StoredCameraStatus).health === 'object',
  });

/** A device's event subscription as the holder runs it. */
export interface SharedFeedStatus {
  xaddr: string;
  status: FeedStatus;
}

/** Each device's event subscription state, by device address. */
export const sharedCameraFeeds = (options: Sharing<SharedFeedStatus>) =>
  new SharedLatest<SharedFeedStatus>({
    ...options,
    hash: 'sc:camera-events:feeds',
    channel: 'sc:camera-events:feeds',
    keyOf: (feed) => feed.xaddr,
    valid: (value): value is SharedFeedStatus =>
      typeof (value as SharedFeedStatus | null)?.xaddr === 'string' &&
      typeof (value as SharedFeedStatus).status?.state === 'string',
  });
