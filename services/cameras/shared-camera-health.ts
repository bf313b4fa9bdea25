import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { StoredCameraStatus } from './camera-health-store.js';

/** Each camera's latest poll outcome, as JSON by camera id. */
const LATEST = 'sc:camera-health:latest';
const CHANNEL = 'sc:camera-health:polls';

export interface SharedCameraHealthOptions {
  redis: Redis;
  instanceId: string;
  /** Takes an outcome another instance recorded. */
  adopt(status: StoredCameraStatus): void;
  logger: Logger;
}

/**
 * With several instances only the poller lease's holder polls cameras; the others learn each
 * outcome here (a hash for a starting instance, a channel for the rest), so their API and
 * consoles show the same health and a new holder goes on from where the last one stopped.
 */
export class SharedCameraHealth {
  private subscriber: Redis | null = null;
  private readonly logger: Logger;

  constructor(private readonly options: SharedCameraHealthOptions) {
    this.logger = options.logger.child({ component: 'shared-camera-health' });
  }

  async start(): Promise<void> {
    const { redis, instanceId } = this.options;
    const subscriber = redis.duplicate();
    subscriber.on('error', (err: unknown) => this.logger.debug({ err }, 'camera health subscriber error'));
    subscriber.on('message', (_channel: string, raw: string) => {
      const message = this.parse(raw) as { instance?: string; status?: StoredCameraStatus } | null;
      if (message?.status && message.instance !== instanceId) this.adopt(message.status);
    });
    this.subscriber = subscriber;
    await subscriber.subscribe(CHANNEL);
    for (const raw of Object.values(await redis.hgetall(LATEST))) {
      const status = this.parse(raw) as StoredCameraStatus | null;
      if (status) this.adopt(status);
    }
  }

  async stop(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    await subscriber?.quit().catch(() => subscriber.disconnect());
  }

  /** Shares an outcome this instance recorded. */
  recorded(status: StoredCameraStatus): void {
    const { redis, instanceId } = this.options;
    const json = JSON.stringify(status);
    redis
      .multi()
      .hset(LATEST, status.cameraId, json)
      .publish(CHANNEL, JSON.stringify({ instance: instanceId, status }))
      .exec()
      .catch((err: unknown) =>
        this.logger.warn({ err, cameraId: status.cameraId }, 'could not share a camera poll'),
      );
  }

  private adopt(status: StoredCameraStatus): void {
    if (typeof status.cameraId !== 'string' || typeof status.health !== 'object') return;
    try {
      this.options.adopt(status);
    } catch (err) {
      this.logger.warn({ err, cameraId: status.cameraId }, 'could not take a shared camera poll');
    }
  }

  private parse(raw: string): unknown {
    try {
      return JSON.parse(raw);
    } catch (err) {
      this.logger.warn({ err }, 'ignored a malformed camera health message');
      return null;
    }
  }
}
