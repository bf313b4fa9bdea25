import type { EventEmitter } from 'node:events';
import aedesPersistenceRedis from 'aedes-persistence-redis';
import mqemitterRedis from 'mqemitter-redis';
import type { Logger } from 'pino';
import { withConstantTimeQueue } from './emitter-queue.js';

/** What lets several Aedes instances act as one broker: a shared emitter and shared sessions. */
export interface RedisClusterBackends {
  mq: ReturnType<typeof mqemitterRedis>;
  persistence: ReturnType<typeof aedesPersistenceRedis>;
}

/**
 * The two Redis-backed parts Aedes accepts: mqemitter-redis fans every publish out to all
 * instances, aedes-persistence-redis keeps subscriptions, offline queues, retained messages and
 * wills where any instance finds them.
 */
export function createRedisBackends(redisUrl: string, logger: Logger): RedisClusterBackends {
  const mq = withConstantTimeQueue(
    mqemitterRedis({
      connectionString: redisUrl,
      // As Aedes' own default emitter: `a/#` also matches `a` (MQTT 3.1.1 §4.7.1.2).
      matchEmptyLevels: true,
    }),
  );
  // mqemitter-redis re-emits connection errors here; an EventEmitter without an error listener
  // would throw them and end the process on a Redis restart.
  (mq as unknown as { state: EventEmitter }).state.on('error', (err: unknown) =>
    logger.error({ err }, 'redis pub/sub connection error'),
  );
  // mqemitter-redis 7.2 closes with quit() and drops the promise; ioredis rejects it when the
  // socket closes first (publishes from clients closing with the broker still queued), which
  // surfaced as an unhandled rejection on shutdown.
  const connections = mq as unknown as { subConn: Quittable; pubConn: Quittable };
  for (const conn of [connections.subConn, connections.pubConn]) {
    const quit = conn.quit.bind(conn);
    conn.quit = () =>
      quit().catch((err: unknown) => {
        logger.debug({ err }, 'redis connection closed before QUIT was answered');
        return 'OK';
      });
  }
  const persistence = aedesPersistenceRedis(redisConnectionOptions(redisUrl));
  return { mq, persistence };
}

interface Quittable {
  quit(): Promise<unknown>;
}

/** ioredis options from a `redis://` or `rediss://` URL; the persistence takes no URL itself. */
export function redisConnectionOptions(redisUrl: string) {
  const url = new URL(redisUrl);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must be redis:// or rediss://, got ${url.protocol}`);
  }
  const db = url.pathname.replace(/^\//, '');
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
