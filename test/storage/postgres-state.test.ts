import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../services/audit/audit-log.js';
import { openDatabase } from '../../services/storage/database.js';
import { POSTGRES_MIGRATIONS } from '../../services/storage/sql/postgres-migrations.js';
import { postgresState, type StateDatabase } from '../../services/storage/sql/state-database.js';
import { ManualClock } from '../support/manual-clock.js';
import { uploadWav } from '../support/media-upload.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { freshDatabaseName, PostgresServer, postgresSkipReason } from '../support/postgres.js';

/*
 * What only PostgreSQL can show: the audit log riding out a database that goes away, and the
 * platform itself started with DATABASE_URL, refusing to keep the unconverted stores in local
 * SQLite unless told to.
 */

const skip = postgresSkipReason();
const silent = pino({ level: 'silent' });

describe.skipIf(skip !== null)('state in PostgreSQL', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await PostgresServer.create();
  }, 60_000);
  afterAll(async () => {
    await server?.cleanup();
  });

  describe('the audit log when PostgreSQL goes away', () => {
    let state: StateDatabase | null = null;
    afterEach(async () => {
      await server.start();
      await state?.close();
      state = null;
    });

    it('queues the entries of an outage in order and writes them all once the database is back', async () => {
      state = await postgresState({ url: await server.createDatabase(), logger: silent, poolMax: 2 });
      const clock = new ManualClock(Date.UTC(2026, 11, 7, 8, 0, 0));
      const audit = new AuditLog(state, clock, silent);
      audit.record({ actor: { type: 'system' }, action: 'before.outage', outcome: 'success' });
      await audit.flushed();

      await server.stop();
      for (let i = 0; i < 5; i++) {
        clock.advance(10);
        audit.record({
          actor: { type: 'user', name: 'lan' },
          action: `during.outage.${i}`,
          outcome: 'success',
        });
        await audit.flushed();
      }
      expect(audit.queued).toBe(5);
      expect(audit.writeFailures).toBeGreaterThan(0);
      await expect(audit.query({}, { limit: 10, offset: 0 })).rejects.toThrow();

      await server.start();
      clock.advance(30_000); // the retry's delay
      await audit.flushed();
      expect(audit.queued).toBe(0);
      const { items } = await audit.query({}, { limit: 10, offset: 0 });
      expect(items.map((e) => e.action)).toEqual([
        'during.outage.4',
        'during.outage.3',
        'during.outage.2',
        'during.outage.1',
        'during.outage.0',
        'before.outage',
      ]);
      // Each keeps the time it happened, not the time it was finally written.
      expect(items[0]?.at).toBe('2026-12-07T08:00:00.050Z');
      await audit.stop();
    });
  });

  it('migrates a new database once when several instances start on it together', async () => {
    const name = freshDatabaseName();
    const url = await server.createDatabase(name);
    const states = await Promise.all(
      Array.from({ length: 4 }, () => postgresState({ url, logger: silent, poolMax: 2 })),
    );
    try {
      const applied = await server.query<{ name: string }>(
        'SELECT name FROM kysely_migration ORDER BY name',
        [],
        name,
      );
      expect(applied).toEqual(
        Object.keys(POSTGRES_MIGRATIONS)
          .sort()
          .map((name) => ({ name })),
      );
    } finally {
      await Promise.all(states.map((s) => s.close()));
    }
  });

  it('names the server, not the password, when PostgreSQL cannot be reached', async () => {
    const url = server
      .url('postgres')
      .replace('postgres@', 'postgres:s3cret-pw@')
      .replace(`:${server.port}/`, ':1/');
    const failed = postgresState({ url, logger: silent });
    await expect(failed).rejects.toThrow(/PostgreSQL at 127\.0\.0\.1:1\/postgres/);
    await expect(failed).rejects.not.toThrow(/s3cret-pw/);
  });

  it('keeps the oldest entries of a long outage within its bound and counts the ones it refused', async () => {
    const state = await postgresState({ url: await server.createDatabase(), logger: silent, poolMax: 2 });
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 8, 0, 0));
    const audit = new AuditLog(state, clock, silent, { maxPendingChars: 1_000 });
    try {
      await server.stop();
      for (let i = 0; i < 20; i++) {
        audit.record({
          actor: { type: 'system' },
          action: `outage.${String(i).padStart(2, '0')}`,
          outcome: 'success',
        });
        await audit.flushed();
      }
      const kept = audit.queued;
      expect(kept).toBeGreaterThan(3);
      expect(kept).toBeLessThan(20);
      expect(audit.writeFailures).toBeGreaterThanOrEqual(20 - kept);
      await server.start();
      expect(await audit.flush()).toBe(true);
      const { items, total } = await audit.query({}, { limit: 50, offset: 0 });
      expect(total).toBe(kept);
      expect(items.map((e) => e.action).reverse()).toEqual(
        Array.from({ length: kept }, (_, i) => `outage.${String(i).padStart(2, '0')}`),
      );
    } finally {
      await server.start();
      await state.close();
    }
  });

  describe('the platform with DATABASE_URL', () => {
    let t: TestPlatform | null = null;
    let other: TestPlatform | null = null;
    const dirs: string[] = [];
    /**
     * Two platforms with their own DATA_DIR on a new PostgreSQL database, sharing their key files
     * (KEYS_DIR), both seeding Hướng Đạo: A is `t`, B is `other`, closed after the test.
     */
    const twoInstances = async () => {
      const url = await server.createDatabase();
      const keys = mkdtempSync(join(tmpdir(), 'sc-pg-keys-'));
      const config = {
        DATABASE_URL: url,

        SEED_PRESET: 'huong-dao' as const,
        KEYS_DIR: keys,
      };
      const [dirA, dirB] = [mkdtempSync(join(tmpdir(), 'sc-pg-a-')), mkdtempSync(join(tmpdir(), 'sc-pg-b-'))];
      dirs.push(dirA, dirB, keys);
      const a = await startTestPlatform({ dataDir: dirA, config });
      t = a;
      const b = await startTestPlatform({ dataDir: dirB, config });
      other = b;
      return { url, a, b };
    };
    afterEach(async () => {
      await Promise.all([t?.close(), other?.close()]);
      t = null;
      other = null;
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    it('keeps the broadcast log in PostgreSQL: an instance with a new data directory shows what another recorded', async () => {
      const name = freshDatabaseName();
      const url = await server.createDatabase(name);
      const [dirA, dirB, keys] = ['sc-pg-a-', 'sc-pg-b-', 'sc-pg-keys-'].map((p) =>
        mkdtempSync(join(tmpdir(), p)),
      );
      dirs.push(dirA as string, dirB as string, keys as string);
      const config = { DATABASE_URL: url, KEYS_DIR: keys, SEED_PRESET: 'huong-dao' as const };
      t = await startTestPlatform({ dataDir: dirA, config });
      const media = await uploadWav(t, 2);
      // No cluster is connected: the deliveries wait, and the operator stops the bulletin.
      const sent = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
        method: 'POST',
        as: 'operator',
        body: {
          name: 'Cảnh báo lũ quét',
          content: { kind: 'media', mediaId: media },
          targets: { clusterIds: ['hd-c01', 'hd-c02'] },
        },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      const stopped = await t.api(`/api/v1/broadcasts/${sent.body.id}/stop`, {
        method: 'POST',
        as: 'operator',
      });
      expect(stopped.status).toBe(200);
      await vi.waitFor(async () =>
        expect(
          await server.query<{ status: string; n: number }>(
            "SELECT b.status, COUNT(d.*)::int AS n FROM broadcasts b JOIN deliveries d ON d.broadcast_id = b.id WHERE d.state = 'stopped' GROUP BY b.status",
            [],
            name,
          ),
        ).toEqual([{ status: 'stopped', n: 2 }]),
      );
      await t.close();
      t = null;

      other = await startTestPlatform({ dataDir: dirB, config });
      const seen = await other.api(`/api/v1/broadcasts/${sent.body.id}`, { as: 'operator' });
      expect(seen.status).toBe(200);
      expect(seen.body).toMatchObject({ name: 'Cảnh báo lũ quét', status: 'stopped' });
      expect((seen.body.deliveries as { state: string }[]).map((d) => d.state)).toEqual([
        'stopped',
        'stopped',
      ]);
    });

    it('keeps accounts, sessions and the audit log in PostgreSQL, where a second instance finds them', async () => {
      const name = freshDatabaseName();
      const url = await server.createDatabase(name);
      const dataDir = mkdtempSync(join(tmpdir(), 'sc-pg-'));
      dirs.push(dataDir);
      // Instances on one PostgreSQL share their key files (KEYS_DIR).
      const keys = mkdtempSync(join(tmpdir(), 'sc-pg-keys-'));
      dirs.push(keys);
      t = await startTestPlatform({
        dataDir,
        config: { DATABASE_URL: url, KEYS_DIR: keys },
      });
      const created = await t.api('/api/v1/users', {
        method: 'POST',
        body: {
          username: 'can-bo-xa',
          displayName: 'Cán bộ xã',
          password: 'a-long-password-1',
          roles: ['viewer'],
        },
      });
      expect(created.status).toBe(201);

      const users = await server.query<{ username: string }>(
        'SELECT username FROM users ORDER BY username',
        [],
        name,
      );
      expect(users.map((u) => u.username)).toEqual(['admin', 'can-bo-xa']);
      const sessions = await server.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM sessions', [], name);
      expect(sessions[0]?.n).toBeGreaterThan(0);
      const audit = await server.query<{ action: string; outcome: string }>(
        "SELECT action, outcome FROM audit_log WHERE action = 'user.create' ORDER BY id",
        [],
        name,
      );
      expect(audit).toContainEqual({ action: 'user.create', outcome: 'success' });
      await t.close();
      t = null;
      // The local SQLite file holds no account: nothing a second instance would miss.
      const local = openDatabase(join(dataDir, 'smart-commune.sqlite'), silent);
      expect(local.prepare('SELECT COUNT(*) AS n FROM users').get()).toEqual({ n: 0 });
      local.close();

      // Another instance with its own DATA_DIR signs the same account in.
      const otherDir = mkdtempSync(join(tmpdir(), 'sc-pg-'));
      dirs.push(otherDir);
      t = await startTestPlatform({
        dataDir: otherDir,
        config: { DATABASE_URL: url, KEYS_DIR: keys },
      });
      const login = await t.api('/api/v1/auth/login', {
        method: 'POST',
        as: 'anonymous',
        body: { username: 'CAN-BO-XA', password: 'a-long-password-1' },
      });
      expect(login.status).toBe(200);
      const entries = (await t.api('/api/v1/audit?action=user.create')).body.items as { actorName: string }[];
      expect(entries.map((e) => e.actorName)).toContain('admin');
    });

    it("shares the registry: a cluster registered and issued a secret on one instance connects to another's broker at once", async () => {
      const { url, a, b } = await twoInstances();
      // Both seeded the preset; it is in PostgreSQL once, and each instance has all of it.
      const [onA, onB] = await Promise.all([
        a.api('/api/v1/clusters?limit=100'),
        b.api('/api/v1/clusters?limit=100'),
      ]);
      expect(onA.body.total).toBe(18);
      expect(onB.body.total).toBe(18);
      expect(await server.query('SELECT id FROM clusters', [], url.split('/').at(-1))).toHaveLength(18);

      const village = await a.api('/api/v1/villages', {
        method: 'POST',
        body: { communeId: 'huong-dao', name: 'Thôn Đồng Mới' },
      });
      expect(village.status).toBe(201);
      const cluster = await a.api('/api/v1/clusters', {
        method: 'POST',
        body: {
          id: 'pg-c1',
          villageId: village.body.id,
          name: 'Cụm Đồng Mới',
          location: { lat: 21.35, lon: 105.55 },
        },
      });
      expect(cluster.status).toBe(201);
      const issued = await a.api('/api/v1/clusters/pg-c1/credentials', { method: 'POST' });
      expect(issued.status).toBe(201);
      // At once: no wait between A's answer and the device's connection to B.
      const device = await b.connectDevice('pg-c1', issued.body.secret);
      expect(device.connected).toBe(true);
      await vi.waitFor(async () =>
        expect((await b.api('/api/v1/clusters/pg-c1')).body).toMatchObject({
          name: 'Cụm Đồng Mới',
          communeId: 'huong-dao',
          villageId: village.body.id,
        }),
      );

      // Rotated on B: the new secret opens A's broker at once (a refusal there asks PostgreSQL);
      // the first no longer does once A's copy has the rotation, within moments.
      const rotated = await b.api('/api/v1/clusters/pg-c1/credentials', { method: 'POST' });
      expect(rotated.status).toBe(201);
      expect((await a.connectDevice('pg-c1', rotated.body.secret)).connected).toBe(true);
      await vi.waitFor(async () =>
        expect((await a.api('/api/v1/clusters/pg-c1')).body.credential.issuedAt).toBe(rotated.body.issuedAt),
      );
      await expect(a.connectDevice('pg-c1', issued.body.secret)).rejects.toThrow();

      // Deleted on A: gone from B, whose broker refuses it.
      expect((await a.api('/api/v1/clusters/pg-c1', { method: 'DELETE' })).status).toBe(204);
      await vi.waitFor(async () => expect((await b.api('/api/v1/clusters/pg-c1')).status).toBe(404));
      await expect(b.connectDevice('pg-c1', rotated.body.secret)).rejects.toThrow();
    });

    it("refuses an instance whose key files are not the others', and with the same KEYS_DIR opens what another sealed", async () => {
      const url = await server.createDatabase();
      const config = { DATABASE_URL: url, SEED_PRESET: 'huong-dao' as const };
      const [dirA, dirB, keys] = ['sc-pg-a-', 'sc-pg-b-', 'sc-pg-keys-'].map((p) =>
        mkdtempSync(join(tmpdir(), p)),
      );
      dirs.push(dirA as string, dirB as string, keys as string);
      t = await startTestPlatform({ dataDir: dirA, config: { ...config, KEYS_DIR: keys } });
      await t.platform.cameras.create({
        id: 'cam-ubnd',
        communeId: 'huong-dao',
        name: 'Cổng UBND xã',
        xaddr: 'http://192.0.2.10/onvif/device_service',
        username: 'admin',
        password: 'mat-khau-camera-1',
      });
      // Its own DATA_DIR and so its own new keys: it would sign links A refuses and not open A's passwords.
      await expect(startTestPlatform({ dataDir: dirB, config })).rejects.toThrow(
        /\.key is not the [a-z-]+\.key the other instances on this PostgreSQL use/,
      );
      other = await startTestPlatform({ dataDir: dirB, config: { ...config, KEYS_DIR: keys } });
      expect(await other.platform.cameras.credentials('cam-ubnd')).toMatchObject({
        username: 'admin',
        password: 'mat-khau-camera-1',
      });
    });

    it('listens on one connection per instance, and catches up on what it missed while that connection was cut', async () => {
      const { url, a, b } = await twoInstances();
      const database = url.split('/').at(-1);
      const listening = () =>
        server.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN %'",
          [database],
        );
      // Every copied store listens on its own channel, all on one connection per instance.
      await vi.waitFor(async () => expect(await listening()).toHaveLength(2));
      const first = await a.platform.registry.issueSecret('hd-c01');
      await vi.waitFor(async () =>
        expect(await b.platform.registry.verifySecret('hd-c01', first.secret)).toBe(true),
      );

      // Both connections cut (a network blip, a PostgreSQL restart): a change made meanwhile is
      // not heard, and is copied all the same once each instance has listened again.
      await server.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE $2',
        [database, 'LISTEN %'],
      );
      const village = await a.api('/api/v1/villages', {
        method: 'POST',
        body: { communeId: 'huong-dao', name: 'Thôn Sau Sự Cố' },
      });
      expect(village.status).toBe(201);
      // A secret rotated meanwhile: the cluster's row is unchanged, its credential is not.
      const rotated = await a.platform.registry.issueSecret('hd-c01');
      await vi.waitFor(
        async () => expect((await b.api(`/api/v1/villages/${village.body.id}`)).status).toBe(200),
        {
          timeout: 10_000,
        },
      );
      await vi.waitFor(async () => expect(await listening()).toHaveLength(2), { timeout: 10_000 });
      expect(await b.platform.registry.verifySecret('hd-c01', first.secret)).toBe(false);
      expect(await b.platform.registry.verifySecret('hd-c01', rotated.secret)).toBe(true);
    });
  });
});
