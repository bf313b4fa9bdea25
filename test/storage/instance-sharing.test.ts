import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { PostgresServer, postgresSkipReason } from '../support/postgres.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';

/*
 * Instances on one real PostgreSQL, with and without REDIS_URL: /healthz says when another
 * instance shares the database and one of them has no REDIS_URL (each would run every loop and
 * send every broadcast), and stops saying so once that instance is gone.
 */
const skip = postgresSkipReason() ?? redisSkipReason();

describe.skipIf(skip !== null)(`instances sharing one PostgreSQL${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let server: PostgresServer;
  let redis: RedisServer;
  const started: TestPlatform[] = [];
  const keyDirs: string[] = [];

  beforeAll(async () => {
    server = await PostgresServer.create();
    redis = await RedisServer.start();
  }, 60_000);
  afterAll(async () => {
    for (const t of started.reverse()) await t.close();
    await redis?.cleanup();
    await server?.cleanup();
    for (const dir of keyDirs) rmSync(dir, { recursive: true, force: true });
  });
  /** A new database, and the key files its instances share. */
  const database = async () => {
    const keys = mkdtempSync(join(tmpdir(), 'sc-keys-'));
    keyDirs.push(keys);
    return { url: await server.createDatabase(), keys };
  };

  const start = async (db: { url: string; keys: string }, withRedis: boolean) => {
    const t = await startTestPlatform({
      config: { DATABASE_URL: db.url, KEYS_DIR: db.keys, ...(withRedis ? { REDIS_URL: redis.url } : {}) },
    });
    started.push(t);
    return t;
  };
  const shared = async (t: TestPlatform) => {
    const health = await t.api('/healthz', { as: 'anonymous' });
    expect(health.status).toBe(200);
    return health.body.problems.databaseSharedWithoutRedis as boolean;
  };
  /** What /healthz settles on: it looks again when asked, at most every two seconds. */
  const settlesOn = (t: TestPlatform, value: boolean) =>
    vi.waitFor(async () => expect(await shared(t)).toBe(value), { timeout: 10_000, interval: 500 });

  it('tells both instances when a second one without REDIS_URL joins, and clears once it leaves', async () => {
    const url = await database();
    const a = await start(url, false);
    await settlesOn(a, false);
    const b = await start(url, false);
    await settlesOn(b, true);
    await settlesOn(a, true);
    await b.close();
    started.splice(started.indexOf(b), 1);
    await settlesOn(a, false);
  });

  it('says nothing while every instance has REDIS_URL, and tells them when one without joins', async () => {
    const url = await database();
    const a = await start(url, true);
    const b = await start(url, true);
    await settlesOn(a, false);
    await settlesOn(b, false);
    const c = await start(url, false);
    await settlesOn(c, true);
    await settlesOn(a, true);
    await settlesOn(b, true);
  });
});
