import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { redisConnectionOptions } from '../../broker/redis-cluster.js';
import { BurstLogger } from '../burst-logger.js';
import type { Feature } from '../platform/feature.js';
import { type Lease, LocalLease, RedisLease } from './lease.js';

/** What platform instances sharing REDIS_URL know of each other (docs/scale-out.md). */
export interface Cluster {
  /** Unique per start: `host-pid-random`. */
  readonly instanceId: string;
  /** A connection to REDIS_URL, or null for a single instance. */
  readonly redis: Redis | null;
  /** How long a lease (and this instance's liveness) outlives its last renewal. */
  readonly leaseMs: number;
  /** A lease of this name for a singleton loop; the caller starts and stops it. */
  lease(name: string): Lease;
  /** This instance's own liveness: held while it runs, lapsing `leaseMs` after it dies. */
  readonly liveness: Lease;
  /** The key of an instance's liveness lease, which exists while that instance is alive. */
  livenessKey(instanceId: string): string;
}

declare module '../platform/feature.js' {
  interface Provides {
    cluster: Cluster;
  }
}

const LEASE_PREFIX = 'sc:lease:';
const livenessName = (instanceId: string) => `instance:${instanceId}`;

/**
 * The instance's identity and, with REDIS_URL, its Redis connection and liveness lease, which
 * shared presence uses to end the sessions of an instance that died, and the leases that keep
 * singleton loops on one instance. Without REDIS_URL every lease is held and nothing connects.
 */
export function clusterFeature(): Feature<'cluster'> {
  let redis: Redis | null = null;
  let liveness: Lease | null = null;
  return {
    name: 'cluster',
    dependsOn: [],
    async start(ctx) {
      const { config, logger, clock } = ctx;
      const instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
      const leaseMs = config.CLUSTER_LEASE_MS;
      const url = config.REDIS_URL;
      if (url) {
        const client = new Redis({ ...redisConnectionOptions(url), connectionName: `sc-${instanceId}` });
        const errors = new BurstLogger(logger.child({ component: 'cluster' }), clock);
        // ioredis reconnects by itself; unheard, its error event would end the process.
        client.on('error', (err: unknown) => errors.warn('redis', { err }, 'redis connection error'));
        redis = client;
      }
      const lease = (name: string): Lease =>
        redis
          ? new RedisLease({ redis, name, owner: instanceId, ttlMs: leaseMs, logger, prefix: LEASE_PREFIX })
          : new LocalLease(name);
      liveness = lease(livenessName(instanceId));
      await liveness.start();
      return {
        instanceId,
        redis,
        leaseMs,
        lease,
        liveness,
        livenessKey: (id: string) => `${LEASE_PREFIX}${livenessName(id)}`,
      };
    },
    async stop() {
      const [stoppingLease, client] = [liveness, redis];
      liveness = null;
      redis = null;
      try {
        await stoppingLease?.stop();
      } finally {
        await client?.quit().catch(() => client.disconnect());
      }
    },
  };
}
