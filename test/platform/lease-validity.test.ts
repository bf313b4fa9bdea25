import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLease } from '../../services/cluster/lease.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';

/*
 * A holder whose Redis stops answering (frozen with SIGSTOP: the connection stays open, ioredis
 * keeps the renewal waiting) must stop believing it holds the lease when its validity runs out,
 * before Redis could let another instance take it — not when ioredis finally gives up.
 */
const skip = redisSkipReason();
const TTL_MS = 600;

describe.skipIf(skip !== null)(
  `a lease whose Redis stops answering${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let redis: RedisServer;
    let client: Redis;

    beforeAll(async () => {
      redis = await RedisServer.start();
      client = new Redis(redis.url);
    });

    afterAll(async () => {
      redis?.thaw();
      client?.disconnect();
      await redis?.cleanup();
    });

    it('is given up when its validity ends, while the renewal still hangs, and taken again after', async () => {
      const lease = new RedisLease({
        redis: client,
        name: 'frozen',
        owner: 'holder',
        ttlMs: TTL_MS,
        logger: pino({ level: 'silent' }),
      });
      const changes: { held: boolean; at: number }[] = [];
      lease.onChange((held) => changes.push({ held, at: performance.now() }));
      await lease.start();
      expect(lease.held()).toBe(true);

      const frozenAt = performance.now();
      redis.freeze();
      await new Promise<void>((resolve) => {
        const off = lease.onChange((held) => {
          if (!held) {
            off();
            resolve();
          }
        });
      });
      const lostAfter = (changes.at(-1)?.at ?? 0) - frozenAt;
      // Its last renewal was sent at most a third of the lifetime before the freeze; it must let go
      // no later than the lifetime after that renewal (Redis' own expiry), with a little room.
      expect(lostAfter).toBeLessThanOrEqual(TTL_MS + 300);
      expect(lease.held()).toBe(false);

      redis.thaw();
      await new Promise<void>((resolve) => {
        const off = lease.onChange((held) => {
          if (held) {
            off();
            resolve();
          }
        });
      });
      expect(lease.held()).toBe(true);
      await lease.stop();
    }, 20_000);
  },
);
