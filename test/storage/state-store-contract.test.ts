import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initialCameraHealth } from '../../devices/onvif-camera/index.js';
import { AccountStore, registryPlaces } from '../../services/accounts/account-store.js';
import { AuthService } from '../../services/accounts/auth-service.js';
import { AuditLog } from '../../services/audit/audit-log.js';
import { CameraEventStore } from '../../services/cameras/camera-event-store.js';
import { CameraHealthStore } from '../../services/cameras/camera-health-store.js';
import { type CameraChange, CameraStore, registryCameraPlaces } from '../../services/cameras/camera-store.js';
import { ConflictError, NotFoundError } from '../../services/errors.js';
import { type RegistryChange, RegistryStore } from '../../services/registry/registry-store.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { POSTGRES_MIGRATIONS } from '../../services/storage/sql/postgres-migrations.js';
import type { StateDatabase } from '../../services/storage/sql/state-database.js';
import type { ManualClock } from '../support/manual-clock.js';
import { TEST_PASSWORD_PARAMS } from '../support/platform-harness.js';
import { engines, engineTest, type Opened, TEST_COMMUNES } from '../support/state-engines.js';

/*
 * The contract every engine of the query layer keeps for the stores converted to it: the same
 * suite on the platform's SQLite file and on a real PostgreSQL (Debian's package, started here on
 * a loopback port with a database per test).
 */

const silent = pino({ level: 'silent' });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(engines)('the state store contract on $name', (engine) => {
  const run = engine.skip ? describe.skip : describe;
  run(engine.skip ?? 'converted stores', () => {
    const test = engineTest(engine, {
      prefix: 'sc-state-',
      now: Date.UTC(2026, 11, 7),
      communes: TEST_COMMUNES,
    });
    let dir = '';
    let opened: Opened;
    let clock: ManualClock;
    beforeEach(() => {
      ({ dir, opened, clock } = test);
    });

    const accounts = (state = opened.state) => new AccountStore(state, registryPlaces(opened.places));
    const user = (
      username: string,
      scope = { communeIds: [] as string[], provinceId: null as string | null },
    ) => ({
      id: `u-${username.toLowerCase()}`,
      username,
      displayName: `Người dùng ${username}`,
      passwordHash: 'scrypt$not-a-real-hash',
      roles: ['operator' as const],
      scope,
      now: clock.now(),
    });
    const auth = (store = accounts()) =>
      new AuthService({
        store,
        clock,
        logger: silent,
        passwordParams: TEST_PASSWORD_PARAMS,
        sessionMaxMs: 12 * HOUR,
        sessionIdleMs: 2 * HOUR,
      });

    const entry = (action: string, actor: string, extra: object = {}) => ({
      actor: { type: 'user' as const, id: `u-${actor}`, name: actor, roles: ['operator'] },
      action,
      outcome: 'success' as const,
      ...extra,
    });

    describe('accounts', () => {
      it('creates users with their scope and finds them by id or by username in any letter case', async () => {
        const store = accounts();
        const created = await store.insertUser(
          user('Lan.Nguyen', { communeIds: ['hop-thinh', 'huong-dao'], provinceId: null }),
        );
        expect(created).toMatchObject({
          username: 'Lan.Nguyen',
          communeIds: ['hop-thinh', 'huong-dao'],
          communeId: null,
          provinceId: null,
          disabled: false,
          createdAt: '2026-12-07T00:00:00.000Z',
        });
        expect((await store.findByUsername('lan.nguyen'))?.id).toBe(created.id);
        expect((await store.findByUsername('LAN.NGUYEN'))?.id).toBe(created.id);
        expect(await store.findUser('u-nobody')).toBeNull();
        await expect(store.getUser('u-nobody')).rejects.toBeInstanceOf(NotFoundError);
      });

      it('refuses a second account whose username differs only in case, and keeps nothing of it', async () => {
        const store = accounts();
        await store.insertUser(user('binh'));
        const clash = { ...user('BINH', { communeIds: ['huong-dao'], provinceId: null }), id: 'u-other' };
        await expect(store.insertUser(clash)).rejects.toBeInstanceOf(ConflictError);
        expect(await store.findUser('u-other')).toBeNull();
        expect(await store.countUsers()).toBe(1);
      });

      it('refuses a scope naming a commune or province the registry does not know', async () => {
        const store = accounts();
        await expect(
          store.insertUser(user('an', { communeIds: ['huong-dao', 'atlantis'], provinceId: null })),
        ).rejects.toThrow(/commune "atlantis"/);
        await expect(store.insertUser(user('an', { communeIds: [], provinceId: 'lemuria' }))).rejects.toThrow(
          /province "lemuria"/,
        );
        expect(await store.countUsers()).toBe(0);
      });

      it('updates name, roles, scope and the disabled flag, and reads a province scope as its communes now', async () => {
        const store = accounts();
        await store.insertUser(user('chi', { communeIds: ['huong-dao'], provinceId: null }));
        clock.advance(HOUR);
        const after = await store.updateUser(
          'u-chi',
          {
            displayName: 'Chị Chi',
            roles: ['viewer', 'police'],
            scope: { communeIds: [], provinceId: 'phu-tho' },
            disabled: true,
          },
          clock.now(),
        );
        expect(after).toMatchObject({
          displayName: 'Chị Chi',
          roles: ['viewer', 'police'],
          communeIds: [],
          provinceId: 'phu-tho',
          disabled: true,
          updatedAt: '2026-12-07T01:00:00.000Z',
        });
        expect(store.communesInScope(after)).toEqual(['hop-thinh', 'huong-dao']);
        const back = await store.updateUser(
          'u-chi',
          {
            displayName: 'Chị Chi',
            roles: ['viewer'],
            scope: { communeIds: ['tan-thanh'], provinceId: null },
            disabled: false,
          },
          clock.now(),
        );
        expect(back).toMatchObject({
          communeIds: ['tan-thanh'],
          communeId: 'tan-thanh',
          provinceId: null,
          disabled: false,
        });
        expect(store.communesInScope(back)).toEqual(['tan-thanh']);
      });

      it('lists users by username whatever their case, a page at a time, with the total', async () => {
        const store = accounts();
        for (const name of ['dung', 'Binh', 'an', 'Cuong', 'em']) await store.insertUser(user(name));
        const first = await store.listUsers({ limit: 2, offset: 0 });
        const rest = await store.listUsers({ limit: 10, offset: 2 });
        expect(first.total).toBe(5);
        expect([...first.items, ...rest.items].map((u) => u.username)).toEqual([
          'an',
          'Binh',
          'Cuong',
          'dung',
          'em',
        ]);
      });
    });

    describe('sessions and tokens', () => {
      it('ends a session at its absolute expiry or after it sat idle, and prunes both', async () => {
        const store = accounts();
        await store.insertUser(user('giang'));
        const now = clock.now();
        const base = { userId: 'u-giang', address: '127.0.0.1', userAgent: 'x'.repeat(500) };
        await store.insertSession({ ...base, idHash: 'short', now, expiresAt: now + HOUR });
        await store.insertSession({ ...base, idHash: 'idle', now, expiresAt: now + 12 * HOUR });
        await store.insertSession({ ...base, idHash: 'busy', now, expiresAt: now + 12 * HOUR });
        expect(await store.findSession('busy')).toEqual({
          userId: 'u-giang',
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 12 * HOUR,
        });
        await store.touchSession('busy', now + 90 * 60_000);
        expect(await store.deleteExpiredSessions(now + 2 * HOUR, 2 * HOUR)).toBe(2);
        expect(await store.findSession('short')).toBeNull();
        expect(await store.findSession('idle')).toBeNull();
        expect((await store.findSession('busy'))?.lastSeenAt).toBe(now + 90 * 60_000);
      });

      it('signs a user out everywhere but the session that asked', async () => {
        const store = accounts();
        await store.insertUser(user('ha'));
        const now = clock.now();
        for (const idHash of ['one', 'two', 'three'])
          await store.insertSession({
            idHash,
            userId: 'u-ha',
            now,
            expiresAt: now + HOUR,
            address: null,
            userAgent: null,
          });
        expect(await store.deleteSessionsOf('u-ha', 'two')).toBe(2);
        expect(await store.findSession('two')).not.toBeNull();
        expect(await store.deleteSessionsOf('u-ha')).toBe(1);
      });

      it('lists tokens newest first, keeps the first revocation time, and revokes only live ones', async () => {
        const store = accounts();
        await store.insertUser(user('khanh'));
        for (const [i, id] of ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc'].entries()) {
          await store.insertToken({
            id,
            userId: 'u-khanh',
            name: `token ${i}`,
            secretHash: `hash-${i}`,
            roles: ['operator'],
            now: clock.now() + i * 1000,
            expiresAt: i === 0 ? null : clock.now() + DAY,
          });
        }
        const page = await store.listTokens('u-khanh', { limit: 2, offset: 0 });
        expect(page.total).toBe(3);
        expect(page.items.map((t) => t.id)).toEqual(['cccccccccccc', 'bbbbbbbbbbbb']);
        expect((await store.listTokens(null, { limit: 10, offset: 0 })).total).toBe(3);
        expect((await store.listTokens('u-nobody', { limit: 10, offset: 0 })).total).toBe(0);
        await store.revokeToken('aaaaaaaaaaaa', clock.now() + 5000);
        await store.revokeToken('aaaaaaaaaaaa', clock.now() + 9000);
        expect((await store.getToken('aaaaaaaaaaaa')).revokedAt).toBe(
          new Date(clock.now() + 5000).toISOString(),
        );
        expect(await store.revokeTokensOf('u-khanh', clock.now() + 10_000)).toBe(2);
        await store.touchToken('bbbbbbbbbbbb', clock.now() + 11_000);
        expect((await store.getToken('bbbbbbbbbbbb')).lastUsedAt).toBe(
          new Date(clock.now() + 11_000).toISOString(),
        );
      });

      it('signs in, keeps the session while used, and ends sessions and tokens when the password is reset', async () => {
        const service = auth();
        const admin = await service.createUser({
          username: 'admin',
          displayName: 'Admin',
          password: 'admin-password-long',
          roles: ['admin'],
        });
        const { sessionId } = await service.login('ADMIN', 'admin-password-long', {
          address: null,
          userAgent: null,
        });
        const signedIn = await service.authenticateSession(sessionId);
        expect(signedIn?.principal).toMatchObject({ userId: admin.id, via: 'session', roles: ['admin'] });
        const { token } = await service.createToken(signedIn?.principal as never, {
          name: 'ci',
          expiresInDays: 1,
        });
        expect((await service.authenticateToken(token))?.userId).toBe(admin.id);

        clock.advance(DAY); // the token's day is over; the session sat idle past two hours
        expect(await service.authenticateToken(token)).toBeNull();
        expect(await service.authenticateSession(sessionId)).toBeNull();

        const again = await service.login('admin', 'admin-password-long', { address: null, userAgent: null });
        const principal = (await service.authenticateSession(again.sessionId))?.principal;
        const forever = await service.createToken(principal as never, { name: 'no expiry' });
        clock.advance(HOUR);
        expect(await service.authenticateToken(forever.token)).not.toBeNull();
        // Both tokens still unrevoked, the expired one too.
        expect(await service.resetPassword(admin.id, 'another-password-long')).toEqual({ tokensRevoked: 2 });
        expect(await service.authenticateToken(forever.token)).toBeNull();
        expect(await service.authenticateSession(again.sessionId)).toBeNull();
      });

      it('stops a revoked token at once, and a disabled account’s tokens for good', async () => {
        const service = auth();
        const admin = await service.createUser({
          username: 'admin',
          displayName: 'Admin',
          password: 'admin-password-long',
          roles: ['admin'],
        });
        const operator = await service.createUser({
          username: 'op',
          displayName: 'Op',
          password: 'operator-password',
          roles: ['operator'],
          communeId: 'huong-dao',
        });
        const adminPrincipal = (
          await service.authenticateSession(
            (
              await service.login('admin', 'admin-password-long', { address: null, userAgent: null })
            ).sessionId,
          )
        )?.principal;
        const opPrincipal = (
          await service.authenticateSession(
            (
              await service.login('op', 'operator-password', { address: null, userAgent: null })
            ).sessionId,
          )
        )?.principal;
        expect(opPrincipal?.communes).toEqual(['huong-dao']);
        const one = await service.createToken(opPrincipal as never, { name: 'one' });
        const two = await service.createToken(opPrincipal as never, { name: 'two' });
        await service.revokeToken(adminPrincipal as never, one.record.id);
        expect(await service.authenticateToken(one.token)).toBeNull();
        expect(await service.authenticateToken(two.token)).not.toBeNull();
        await service.updateUser(operator.id, { disabled: true }, adminPrincipal as never);
        await service.updateUser(operator.id, { disabled: false }, adminPrincipal as never);
        expect(await service.authenticateToken(two.token)).toBeNull();
        expect(admin.roles).toEqual(['admin']);
      });
    });

    describe('audit log', () => {
      it('appends in order and reads back newest first, filtered and a page at a time', async () => {
        const audit = new AuditLog(opened.state, clock, silent);
        for (let i = 0; i < 30; i++) {
          audit.record(
            entry(i % 3 === 0 ? 'schedule.create' : 'media.upload', i % 2 === 0 ? 'lan' : 'binh', {
              target: { type: 'schedule', id: `s-${i}` },
              requestId: `req-${i}`,
              after: { i, password: 'hunter2' },
              outcome: i === 29 ? 'denied' : 'success',
            }),
          );
          if (i % 10 === 9) clock.advance(1000); // several entries share a millisecond
        }
        const all = await audit.query({}, { limit: 100, offset: 0 });
        expect(all.total).toBe(30);
        expect(all.items.map((e) => e.requestId)).toEqual(
          Array.from({ length: 30 }, (_, i) => `req-${29 - i}`),
        );
        expect(all.items[0]).toMatchObject({
          outcome: 'denied',
          after: { i: 29, password: '[redacted]' },
          actorRoles: ['operator'],
        });

        const pages = [];
        for (let offset = 0; offset < 30; offset += 7)
          pages.push(...(await audit.query({}, { limit: 7, offset })).items);
        expect(pages.map((e) => e.id)).toEqual(all.items.map((e) => e.id));

        expect((await audit.query({ action: 'schedule.create' }, { limit: 100, offset: 0 })).total).toBe(10);
        expect((await audit.query({ actor: 'lan' }, { limit: 100, offset: 0 })).total).toBe(15);
        expect(
          (await audit.query({ actor: 'u-binh', action: 'media.upload' }, { limit: 100, offset: 0 })).total,
        ).toBe(10);
        expect(
          (
            await audit.query({ targetType: 'schedule', targetId: 's-4' }, { limit: 10, offset: 0 })
          ).items.map((e) => e.requestId),
        ).toEqual(['req-4']);
        expect((await audit.query({ outcome: 'denied' }, { limit: 10, offset: 0 })).total).toBe(1);
        expect((await audit.query({ requestId: 'req-7' }, { limit: 10, offset: 0 })).total).toBe(1);
        const start = Date.UTC(2026, 11, 7);
        expect(
          (await audit.query({ from: start + 1000, to: start + 1000 }, { limit: 100, offset: 0 })).total,
        ).toBe(10);
        await audit.stop();
      });

      it('bounds what it stores and keeps a NUL a refused device sent', async () => {
        const audit = new AuditLog(opened.state, clock, silent);
        audit.record({
          actor: { type: 'device', id: `dev\u0000${'x'.repeat(10_000)}`, name: 'dev\u0000ice' },
          action: 'mqtt.login',
          outcome: 'denied',
          detail: { blob: 'y'.repeat(40_000) },
        });
        const [stored] = (await audit.query({ action: 'mqtt.login' }, { limit: 1, offset: 0 })).items;
        expect(stored?.actorName).toBe('dev\uFFFDice');
        expect(stored?.actorId?.length).toBeLessThan(300);
        expect(stored?.detail).toEqual({ truncated: true, chars: 40_011 });
        expect(audit.writeFailures).toBe(0);
      });

      it('archives entries past the retention to a gzip file before removing them', async () => {
        const audit = new AuditLog(opened.state, clock, silent);
        for (let i = 0; i < 20; i++) audit.record(entry('old.thing', 'lan'));
        clock.advance(400 * DAY);
        audit.record(entry('recent.thing', 'lan'));
        const { archived, file } = await audit.prune(clock.now() - 365 * DAY, join(dir, 'audit-archive'));
        expect(archived).toBe(20);
        expect(file).toMatch(/audit-before-.*\.jsonl\.gz$/);
        expect((await audit.query({}, { limit: 10, offset: 0 })).items.map((e) => e.action)).toEqual([
          'recent.thing',
        ]);
      });
    });

    describe('cameras', () => {
      const key = randomBytes(32);
      const changes: CameraChange[] = [];
      const cameras = (state = opened.state) =>
        new CameraStore(
          state,
          registryCameraPlaces(opened.places),
          key,
          () => clock.now(),
          (c) => changes.push(c),
        );
      const camera = (id: string, communeId = 'huong-dao', extra: object = {}) => ({
        id,
        communeId,
        name: `Camera ${id}`,
        xaddr: `http://10.0.3.${id.length}:80/onvif/device_service`,
        username: 'admin',
        password: `pw-${id}`,
        ...extra,
      });
      beforeEach(() => {
        changes.length = 0;
        const at = clock.now();
        opened.places
          .prepare(
            'INSERT INTO villages (id, commune_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run('thon-1', 'huong-dao', 'Thôn 1', at, at);
      });

      it('stores passwords sealed, opens them for the poller only, and keeps them through a restart', async () => {
        const store = cameras();
        const created = await store.create(
          camera('cam-a', 'huong-dao', {
            villageId: 'thon-1',
            location: { lat: 21.4, lon: 105.3 },
            snapshotUsername: 'viewer',
            snapshotPassword: 'snap-secret',
          }),
        );
        expect(created).toMatchObject({
          id: 'cam-a',
          villageId: 'thon-1',
          location: { lat: 21.4, lon: 105.3 },
          snapshotUsername: 'viewer',
          createdAt: '2026-12-07T00:00:00.000Z',
        });
        expect(JSON.stringify(created)).not.toContain('pw-cam-a');
        expect(changes).toEqual([{ cameraId: 'cam-a', change: 'created', xaddrs: [created.xaddr] }]);
        const stored = await opened.state.db
          .selectFrom('cameras')
          .select(['password_sealed', 'snapshot_password_sealed'])
          .executeTakeFirstOrThrow();
        expect(stored.password_sealed).not.toContain('pw-cam-a');
        expect(stored.snapshot_password_sealed).not.toContain('snap-secret');
        const reopened = cameras(await opened.reopen());
        expect(await reopened.credentials('cam-a')).toEqual({
          xaddr: created.xaddr,
          username: 'admin',
          password: 'pw-cam-a',
          snapshotUsername: 'viewer',
          snapshotPassword: 'snap-secret',
          profileToken: null,
        });
        // Sealed bound to the camera: another key opens nothing.
        const stranger = new CameraStore(
          opened.state,
          registryCameraPlaces(opened.places),
          randomBytes(32),
          () => 0,
        );
        await expect(stranger.credentials('cam-a')).rejects.toThrow();
      });

      it('updates and deletes a camera, and refuses clashes and missing places with 409', async () => {
        const store = cameras();
        await store.create(
          camera('cam-a', 'huong-dao', { snapshotUsername: 'viewer', snapshotPassword: 's1' }),
        );
        clock.advance(HOUR);
        const moved = await store.update('cam-a', {
          name: 'Cổng chợ',
          xaddr: 'http://10.0.3.99:80/onvif/device_service',
          password: 'pw-new',
          villageId: 'thon-1',
        });
        expect(moved).toMatchObject({
          name: 'Cổng chợ',
          villageId: 'thon-1',
          updatedAt: '2026-12-07T01:00:00.000Z',
        });
        expect(changes.at(-1)?.xaddrs).toEqual([
          'http://10.0.3.5:80/onvif/device_service',
          'http://10.0.3.99:80/onvif/device_service',
        ]);
        expect(await store.credentials('cam-a')).toMatchObject({
          password: 'pw-new',
          snapshotPassword: 's1',
        });
        expect(await store.hasSnapshotPassword('cam-a')).toBe(true);
        // No snapshot user means no snapshot password.
        await store.update('cam-a', { snapshotUsername: null });
        expect(await store.hasSnapshotPassword('cam-a')).toBe(false);

        // The same channel of the same address twice, a taken id, an unknown commune or village.
        const twin = camera('cam-b', 'huong-dao', { xaddr: moved.xaddr });
        await expect(store.create(twin)).rejects.toBeInstanceOf(ConflictError);
        await store.create({ ...twin, videoSourceToken: 'vs-2' });
        await expect(store.create(camera('cam-b'))).rejects.toBeInstanceOf(ConflictError);
        await expect(store.create(camera('cam-c', 'nowhere'))).rejects.toThrow(/commune or village/);
        await expect(
          store.create(camera('cam-c', 'huong-dao', { villageId: 'no-thon' })),
        ).rejects.toBeInstanceOf(ConflictError);
        await expect(store.update('cam-a', { villageId: 'no-thon' })).rejects.toBeInstanceOf(ConflictError);
        expect(await store.find('cam-c')).toBeNull();

        await store.delete('cam-b');
        expect(await store.find('cam-b')).toBeNull();
        expect(store.known('cam-b')).toBeNull();
        await expect(store.delete('cam-b')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.update('cam-b', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
        expect(changes.at(-1)).toMatchObject({ cameraId: 'cam-b', change: 'deleted' });
      });

      it('lists cameras by id a page at a time, by commune, village and device address', async () => {
        const store = cameras();
        for (let i = 0; i < 12; i++)
          await store.create(
            camera(`cam-${String(i).padStart(2, '0')}`, i % 3 === 0 ? 'hop-thinh' : 'huong-dao', {
              xaddr: `http://10.0.4.${i}:80/onvif/device_service`,
              ...(i < 2 ? { villageId: 'thon-1' } : {}),
            }),
          );
        const first = await store.list({}, { limit: 5, offset: 0 });
        expect(first.total).toBe(12);
        expect(first.items.map((c) => c.id)).toEqual(['cam-00', 'cam-01', 'cam-02', 'cam-03', 'cam-04']);
        expect((await store.list({}, { limit: 5, offset: 10 })).items.map((c) => c.id)).toEqual([
          'cam-10',
          'cam-11',
        ]);
        const hopThinh = await store.list({ communeId: 'hop-thinh' }, { limit: 2, offset: 0 });
        expect(hopThinh).toMatchObject({ total: 4, limit: 2, offset: 0 });
        expect(hopThinh.items.map((c) => c.id)).toEqual(['cam-00', 'cam-03']);
        expect(
          (await store.list({ communeIds: ['huong-dao', 'tan-thanh'] }, { limit: 100, offset: 0 })).total,
        ).toBe(8);
        expect((await store.list({ communeIds: [] }, { limit: 100, offset: 0 })).total).toBe(0);
        // Both filters apply: a limited account asking for a commune it may not see gets nothing.
        expect(
          (await store.list({ communeId: 'hop-thinh', communeIds: ['huong-dao'] }, { limit: 9, offset: 0 }))
            .total,
        ).toBe(0);
        expect(
          (await store.list({ villageId: 'thon-1' }, { limit: 9, offset: 0 })).items.map((c) => c.id),
        ).toEqual(['cam-00', 'cam-01']);
        expect((await store.atAddress('http://10.0.4.7:80/onvif/device_service')).map((c) => c.id)).toEqual([
          'cam-07',
        ]);
        expect((await store.devices()).size).toBe(12);
        // The directory answers at once what the stored cameras say, after a restart too.
        const restarted = cameras(await opened.reopen());
        expect(restarted.known('cam-03')).toBeNull();
        await restarted.refreshDirectory();
        expect(restarted.known('cam-03')).toEqual({
          id: 'cam-03',
          communeId: 'hop-thinh',
          villageId: null,
          name: 'Camera cam-03',
        });
        expect(restarted.knownIn({ villageId: 'thon-1' }).map((c) => c.id)).toEqual(['cam-00', 'cam-01']);
        expect(restarted.knownIn({ communeIds: ['hop-thinh'] })).toHaveLength(4);
      });

      it('keeps health, incidents, trusted certificates and login backoffs, and drops them with the camera', async () => {
        const store = cameras();
        await store.create(camera('cam-a'));
        const health = new CameraHealthStore(opened.state);
        const t0 = clock.now();
        const reason = { code: 'unreachable' as const, detail: 'no answer on port 80' };
        const offline = { kind: 'offline' as const, start: t0, end: null, reason };
        const down = { ...initialCameraHealth(t0), state: 'offline' as const, reason, openIncident: offline };
        await health.save(
          { cameraId: 'cam-a', health: down, lastPollAt: t0, lastOkAt: null, signals: null },
          { opened: offline, closed: null },
        );
        const up = { ...initialCameraHealth(t0 + HOUR), state: 'ok' as const };
        await health.save(
          { cameraId: 'cam-a', health: up, lastPollAt: t0 + HOUR, lastOkAt: t0 + HOUR, signals: null },
          { opened: null, closed: { ...offline, end: t0 + HOUR } },
        );
        await health.save(
          { cameraId: 'cam-a', health: down, lastPollAt: t0 + 2 * HOUR, lastOkAt: t0 + HOUR, signals: null },
          { opened: { ...offline, start: t0 + 2 * HOUR }, closed: null },
        );
        await health.trustCertificate('cam-a', '10.0.3.5:443', 'AA:BB', t0);
        await health.trustCertificate('cam-a', '10.0.3.5:443', 'CC:DD', t0 + 1);
        const backoff = { failures: 2, lastRefusedAt: t0, refusedAt: [t0 - 1, t0], cause: 'HTTP 401' };
        await health.saveLoginBackoff('http://10.0.3.5:80', { ...backoff, failures: 1 }, t0);
        await health.saveLoginBackoff('http://10.0.3.5:80', backoff, t0 + 1);
        await health.saveLoginBackoff('http://10.0.3.6:80', backoff, t0);
        await health.saveLoginBackoff('http://10.0.3.6:80', null, t0 + 2);

        const restarted = new CameraHealthStore(await opened.reopen());
        expect(await restarted.loadAll()).toEqual([
          { cameraId: 'cam-a', health: down, lastPollAt: t0 + 2 * HOUR, lastOkAt: t0 + HOUR, signals: null },
        ]);
        const incidents = await restarted.incidents('cam-a', { limit: 1, offset: 0 });
        expect(incidents).toMatchObject({ total: 2, limit: 1, offset: 0 });
        expect(incidents.items).toEqual([
          {
            id: expect.any(Number),
            cameraId: 'cam-a',
            kind: 'offline',
            startedAt: t0 + 2 * HOUR,
            endedAt: null,
            reason,
          },
        ]);
        expect((await restarted.incidents('cam-a', { limit: 5, offset: 1 })).items[0]).toMatchObject({
          startedAt: t0,
          endedAt: t0 + HOUR,
        });
        // Trusted on first use: the first certificate stays.
        expect(await restarted.trustedCertificates()).toEqual(
          new Map([['cam-a', new Map([['10.0.3.5:443', 'AA:BB']])]]),
        );
        expect(await restarted.loginBackoffs()).toEqual(new Map([['http://10.0.3.5:80', backoff]]));
        await restarted.forgetCertificates('cam-a');
        expect((await restarted.trustedCertificates()).size).toBe(0);
        await restarted.trustCertificate('cam-a', '10.0.3.5:443', 'EE:FF', t0);
        await cameras(opened.state).delete('cam-a');
        expect(await restarted.loadAll()).toEqual([]);
        expect((await restarted.incidents('cam-a', { limit: 5, offset: 0 })).total).toBe(0);
        expect((await restarted.trustedCertificates()).size).toBe(0);
      });

      it('records events, ends them no earlier than they began, keeps the newest and filters them', async () => {
        const store = cameras();
        await store.create(camera('cam-a'));
        await store.create(camera('cam-bb', 'hop-thinh'));
        const events = new CameraEventStore(opened.state, 3);
        const t0 = clock.now();
        const motion = await events.start('cam-a', 'motion', 'tns1:VideoSource/MotionAlarm', t0);
        expect(motion).toEqual({
          id: expect.any(Number),
          cameraId: 'cam-a',
          cameraName: 'Camera cam-a',
          communeId: 'huong-dao',
          kind: 'motion',
          topic: 'tns1:VideoSource/MotionAlarm',
          startedAt: t0,
          endedAt: null,
        });
        expect(await events.ongoing('cam-a', 'motion')).toEqual(motion);
        expect(await events.ongoing('cam-a', 'tamper')).toBeNull();
        // The camera's clock is behind: the end is the start, never before it.
        expect(await events.end(motion.id, t0 - 5_000)).toMatchObject({ endedAt: t0 });
        // Ending twice keeps the first end.
        expect(await events.end(motion.id, t0 + 9_000)).toMatchObject({ endedAt: t0 });
        for (let i = 1; i <= 4; i++) {
          const e = await events.start('cam-a', 'motion', 'tns1:VideoSource/MotionAlarm', t0 + i * 60_000);
          await events.end(e.id, t0 + i * 60_000 + 10_000);
        }
        const open = await events.start('cam-a', 'tamper', 'tns1:VideoSource/GlobalSceneChange', t0 - DAY);
        await events.start('cam-bb', 'motion', 'tns1:VideoSource/MotionAlarm', t0 + 30_000);
        // Three finished events kept per camera, and the one still going on, however old.
        const ofA = await events.list({ cameraId: 'cam-a' }, { limit: 10, offset: 0 });
        expect(ofA.total).toBe(4);
        expect(ofA.items.map((e) => e.startedAt)).toEqual([
          t0 + 4 * 60_000,
          t0 + 3 * 60_000,
          t0 + 2 * 60_000,
          t0 - DAY,
        ]);
        expect(await events.get(motion.id)).toBeNull();
        expect(
          (await events.list({ open: true }, { limit: 10, offset: 0 })).items.map((e) => e.id),
        ).toContain(open.id);
        expect((await events.list({ open: true }, { limit: 10, offset: 0 })).total).toBe(2);
        expect((await events.list({ kind: 'tamper' }, { limit: 10, offset: 0 })).total).toBe(1);
        const limited = await events.list({ communeIds: ['hop-thinh'] }, { limit: 10, offset: 0 });
        expect(limited.items.map((e) => e.cameraName)).toEqual(['Camera cam-bb']);
        expect((await events.list({ communeId: 'huong-dao' }, { limit: 2, offset: 2 })).items).toHaveLength(
          2,
        );
        expect((await events.list({ communeIds: [] }, { limit: 10, offset: 0 })).total).toBe(0);
        await store.delete('cam-a');
        expect((await events.list({}, { limit: 10, offset: 0 })).total).toBe(1);
      });
    });

    describe('registry', () => {
      const page = { limit: 100, offset: 0 };
      const stores: RegistryStore[] = [];
      afterEach(async () => {
        await Promise.all(stores.splice(0).map((s) => s.stop()));
      });
      /** A registry as an instance starts it: on this state, reading its own SQLite file. */
      const registryOn = async (state: StateDatabase, db: Db, heard?: RegistryChange[]) => {
        const registry = new RegistryStore({
          db,
          state,
          now: () => clock.now(),
          defaultTimezone: 'Asia/Ho_Chi_Minh',
          logger: silent,
          onChange: (change) => heard?.push(change),
        });
        stores.push(registry);
        await registry.start();
        return registry;
      };
      const cluster = (id: string, villageId: string, extra: object = {}) => ({
        id,
        villageId,
        name: `Cụm ${id}`,
        location: { lat: 21.3, lon: 105.5 },
        ...extra,
      });
      /** Rows in the engine that holds the registry. */
      const held = async (table: 'communes' | 'villages' | 'clusters') =>
        (await opened.state.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => r.id);

      it('keeps communes, villages and clusters with their speakers, and refuses clashes, missing places and deletes still referenced', async () => {
        const registry = await registryOn(opened.state, opened.places);
        // The communes already in the SQLite file are the registry's, on PostgreSQL too (filled once).
        expect(await held('communes')).toEqual(['hop-thinh', 'huong-dao', 'tan-thanh']);
        expect(registry.listCommunes(page).total).toBe(3);

        await registry.createVillage({ id: 'thon-1', communeId: 'huong-dao', name: 'Thôn 1' });
        await expect(
          registry.createVillage({ id: 'thon-x', communeId: 'huong-dao', name: 'Thôn 1' }),
        ).rejects.toBeInstanceOf(ConflictError);
        await expect(
          registry.createVillage({ id: 'thon-1', communeId: 'hop-thinh', name: 'Thôn 9' }),
        ).rejects.toBeInstanceOf(ConflictError);
        await expect(registry.createVillage({ communeId: 'nowhere', name: 'Thôn 2' })).rejects.toBeInstanceOf(
          NotFoundError,
        );
        const created = await registry.createCluster(
          cluster('c1', 'thon-1', {
            speakers: [
              { idx: 1, label: 'Loa chợ' },
              { idx: 3, label: 'Loa đình' },
            ],
          }),
        );
        expect(created).toMatchObject({
          communeId: 'huong-dao',
          villageId: 'thon-1',
          credentialIssuedAt: null,
        });
        expect(created.speakers.map((s) => s.label)).toEqual(['Loa chợ', 'Loa đình']);
        expect(registry.outputMask('c1')).toBe(0b1010);
        await expect(registry.createCluster(cluster('c1', 'thon-1'))).rejects.toBeInstanceOf(ConflictError);
        await expect(registry.createCluster(cluster('c2', 'thon-none'))).rejects.toBeInstanceOf(
          NotFoundError,
        );

        clock.advance(60_000);
        const renamed = await registry.updateCluster('c1', { name: 'Cụm chợ', speakers: 1 });
        expect(renamed).toMatchObject({ name: 'Cụm chợ', speakers: [{ idx: 1, label: 'Loa 1' }] });
        expect(Date.parse(renamed.updatedAt)).toBe(clock.now());
        expect(registry.outputMask('c1')).toBe(0b10);
        // A village with a cluster, a commune with a village: still referenced, nothing deleted.
        await expect(registry.deleteVillage('thon-1')).rejects.toBeInstanceOf(ConflictError);
        await expect(registry.deleteCommune('huong-dao')).rejects.toBeInstanceOf(ConflictError);
        expect(await held('villages')).toEqual(['thon-1']);

        await registry.updateCommune('huong-dao', { approvalRequired: true, code: '08869' });
        expect(registry.communesRequiringApproval()).toEqual(new Set(['huong-dao']));
        await expect(registry.updateCommune('hop-thinh', { code: '08869' })).rejects.toBeInstanceOf(
          ConflictError,
        );
        expect(registry.communeWithCode('08869')?.id).toBe('huong-dao');

        await registry.deleteCluster('c1');
        await registry.deleteVillage('thon-1');
        await registry.deleteCommune('tan-thanh');
        expect(registry.findCluster('c1')).toBeNull();
        expect(registry.listVillages({ communeId: 'huong-dao' }, page).total).toBe(0);
        expect(await held('clusters')).toEqual([]);
        expect(await held('communes')).toEqual(['hop-thinh', 'huong-dao']);
        expect(
          registry
            .listCommunes(page)
            .items.map((c) => c.id)
            .sort(),
        ).toEqual(['hop-thinh', 'huong-dao']);
      });

      it('issues, rotates and checks device secrets, keeping only their hashes', async () => {
        const registry = await registryOn(opened.state, opened.places);
        await registry.createVillage({ id: 'thon-1', communeId: 'huong-dao', name: 'Thôn 1' });
        await registry.createCluster(cluster('c1', 'thon-1'));
        const first = await registry.issueSecret('c1');
        expect(first.rotated).toBe(false);
        expect(await registry.verifySecret('c1', first.secret)).toBe(true);
        const second = await registry.issueSecret('c1');
        expect(second.rotated).toBe(true);
        expect(await registry.verifySecret('c1', first.secret)).toBe(false);
        expect(await registry.verifySecret('c1', second.secret)).toBe(true);
        expect(registry.getCluster('c1').credentialIssuedAt).not.toBeNull();
        const stored = await opened.state.db.selectFrom('device_credentials').selectAll().execute();
        expect(stored).toHaveLength(1);
        expect(stored[0]?.rotations).toBe(1);
        expect(JSON.stringify(stored)).not.toContain(second.secret);
        await expect(registry.issueSecret('nobody')).rejects.toBeInstanceOf(NotFoundError);
        expect(await registry.verifySecret('nobody', second.secret)).toBe(false);
      });

      it('fills PostgreSQL from a SQLite file once: what was deleted since is not brought back by an old file', async () => {
        const registry = await registryOn(opened.state, opened.places);
        await registry.deleteCommune('tan-thanh');
        if (opened.state.engine !== 'postgres') return;
        // Another instance starting with an old file that still has the commune.
        const old = openDatabase(join(dir, 'old.sqlite'), silent);
        try {
          old
            .prepare(
              'INSERT INTO communes (id, name, timezone, created_at, updated_at, province_id) VALUES (?, ?, ?, ?, ?, ?)',
            )
            .run('tan-thanh', 'Xã Tân Thành', 'Asia/Ho_Chi_Minh', 0, 0, 'ca-mau');
          const other = await registryOn(await opened.second(), old);
          expect(await held('communes')).toEqual(['hop-thinh', 'huong-dao']);
          expect(
            other
              .listCommunes(page)
              .items.map((c) => c.id)
              .sort(),
          ).toEqual(['hop-thinh', 'huong-dao']);
        } finally {
          await Promise.all(stores.splice(0).map((s) => s.stop()));
          old.close();
        }
      });

      it("sees another instance's changes at once, and tells its listeners of them", async () => {
        const a = await registryOn(opened.state, opened.places);
        // Another instance: on PostgreSQL with its own SQLite file; on SQLite the same file.
        const otherFile =
          opened.state.engine === 'postgres'
            ? openDatabase(join(dir, 'other.sqlite'), silent)
            : opened.places;
        const heard: RegistryChange[] = [];
        try {
          const b = await registryOn(await opened.second(), otherFile, heard);
          expect(b.listCommunes(page).total).toBe(3);

          await a.createVillage({ id: 'thon-1', communeId: 'huong-dao', name: 'Thôn 1' });
          await a.createCluster(cluster('c1', 'thon-1'));
          const { secret } = await a.issueSecret('c1');
          // A device issued its secret on A connects to B at once.
          expect(await b.verifySecret('c1', secret)).toBe(true);
          await vi.waitFor(() => expect(b.findCluster('c1')).toMatchObject({ communeId: 'huong-dao' }));
          await a.updateCluster('c1', { name: 'Cụm mới', heartbeatTimeoutS: 90 });
          await vi.waitFor(() =>
            expect(b.getCluster('c1')).toMatchObject({ name: 'Cụm mới', heartbeatTimeoutS: 90 }),
          );
          // A write on B that needs what A just made finds it.
          await a.createVillage({ id: 'thon-2', communeId: 'hop-thinh', name: 'Thôn 2' });
          await b.createCluster(cluster('c2', 'thon-2'));
          await vi.waitFor(() => expect(a.findCluster('c2')?.communeId).toBe('hop-thinh'));
          await a.deleteCluster('c1');
          await vi.waitFor(() => expect(b.findCluster('c1')).toBeNull());
          if (opened.state.engine === 'postgres')
            expect(heard.map((c) => `${c.entity} ${c.id} ${c.change}`)).toEqual(
              expect.arrayContaining([
                'village thon-1 created',
                'cluster c1 created',
                'cluster c1 updated',
                'cluster c2 created',
                'cluster c1 deleted',
              ]),
            );
        } finally {
          if (otherFile !== opened.places) otherFile.close();
        }
      });
    });

    describe('transactions, restarts and concurrent writers', () => {
      it('rolls back every write of a transaction that fails', async () => {
        const store = accounts();
        await store.insertUser(user('lan'));
        await expect(
          opened.state.transaction(async (trx) => {
            await trx
              .insertInto('user_communes')
              .values({ user_id: 'u-lan', commune_id: 'huong-dao' })
              .execute();
            await trx
              .updateTable('users')
              .set({ display_name: 'changed' })
              .where('id', '=', 'u-lan')
              .execute();
            throw new Error('half-way');
          }),
        ).rejects.toThrow('half-way');
        expect(await store.getUser('u-lan')).toMatchObject({ displayName: 'Người dùng lan', communeIds: [] });
      });

      it('applies its migrations once: a restart keeps the data and migrates nothing again', async () => {
        await accounts().insertUser(user('minh'));
        const before = new AuditLog(opened.state, clock, silent);
        before.record(entry('before.restart', 'minh'));
        await before.stop(); // as the platform stops: what is queued is written first
        const again = await opened.reopen();
        const reopened = await opened.reopen(); // and a third start
        expect(again.engine).toBe(reopened.engine);
        expect((await accounts(reopened).getUser('u-minh')).username).toBe('minh');
        const audit = new AuditLog(reopened, clock, silent);
        expect((await audit.query({}, { limit: 10, offset: 0 })).items.map((e) => e.action)).toEqual([
          'before.restart',
        ]);
        if (reopened.engine === 'postgres') {
          const { rows } = await sql<{
            name: string;
          }>`SELECT name FROM kysely_migration ORDER BY name`.execute(reopened.db);
          expect(rows.map((r) => r.name)).toEqual(Object.keys(POSTGRES_MIGRATIONS).sort());
        } else {
          const versions = opened.places
            .prepare('SELECT COUNT(*) AS n FROM schema_migrations WHERE version = 2')
            .get();
          expect(versions).toEqual({ n: 1 });
        }
      });

      it('keeps every write of concurrent writers, and lets exactly one of them take a username', async () => {
        const other = await opened.second();
        const [a, b] = [accounts(), accounts(other)];
        const [auditA, auditB] = [
          new AuditLog(opened.state, clock, silent),
          new AuditLog(other, clock, silent),
        ];
        await Promise.all(
          Array.from({ length: 40 }, (_, i) => {
            const store = i % 2 === 0 ? a : b;
            (i % 2 === 0 ? auditA : auditB).record(entry('user.create', `w${i}`));
            return store.insertUser(user(`writer-${i}`, { communeIds: ['huong-dao'], provinceId: null }));
          }),
        );
        const race = await Promise.allSettled([
          a.insertUser({ ...user('contested'), id: 'u-first' }),
          b.insertUser({ ...user('Contested'), id: 'u-second' }),
        ]);
        expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(race.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(ConflictError);
        await Promise.all([auditA.stop(), auditB.stop()]);
        expect(await a.countUsers()).toBe(41);
        expect(
          (await a.listUsers({ limit: 100, offset: 0 })).items.filter((u) => u.communeIds[0] === 'huong-dao'),
        ).toHaveLength(40);
        expect((await auditA.query({ action: 'user.create' }, { limit: 100, offset: 0 })).total).toBe(40);
      });
    });
  });
});
