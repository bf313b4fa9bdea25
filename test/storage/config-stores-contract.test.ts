import { join } from 'node:path';
import { pino } from 'pino';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandService } from '../../services/commands/command-service.js';
import { ControlScheduler } from '../../services/commands/control-schedules.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../../services/errors.js';
import { type RecipientChange, RecipientStore } from '../../services/notifications/recipient-store.js';
import { RegistryStore } from '../../services/registry/registry-store.js';
import { type StationChange, StationStore } from '../../services/stations/station-store.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import type { StateDatabase } from '../../services/storage/sql/state-database.js';
import type { ManualClock } from '../support/manual-clock.js';
import { engines, engineTest, type Opened, TEST_COMMUNES } from '../support/state-engines.js';

/*
 * The stations and each commune's notification recipients, rules and settings kept the same way on
 * both engines of the query layer: the platform's SQLite file, and a real PostgreSQL (Debian's
 * package, started here on a loopback port with a database per test) with a read copy in each
 * instance's SQLite file.
 */

const silent = pino({ level: 'silent' });
const page = { limit: 100, offset: 0 };

describe.each(engines)('the configuration stores on $name', (engine) => {
  const run = engine.skip ? describe.skip : describe;
  run(engine.skip ?? 'stations and notification recipients', () => {
    const test = engineTest(engine, {
      prefix: 'sc-config-',
      now: Date.UTC(2026, 11, 7),
      communes: TEST_COMMUNES,
    });
    const { started, files } = test;
    let dir = '';
    let opened: Opened;
    let clock: ManualClock;
    beforeEach(() => {
      ({ dir, opened, clock } = test);
    });

    /** The registry as an instance starts it: with PostgreSQL, its communes and villages are copied. */
    const registryOn = async (state: StateDatabase, db: Db) => {
      const registry = new RegistryStore({
        db,
        state,
        now: () => clock.now(),
        defaultTimezone: 'Asia/Ho_Chi_Minh',
        logger: silent,
      });
      started.push(registry);
      await registry.start();
      return registry;
    };
    const stationsOn = async (state: StateDatabase, db: Db, heard?: StationChange[]) => {
      const store = new StationStore({
        db,
        state,
        now: () => clock.now(),
        logger: silent,
        onChange: (change) => heard?.push(change),
      });
      started.push(store);
      await store.start();
      return store;
    };
    const recipientsOn = async (state: StateDatabase, db: Db, heard?: RecipientChange[]) => {
      const store = new RecipientStore({ db, state, logger: silent, onChange: (c) => heard?.push(c) });
      started.push(store);
      await store.start();
      return store;
    };
    /** Another instance: on PostgreSQL its own SQLite file and pool; on SQLite the same file. */
    const otherInstance = async (): Promise<{ state: StateDatabase; db: Db }> => {
      if (opened.state.engine !== 'postgres') return { state: opened.state, db: opened.places };
      const db = openDatabase(join(dir, `other-${files.length}.sqlite`), silent);
      files.push(db);
      return { state: await opened.second(), db };
    };
    const station = (id: string, extra: object = {}) => ({
      id,
      name: `Đài ${id}`,
      url: `http://radio.example.vn/${id}.mp3`,
      ...extra,
    });
    const contact = (name: string, extra: object = {}) => ({
      communeId: 'huong-dao',
      name,
      email: `${name.toLowerCase()}@example.vn`,
      ...extra,
    });

    describe('stations', () => {
      it('keeps stations with their fallback and health, and refuses clashes and broken fallbacks', async () => {
        const stations = await stationsOn(opened.state, opened.places);
        const vov1 = await stations.create(station('vov1', { kind: 'national' }));
        expect(vov1).toMatchObject({
          kind: 'national',
          fallback: { kind: 'stop' },
          health: { state: 'unknown' },
        });
        await stations.create(station('phu-tho', { fallback: { kind: 'station', stationId: 'vov1' } }));
        expect(stations.list().map((s) => s.id)).toEqual(['phu-tho', 'vov1']);

        await expect(stations.create(station('vov1'))).rejects.toBeInstanceOf(ConflictError);
        await expect(
          stations.create(station('vov2', { fallback: { kind: 'station', stationId: 'nowhere' } })),
        ).rejects.toBeInstanceOf(NotFoundError);
        await expect(
          stations.update('vov1', { fallback: { kind: 'station', stationId: 'vov1' } }),
        ).rejects.toBeInstanceOf(InvalidRequestError);
        await expect(stations.delete('vov1')).rejects.toThrow(/fallback of Đài phu-tho/);
        await expect(stations.update('nowhere', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);

        clock.advance(60_000);
        await stations.setHealth('vov1', 'ok', 'audio/mpeg');
        expect(stations.get('vov1').health).toMatchObject({ state: 'ok', detail: 'audio/mpeg' });
        // A new address has not been checked; a new name keeps the check.
        await stations.update('vov1', { name: 'VOV1' });
        expect(stations.get('vov1').health.state).toBe('ok');
        const moved = await stations.update('vov1', { url: 'http://radio.example.vn/vov1-new.mp3' });
        expect(moved.health.state).toBe('unknown');
        expect(Date.parse(moved.updatedAt)).toBe(clock.now());

        await stations.update('phu-tho', { fallback: { kind: 'stop' } });
        await stations.delete('vov1');
        expect(() => stations.get('vov1')).toThrow(NotFoundError);
        const held = await opened.state.db.selectFrom('stations').select('id').execute();
        expect(held.map((r) => r.id)).toEqual(['phu-tho']);
      });

      it('keeps its stations over a restart, and a new instance starts with them', async () => {
        const stations = await stationsOn(opened.state, opened.places);
        await stations.create(station('vov1'));
        await stations.setHealth('vov1', 'silent', 'dead air for 30 s');
        await stations.stop();
        const again = await stationsOn(await opened.reopen(), opened.places);
        expect(again.get('vov1').health).toMatchObject({ state: 'silent', detail: 'dead air for 30 s' });
        const other = await otherInstance();
        const fresh = await stationsOn(other.state, other.db);
        expect(fresh.list().map((s) => s.id)).toEqual(['vov1']);
      });

      it("sees another instance's changes at once, and tells its listener of them", async () => {
        const a = await stationsOn(opened.state, opened.places);
        const other = await otherInstance();
        const heard: StationChange[] = [];
        const b = await stationsOn(other.state, other.db, heard);

        await a.create(station('vov1'));
        // A write on B that needs what A just made finds it.
        await b.create(station('vov2', { fallback: { kind: 'station', stationId: 'vov1' } }));
        await vi.waitFor(() =>
          expect(a.get('vov2').fallback).toEqual({ kind: 'station', stationId: 'vov1' }),
        );
        await a.update('vov1', { name: 'VOV Giao thông' });
        await vi.waitFor(() => expect(b.get('vov1').name).toBe('VOV Giao thông'));
        await a.setHealth('vov1', 'unreachable', 'connection refused');
        await vi.waitFor(() => expect(b.get('vov1').health.state).toBe('unreachable'));
        // B's station names vov1 as its fallback: A refuses the delete, whatever A's copy says.
        await expect(a.delete('vov1')).rejects.toBeInstanceOf(InvalidRequestError);
        await b.delete('vov2');
        await a.delete('vov1');
        await vi.waitFor(() => expect(b.list()).toEqual([]));
        if (opened.state.engine === 'postgres')
          expect(heard.filter((c) => c.id === 'vov1').map((c) => c.change)).toEqual([
            'created',
            'updated',
            'deleted',
          ]);
      });
    });

    describe('notification recipients, village heads, rules and quiet hours', () => {
      it('keeps recipients, rules and settings, and refuses missing communes, villages and records', async () => {
        const registry = await registryOn(opened.state, opened.places);
        await registry.createVillage({ id: 'thon-1', communeId: 'huong-dao', name: 'Thôn 1' });
        const store = await recipientsOn(opened.state, opened.places);

        const head = await store.createContact(
          contact('Lan', {
            villageHead: true,
            villageId: 'thon-1',
            quietHours: { start: '22:00', end: '06:00' },
          }),
          clock.now(),
        );
        expect(head).toMatchObject({ villageHead: true, villageId: 'thon-1', enabled: true });
        const binh = await store.createContact(
          contact('Binh', { email: null, telegramChatId: '42' }),
          clock.now(),
        );
        expect(store.contactsOf('huong-dao').map((c) => c.name)).toEqual(['Binh', 'Lan']);
        expect(store.countContacts('huong-dao')).toBe(2);
        await expect(
          store.createContact(contact('An', { communeId: 'nowhere' }), clock.now()),
        ).rejects.toBeInstanceOf(ConflictError);
        await expect(
          store.createContact(contact('An', { villageId: 'no-thon' }), clock.now()),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(store.listContacts({ communeIds: ['huong-dao', 'hop-thinh'] }, page).total).toBe(2);

        const rule = await store.createRule(
          {
            communeId: 'huong-dao',
            name: 'Sự cố',
            kinds: ['cluster-offline', 'cluster-offline'],
            contactIds: [head.id, binh.id],
            villageHeads: true,
            channels: ['email', 'telegram'],
          } as Parameters<RecipientStore['createRule']>[0],
          clock.now(),
        );
        expect(rule).toMatchObject({
          kinds: ['cluster-offline'],
          minSeverity: 'warning',
          villageHeads: true,
        });
        clock.advance(60_000);
        const changed = await store.updateRule(
          rule.id,
          { minSeverity: 'critical', enabled: false },
          clock.now(),
        );
        expect(changed).toMatchObject({ minSeverity: 'critical', enabled: false, updatedAt: clock.now() });
        await expect(store.updateRule('nr-none', { name: 'x' }, clock.now())).rejects.toBeInstanceOf(
          NotFoundError,
        );

        expect(store.settings('huong-dao')).toMatchObject({ custom: false, quietHours: null });
        await store.setSettings(
          {
            communeId: 'huong-dao',
            quietHours: { start: '21:30', end: '05:30' },
            criticalBypassesQuiet: false,
            digestWindowMin: 30,
          },
          'u-lan',
          clock.now(),
        );
        await store.setSettings(
          { ...store.settings('huong-dao'), digestWindowMin: 15 },
          'u-lan',
          clock.now(),
        );
        expect(store.settings('huong-dao')).toEqual({
          communeId: 'huong-dao',
          quietHours: { start: '21:30', end: '05:30' },
          criticalBypassesQuiet: false,
          digestWindowMin: 15,
          custom: true,
        });
        await expect(
          store.setSettings({ ...store.settings('huong-dao'), communeId: 'nowhere' }, null, clock.now()),
        ).rejects.toBeInstanceOf(ConflictError);

        // A recipient removed is taken out of every rule naming it.
        await store.deleteContact(binh.id, clock.now());
        expect(store.findContact(binh.id)).toBeNull();
        expect(store.getRule(rule.id).contactIds).toEqual([head.id]);
        // A village removed leaves its head a recipient of the commune, on both engines.
        await registry.deleteVillage('thon-1');
        expect(store.getContact(head.id).villageId).toBeNull();

        await store.deleteRule(rule.id);
        await expect(store.deleteRule(rule.id)).rejects.toBeInstanceOf(NotFoundError);
        expect(store.listRules({}, page).total).toBe(0);
        const held = await opened.state.db
          .selectFrom('notification_contacts')
          .select(['id', 'village_id'])
          .execute();
        expect(held).toEqual([{ id: head.id, village_id: null }]);
      });

      it('keeps them over a restart, and a new instance starts with them', async () => {
        await registryOn(opened.state, opened.places);
        const store = await recipientsOn(opened.state, opened.places);
        const lan = await store.createContact(contact('Lan'), clock.now());
        await store.createRule(
          { communeId: 'huong-dao', name: 'Tất cả', contactIds: [lan.id], channels: ['email'] } as Parameters<
            RecipientStore['createRule']
          >[0],
          clock.now(),
        );
        await store.setSettings(
          { communeId: 'huong-dao', quietHours: null, criticalBypassesQuiet: true, digestWindowMin: 5 },
          null,
          clock.now(),
        );
        await Promise.all(started.splice(0).map((s) => s.stop()));

        const state = await opened.reopen();
        await registryOn(state, opened.places);
        const again = await recipientsOn(state, opened.places);
        expect(again.contactsOf('huong-dao').map((c) => c.name)).toEqual(['Lan']);
        expect(again.rulesOf('huong-dao')[0]?.contactIds).toEqual([lan.id]);
        expect(again.settings('huong-dao').digestWindowMin).toBe(5);

        const other = await otherInstance();
        await registryOn(other.state, other.db);
        const fresh = await recipientsOn(other.state, other.db);
        expect(fresh.rulesOf('huong-dao')).toHaveLength(1);
        expect(fresh.settings('huong-dao').custom).toBe(true);
      });

      it("sees another instance's changes at once, and tells its listener of them", async () => {
        const registry = await registryOn(opened.state, opened.places);
        const a = await recipientsOn(opened.state, opened.places);
        const other = await otherInstance();
        await registryOn(other.state, other.db);
        const heard: RecipientChange[] = [];
        const b = await recipientsOn(other.state, other.db, heard);

        await registry.createVillage({ id: 'thon-2', communeId: 'hop-thinh', name: 'Thôn 2' });
        const head = await a.createContact(
          contact('Minh', { communeId: 'hop-thinh', villageHead: true, villageId: 'thon-2' }),
          clock.now(),
        );
        await vi.waitFor(() => expect(b.findContact(head.id)).toMatchObject({ villageId: 'thon-2' }));
        // A write on B about what A made a moment ago finds it.
        const rule = await b.createRule(
          {
            communeId: 'hop-thinh',
            name: 'Trưởng thôn',
            villageHeads: true,
            contactIds: [head.id],
            channels: ['email'],
          } as Parameters<RecipientStore['createRule']>[0],
          clock.now(),
        );
        await vi.waitFor(() => expect(a.rulesOf('hop-thinh').map((r) => r.id)).toEqual([rule.id]));
        await a.setSettings(
          {
            communeId: 'hop-thinh',
            quietHours: { start: '22:00', end: '06:00' },
            criticalBypassesQuiet: true,
            digestWindowMin: 10,
          },
          null,
          clock.now(),
        );
        await vi.waitFor(() =>
          expect(b.settings('hop-thinh').quietHours).toEqual({ start: '22:00', end: '06:00' }),
        );
        await a.deleteContact(head.id, clock.now());
        await vi.waitFor(() => {
          expect(b.findContact(head.id)).toBeNull();
          expect(b.getRule(rule.id).contactIds).toEqual([]);
        });
        if (opened.state.engine === 'postgres')
          expect(heard.map((c) => `${c.entity} ${c.change}`)).toEqual([
            'contact created',
            'rule created',
            'settings created',
            'contact deleted',
            'rule updated',
          ]);
      });
    });

    describe('control schedules', () => {
      /**
       * The schedules as an instance keeps them. Not started: nothing falls due here, so no command
       * is sent and the command service is not needed.
       */
      const controlsOn = async (state: StateDatabase, db: Db) => {
        const controls = new ControlScheduler({
          db,
          state,
          commands: {} as CommandService,
          isOnline: () => false,
          resolveTargets: () => [],
          clock,
          logger: silent,
          defaultTimezone: 'Asia/Ho_Chi_Minh',
        });
        started.push({ stop: () => controls.close() });
        await controls.open();
        return controls;
      };
      const nightly = {
        name: 'Tắt tăng âm ban đêm',
        targets: { communeIds: ['huong-dao'], villageIds: [], clusterIds: [], groupIds: [] },
        command: { type: 'power' as const, on: false },
        start: '2026-12-07T22:00',
        rrule: 'FREQ=DAILY',
        enabled: true,
      };

      it('keeps schedules with their next run, renames, pauses and removes them, and says which is missing', async () => {
        const controls = await controlsOn(opened.state, opened.places);
        const made = await controls.create(nightly, 'operator');
        expect(made).toMatchObject({ name: nightly.name, enabled: true, next: '2026-12-07T15:00:00.000Z' });
        const paused = await controls.update(made.id, { enabled: false, name: 'Tắt đêm' });
        expect(paused).toMatchObject({ name: 'Tắt đêm', enabled: false, next: null });
        await expect(controls.update('ctl-none', { enabled: true })).rejects.toBeInstanceOf(NotFoundError);
        await controls.delete(made.id);
        expect(controls.list()).toEqual([]);
        await expect(controls.delete(made.id)).rejects.toBeInstanceOf(NotFoundError);
      });

      it("sees another instance's schedules at once, and keeps them across a restart", async () => {
        const a = await controlsOn(opened.state, opened.places);
        const other = await otherInstance();
        const b = await controlsOn(other.state, other.db);
        const made = await a.create(nightly, 'operator');
        await vi.waitFor(() => expect(b.list().map((c) => c.id)).toEqual([made.id]));
        // Paused through B at once, as soon as it was made on A.
        expect(await b.update(made.id, { enabled: false })).toMatchObject({ enabled: false });
        await vi.waitFor(() => expect(a.get(made.id).enabled).toBe(false));
        const again = await opened.reopen();
        const restarted = await controlsOn(again, opened.places);
        expect(restarted.get(made.id)).toMatchObject({ name: nightly.name, enabled: false });
      });
    });
  });
});
