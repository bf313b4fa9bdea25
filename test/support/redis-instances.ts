import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import type { Config } from '../../services/config.js';
import type { ManualClock } from './manual-clock.js';
import { startTestPlatform, type TestPlatform } from './platform-harness.js';
import { PostgresServer, postgresSkipReason } from './postgres.js';
import { RedisServer, redisSkipReason } from './redis-server.js';

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

/** How two instances of a suite share their state: one data directory, or PostgreSQL. */
export const INSTANCE_LAYOUTS = [
  { layout: 'one shared data directory', postgres: false, skip: redisSkipReason() },
  {
    layout: 'PostgreSQL and a data directory each',
    postgres: true,
    skip: redisSkipReason() ?? postgresSkipReason(),
  },
];

/**
 * `describe(name)` once per layout, with `body(postgres)`; a layout whose server is missing here
 * shows as one skipped case that says which (and fails on CI, where every server must be present).
 */
export function describeLayouts(name: string, body: (postgres: boolean) => void): void {
  describe.each(INSTANCE_LAYOUTS)(name, ({ skip, postgres }) => {
    if (skip !== null) {
      it.skip(`skipped: ${skip}`, () => undefined);
      return;
    }
    body(postgres);
  });
}

export interface InstanceLayout {
  /** The data directories of A and B (the same one when shared). */
  dirs: [string, string];
  /** DATABASE_URL and KEYS_DIR with PostgreSQL; nothing otherwise. */
  config: Partial<Config>;
  cleanup(): Promise<void>;
}

/**
 * The data directories of two instances, and with `postgres` a real PostgreSQL with a new database
 * they share (their key files in A's directory), as a province deployment has it.
 */
export async function instanceLayout(postgres: boolean): Promise<InstanceLayout> {
  const dirA = mkdtempSync(join(tmpdir(), 'sc-instance-a-'));
  const dirB = postgres ? mkdtempSync(join(tmpdir(), 'sc-instance-b-')) : dirA;
  const server = postgres ? await PostgresServer.create() : null;
  return {
    dirs: [dirA, dirB],
    config: server ? { DATABASE_URL: await server.createDatabase(), KEYS_DIR: dirA } : {},
    async cleanup() {
      await server?.cleanup();
      for (const dir of new Set([dirA, dirB])) rmSync(dir, { recursive: true, force: true });
    },
  };
}
