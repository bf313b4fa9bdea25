import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The right to run a singleton loop (the camera health poller, later the dispatcher's loops) on
 * one platform instance at a time. Callers ask `held()` before each round of work and pass
 * `fence()` along with writes that a newer holder must be able to refuse.
 */
export interface Lease {
  readonly name: string;
  /** Whether this instance holds the lease now. */
  held(): boolean;
  /** Grows with every new holder, so a store can refuse a stale one's writes; null when not held. */
  fence(): number | null;
  /**
   * Called when `held()` changes as the renewal timer sees it, and with true when a new hold
   * begins (a new fence) even if the lapse between went unseen; returns the unsubscribe.
   */
  onChange(listener: (held: boolean) => void): () => void;
  start(): Promise<void>;
  /** Stops renewing and releases the lease, so another instance takes it over at once. */
  stop(): Promise<void>;
}

/** A single instance holds every lease (no REDIS_URL): the loops run as they always did. */
export class LocalLease implements Lease {
  private running = false;
  constructor(readonly name: string) {}
  held(): boolean {
    return this.running;
  }
  fence(): number | null {
    return this.running ? 1 : null;
  }
  onChange(): () => void {
    return () => undefined;
  }
  async start(): Promise<void> {
    this.running = true;
  }
  async stop(): Promise<void> {
    this.running = false;
  }
}

/**
 * Takes the lease if free, or renews it if this owner holds it; answers the fencing token, or 0
 * when another owner holds it. The value is `<owner> <fence>`; the fence counter is never reset.
 */
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if not current then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. fence, 'PX', ARGV[2])
  return fence
end
local space = string.find(current, ' ', 1, true)
if space and string.sub(current, 1, space - 1) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(string.sub(current, space + 1))
end
return 0`;

/** Deletes the lease only while this owner holds it: a late release never frees a newer holder's. */
const RELEASE = `
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface RedisLeaseOptions {
  redis: Redis;
  name: string;
  /** Unique per platform start (the instance id). */
  owner: string;
  /** How long the lease outlives its holder's last renewal. */
  ttlMs: number;
  logger: Logger;
  /** Key prefix (default `sc:lease:`). */
  prefix?: string;
}

/**
 * A lease in one Redis: `SET NX PX` with renewal every third of its lifetime and a fencing
 * counter, in two Lua scripts. Held from the moment the renewal was sent (not answered) for the
 * lifetime less a margin for clock rate drift, so this instance stops believing it holds the lease
 * before Redis lets anyone else take it. Timers run on real time, not the platform clock: the
 * lifetime is Redis' own PX, which is real time.
 */
export class RedisLease implements Lease {
  readonly name: string;
  private readonly key: string;
  private readonly fenceKey: string;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  /** Fires when the validity runs out, so a renewal stuck on an unreachable Redis cannot outlast it. */
  private expiry: NodeJS.Timeout | null = null;
  /** When a failed renewal was last logged: once a minute while Redis stays away. */
  private failureLoggedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;
  private validUntil = 0;
  private token: number | null = null;
  private lastHeld = false;
  private lastFence: number | null = null;
  private readonly listeners = new Set<(held: boolean) => void>();

  constructor(private readonly options: RedisLeaseOptions) {
    this.name = options.name;
    const prefix = options.prefix ?? 'sc:lease:';
    this.key = `${prefix}${options.name}`;
    this.fenceKey = `${prefix}${options.name}:fence`;
    this.logger = options.logger.child({ component: 'lease', lease: options.name });
  }

  /** The key holding `<owner> <fence>`, for operators reading Redis. */
  get redisKey(): string {
    return this.key;
  }

  held(): boolean {
    return this.token !== null && performance.now() < this.validUntil;
  }

  fence(): number | null {
    return this.held() ? this.token : null;
  }

  onChange(listener: (held: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.renew();
    const every = Math.max(50, Math.floor(this.options.ttlMs / 3));
    this.timer = setInterval(() => {
      void this.renew();
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = null;
    await this.inFlight;
    const wasHeld = this.token !== null;
    this.token = null;
    this.validUntil = 0;
    this.announce();
    if (!wasHeld) return;
    try {
      await this.options.redis.eval(RELEASE, 1, this.key, this.options.owner);
    } catch (err) {
      // It lapses by itself at the end of its lifetime.
      this.logger.warn({ err }, 'could not release a lease');
    }
  }

  /** One attempt to take or keep the lease; never two at once. */
  renew(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const run = this.attempt().finally(() => {
      this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  private async attempt(): Promise<void> {
    const { redis, owner, ttlMs } = this.options;
    const sentAt = performance.now();
    try {
      const fence = Number(await redis.eval(ACQUIRE, 2, this.key, this.fenceKey, owner, String(ttlMs)));
      if (fence > 0) {
        if (this.token !== fence) this.logger.info({ fence }, 'lease taken');
        this.token = fence;
        // Redlock's margin: 1 % of the lifetime for clock rate drift, plus 2 ms.
        this.validUntil = sentAt + ttlMs - (ttlMs * 0.01 + 2);
        this.failureLoggedAt = Number.NEGATIVE_INFINITY;
        if (this.expiry) clearTimeout(this.expiry);
        // ioredis holds a command while it reconnects (up to 20 retries): the next renewal may hang
        // well past the validity, and the loops must stop believing they hold the lease meanwhile.
        this.expiry = setTimeout(() => this.announce(), Math.max(0, this.validUntil - performance.now()) + 1);
        this.expiry.unref();
      } else {
        if (this.token !== null) this.logger.warn('lease lost to another instance');
        this.token = null;
      }
    } catch (err) {
      // Held until its validity runs out: Redis may only be slow.
      const now = performance.now();
      if (now - this.failureLoggedAt >= 60_000) {
        this.failureLoggedAt = now;
        this.logger.warn({ err }, 'could not renew a lease (logged once a minute while it lasts)');
      }
    }
    this.announce();
  }

  private announce(): void {
    const held = this.held();
    const fence = held ? this.token : null;
    if (held === this.lastHeld && fence === this.lastFence) return;
    this.lastHeld = held;
    this.lastFence = fence;
    for (const listener of this.listeners) {
      try {
        listener(held);
      } catch (err) {
        this.logger.error({ err }, 'a lease listener failed');
      }
    }
  }
}
