import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface SharedLatestOptions<T> {
  redis: Redis;
  instanceId: string;
  /** The Redis hash holding the latest value of each key, for an instance that starts. */
  hash: string;
  /** The channel each new value is published on, for the instances running. */
  channel: string;
  keyOf(value: T): string;
  /** Whether a value read back is one this release understands. */
  valid(value: unknown): value is T;
  /** Takes a value another instance shared. */
  adopt(value: T): void;
  logger: Logger;
}

/**
 * The latest value of each key (a camera's poll, a camera's event subscription), shared by the
 * instance that makes it with the others: a hash for an instance that starts, a channel for the
 * rest. Values another instance shared are adopted; this instance's own are not echoed back.
 */
export class SharedLatest<T> {
  private subscriber: Redis | null = null;

  constructor(private readonly options: SharedLatestOptions<T>) {}

  async start(): Promise<void> {
    const { redis, instanceId, channel, hash, logger } = this.options;
    const subscriber = redis.duplicate();
    subscriber.on('error', (err: unknown) =>
      logger.debug({ err, channel }, 'shared values subscriber error'),
    );
    subscriber.on('message', (_channel: string, raw: string) => {
      const message = this.parse(raw) as { instance?: string; value?: unknown } | null;
      if (message && message.instance !== instanceId) this.adopt(message.value);
    });
    this.subscriber = subscriber;
    await subscriber.subscribe(channel);
    for (const raw of Object.values(await redis.hgetall(hash))) this.adopt(this.parse(raw));
  }

  async stop(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    await subscriber?.quit().catch(() => subscriber.disconnect());
  }

  /** Shares a value this instance made. */
  share(value: T): void {
    const { redis, instanceId, hash, channel, logger, keyOf } = this.options;
    redis
      .multi()
      .hset(hash, keyOf(value), JSON.stringify(value))
      .publish(channel, JSON.stringify({ instance: instanceId, value }))
      .exec()
      .catch((err: unknown) => logger.warn({ err, key: keyOf(value), channel }, 'could not share a value'));
  }

  private adopt(value: unknown): void {
    if (!this.options.valid(value)) return;
    try {
      this.options.adopt(value);
    } catch (err) {
      this.options.logger.warn({ err, channel: this.options.channel }, 'could not take a shared value');
    }
  }

  private parse(raw: string): unknown {
    try {
      return JSON.parse(raw);
    } catch (err) {
      this.options.logger.warn({ err, channel: this.options.channel }, 'ignored a malformed shared value');
      return null;
    }
  }
}
