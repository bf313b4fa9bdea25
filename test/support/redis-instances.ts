import type { Config } from '../../services/config.js';
import type { ManualClock } from './manual-clock.js';
import { startTestPlatform, type TestPlatform } from './platform-harness.js';
import { RedisServer } from './redis-server.js';

/** The lease of the instance suites: short, so a takeover happens within seconds. */
export const LEASE_MS = 1_500;
/** How often the instances poll their cameras. */
export const INSTANCE_POLL_MS = 30_000;

/**
 * The configuration of one Hướng Đạo instance of a cluster on `redisUrl`: a short lease, cameras
 * polled every 30 s (by the clock the suite gives) with a short call timeout.
 */
export function instanceConfig(redisUrl: string, extra: Partial<Config> = {}): Partial<Config> {
  return {
    REDIS_URL: redisUrl,
    CLUSTER_LEASE_MS: LEASE_MS,
    SEED_PRESET: 'huong-dao',
    CAMERA_POLL_INTERVAL_S: INSTANCE_POLL_MS / 1000,
    CAMERA_CALL_TIMEOUT_MS: 1_500,
    ...extra,
  };
}

export interface InstancePair {
  redis: RedisServer;
  /** Started first: it takes the leases. */
  a: TestPlatform;
  b: TestPlatform;
  /** Closes B, then A, then stops Redis. */
  close(): Promise<void>;
}

/**
 * Two in-process platforms on one real redis-server, each with its own data directory (nothing is
 * shared but Redis), on one clock.
 */
export async function startInstancePair(clock: ManualClock): Promise<InstancePair> {
  const redis = await RedisServer.start();
  const started: TestPlatform[] = [];
  const close = async () => {
    for (const t of [...started].reverse()) await t.close();
    await redis.cleanup();
  };
  try {
    const config = instanceConfig(redis.url);
    started.push(await startTestPlatform({ clock, config }));
    started.push(await startTestPlatform({ clock, config }));
  } catch (error) {
    await close();
    throw error;
  }
  const [a, b] = started as [TestPlatform, TestPlatform];
  return { redis, a, b, close };
}
