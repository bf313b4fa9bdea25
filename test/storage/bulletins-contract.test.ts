import { join } from 'node:path';
import { pino } from 'pino';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type BulletinChange,
  type BulletinRecord,
  BulletinStore,
  type ReceiptRecord,
} from '../../services/bulletins/bulletin-store.js';
import { ConflictError, NotFoundError } from '../../services/errors.js';
import { RegistryStore } from '../../services/registry/registry-store.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { type StateDatabase, sqliteState } from '../../services/storage/sql/state-database.js';
import type { ManualClock } from '../support/manual-clock.js';
import { engines, engineTest, type Opened } from '../support/state-engines.js';

/*
 * Bulletins from the province and the communes' receipts on both engines of the query layer: on
 * SQLite the platform's file is the store; on PostgreSQL (Debian's package, a database per test) it
 * is the source of truth and each instance reads its own SQLite copy.
 */

const silent = pino({ level: 'silent' });
const page = { limit: 100, offset: 0 };
const HOUR = 3_600_000;
const COMMUNES = ['huong-dao', 'hop-thinh', 'son-vi'] as const;

describe.each(engines)('provincial bulletins on $name', (engine) => {
  const run = engine.skip ? describe.skip : describe;
  run(engine.skip ?? 'bulletin store', () => {
    const test = engineTest(engine, {
      prefix: 'sc-bulletins-',
      now: Date.UTC(2026, 11, 7, 2),
      communes: COMMUNES.map((id) => [id, `Xã ${id}`, 'phu-tho'] as const),
    });
    const { started, files } = test;
    let serial = 0;
    let dir = '';
    let opened: Opened;
    let clock: ManualClock;
    beforeEach(() => {
      ({ dir, opened, clock } = test);
    });

    /** One instance: its registry (the communes receipts refer to) and its bulletins. */
    const instance = async (state: StateDatabase, db: Db, heard?: BulletinChange[]) => {
      const registry = new RegistryStore({
        db,
        state,
        now: () => clock.now(),
        defaultTimezone: 'Asia/Ho_Chi_Minh',
        logger: silent,
      });
      await registry.start();
      started.push(registry);
      const bulletins = new BulletinStore({ db, state, logger: silent });
      if (heard) bulletins.onChange((change) => heard.push(change));
      await bulletins.start();
      started.push(bulletins);
      return { registry, bulletins };
    };

    /** Another instance: on PostgreSQL its own pool and SQLite file; on SQLite the same file. */
    const otherFile = () => {
      if (opened.state.engine !== 'postgres') return opened.places;
      const file = openDatabase(join(dir, 'other.sqlite'), silent);
      files.push(file);
      return file;
    };

    const bulletin = (extra: Partial<BulletinRecord> = {}): BulletinRecord => ({
      id: `tb-${++serial}`,
      provinceId: 'phu-tho',
      name: 'Phòng chống bão số 3',
      level: 'normal',
      content: { kind: 'media', mediaId: 'm-bao-so-3' },
      volume: 70,
      startAt: clock.now() + HOUR,
      durationS: 42.5,
      expiresAt: clock.now() + 2 * HOUR,
      createdBy: 'tinh-phu-tho',
      createdAt: clock.now(),
      ...extra,
    });

    const receiptsOf = (b: BulletinRecord, communes: readonly string[] = COMMUNES): ReceiptRecord[] =>
      communes.map((communeId) => ({
        bulletinId: b.id,
        communeId,
        state: 'pending',
        scheduleId: null,
        broadcastId: null,
        clash: [],
        decidedBy: null,
        decidedAt: null,
        reason: null,
        updatedAt: clock.now(),
      }));

    /** A bulletin sent now to every commune (or these). */
    const send = async (
      store: BulletinStore,
      extra: Partial<BulletinRecord> = {},
      communes: readonly string[] = COMMUNES,
    ) => {
      const b = bulletin(extra);
      await store.insert(b, receiptsOf(b, communes));
      return b;
    };

    const states = (store: BulletinStore, id: string) =>
      Object.fromEntries(store.receipts(id).map((r) => [r.communeId, r.state]));

    it('sends a bulletin with a receipt per commune and takes each receipt through its states', async () => {
      const { bulletins } = await instance(opened.state, opened.places);
      const sent = await send(bulletins);
      expect(bulletins.get(sent.id)).toEqual(sent);
      expect(states(bulletins, sent.id)).toEqual({
        'hop-thinh': 'pending',
        'huong-dao': 'pending',
        'son-vi': 'pending',
      });
      expect(bulletins.waitingPerCommune().get('son-vi')).toBe(1);

      clock.advance(60_000);
      const pending = bulletins.receipt(sent.id, 'huong-dao');
      await bulletins.putReceipt({
        ...pending,
        state: 'scheduled',
        scheduleId: 'sch-1',
        decidedBy: 'lan',
        decidedAt: clock.now(),
        updatedAt: clock.now(),
      });
      await bulletins.putReceipt({
        ...bulletins.receipt(sent.id, 'hop-thinh'),
        state: 'declined',
        reason: 'Đã phát bản tin tương tự',
        decidedBy: 'minh',
        decidedAt: clock.now(),
        updatedAt: clock.now(),
      });
      expect(bulletins.receipt(sent.id, 'huong-dao')).toMatchObject({
        state: 'scheduled',
        scheduleId: 'sch-1',
        decidedBy: 'lan',
        decidedAt: clock.now(),
      });
      expect(bulletins.receipt(sent.id, 'hop-thinh').reason).toBe('Đã phát bản tin tương tự');
      expect(bulletins.receiptStates([sent.id]).get(sent.id)).toEqual({
        scheduled: 1,
        declined: 1,
        pending: 1,
      });
      expect(bulletins.receiptStates([sent.id], ['huong-dao']).get(sent.id)).toEqual({ scheduled: 1 });
      expect(bulletins.inbox(['hop-thinh'], ['declined'], page).items.map((r) => r.bulletinId)).toEqual([
        sent.id,
      ]);

      // An emergency airs in every commune: all its receipts change in one write.
      const emergency = await send(bulletins, { level: 'emergency', startAt: clock.now() });
      await bulletins.putReceipts(
        receiptsOf(emergency).map((r) => ({ ...r, state: 'aired' as const, broadcastId: 'b-1' })),
      );
      expect(states(bulletins, emergency.id)).toEqual({
        'hop-thinh': 'aired',
        'huong-dao': 'aired',
        'son-vi': 'aired',
      });
      expect(bulletins.list({ provinceIds: ['phu-tho'] }, page).items.map((b) => b.id)).toEqual([
        emergency.id,
        sent.id,
      ]);
      expect(bulletins.list({ communes: ['son-vi'] }, page).total).toBe(2);
      expect(bulletins.list({ provinceIds: ['ha-noi'] }, page).total).toBe(0);
    });

    it('keeps the commune items a priority bulletin clashes with, until the commune orders them', async () => {
      const { bulletins } = await instance(opened.state, opened.places);
      const priority = await send(bulletins, { level: 'priority' }, ['son-vi']);
      const clash = [
        {
          scheduleId: 'sch-9',
          name: 'Thông báo tiêm chủng',
          start: '2026-12-07T10:00:00.000Z',
          end: '2026-12-07T10:05:00.000Z',
        },
      ];
      await bulletins.putReceipt({
        ...bulletins.receipt(priority.id, 'son-vi'),
        state: 'needs-order',
        clash,
      });
      expect(bulletins.receipt(priority.id, 'son-vi')).toMatchObject({ state: 'needs-order', clash });
      expect(bulletins.waitingPerCommune().get('son-vi')).toBe(1);
      await bulletins.putReceipt({
        ...bulletins.receipt(priority.id, 'son-vi'),
        state: 'scheduled',
        scheduleId: 'sch-10',
        reason: 'bulletin first',
      });
      expect(bulletins.receipt(priority.id, 'son-vi')).toMatchObject({ state: 'scheduled', clash });
      expect(bulletins.waitingPerCommune().get('son-vi')).toBeUndefined();
    });

    it('expires the pending receipts of a bulletin past its expiry, once, and sleeps until the next', async () => {
      const { bulletins } = await instance(opened.state, opened.places);
      const soon = await send(bulletins, { expiresAt: clock.now() + HOUR });
      const later = await send(bulletins, { expiresAt: clock.now() + 3 * HOUR });
      await bulletins.putReceipt({ ...bulletins.receipt(soon.id, 'huong-dao'), state: 'scheduled' });
      expect(bulletins.nextExpiry()).toBe(soon.expiresAt);
      expect(await bulletins.expire(clock.now())).toEqual([]);

      clock.advance(HOUR);
      const expired = await bulletins.expire(clock.now());
      expect(expired.map((r) => `${r.communeId} ${r.state} ${r.updatedAt}`)).toEqual([
        `hop-thinh expired ${clock.now()}`,
        `son-vi expired ${clock.now()}`,
      ]);
      expect(states(bulletins, soon.id)).toEqual({
        'hop-thinh': 'expired',
        'huong-dao': 'scheduled',
        'son-vi': 'expired',
      });
      expect(await bulletins.expire(clock.now())).toEqual([]);
      expect(bulletins.nextExpiry()).toBe(later.expiresAt);
      expect(states(bulletins, later.id)['son-vi']).toBe('pending');
    });

    it('refuses a bulletin id taken, a missing commune and a receipt of a missing bulletin with 409s', async () => {
      const { bulletins } = await instance(opened.state, opened.places);
      const sent = await send(bulletins);
      const again = bulletin({ id: sent.id, name: 'Trùng mã' });
      await expect(bulletins.insert(again, receiptsOf(again))).rejects.toBeInstanceOf(ConflictError);
      expect(bulletins.get(sent.id).name).toBe('Phòng chống bão số 3');

      const stray = bulletin();
      await expect(bulletins.insert(stray, receiptsOf(stray, ['xa-khong-co']))).rejects.toBeInstanceOf(
        ConflictError,
      );
      // Nothing of it was kept.
      expect(() => bulletins.get(stray.id)).toThrow(NotFoundError);
      await expect(
        bulletins.putReceipt({ ...receiptsOf(stray)[0], bulletinId: 'tb-khong-co' } as ReceiptRecord),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(() => bulletins.receipt('tb-khong-co', 'huong-dao')).toThrow(NotFoundError);
      await expect(bulletins.present('tb-khong-co')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('keeps bulletins and receipts across a restart', async () => {
      const first = await instance(opened.state, opened.places);
      const sent = await send(first.bulletins);
      await first.bulletins.putReceipt({
        ...first.bulletins.receipt(sent.id, 'son-vi'),
        state: 'declined',
        reason: 'Mất điện',
      });
      for (const s of started.splice(0).reverse()) await s.stop();

      const state = await opened.reopen();
      const again = await instance(state, opened.places);
      expect(again.bulletins.get(sent.id)).toEqual(sent);
      expect(again.bulletins.receipt(sent.id, 'son-vi')).toMatchObject({
        state: 'declined',
        reason: 'Mất điện',
      });
      clock.advance(2 * HOUR);
      expect((await again.bulletins.expire(clock.now())).map((r) => r.communeId)).toEqual([
        'hop-thinh',
        'huong-dao',
      ]);
    });

    it("sees another instance's changes at once, and tells its listeners of them", async () => {
      const a = await instance(opened.state, opened.places);
      const heard: BulletinChange[] = [];
      const b = await instance(await opened.second(), otherFile(), heard);
      await vi.waitFor(() => expect(b.registry.getCommune('son-vi').name).toBe('Xã son-vi'));

      const sent = await send(a.bulletins);
      await vi.waitFor(() => expect(b.bulletins.get(sent.id)).toEqual(sent));
      expect(states(b.bulletins, sent.id)['huong-dao']).toBe('pending');

      // A decision taken on B reaches A, and the other way round.
      await b.bulletins.putReceipt({ ...b.bulletins.receipt(sent.id, 'huong-dao'), state: 'scheduled' });
      await vi.waitFor(() => expect(a.bulletins.receipt(sent.id, 'huong-dao').state).toBe('scheduled'));
      await a.bulletins.putReceipt({
        ...a.bulletins.receipt(sent.id, 'hop-thinh'),
        state: 'declined',
        reason: 'Trùng lịch',
      });
      await vi.waitFor(() => expect(b.bulletins.receipt(sent.id, 'hop-thinh').reason).toBe('Trùng lịch'));

      // A decision on B about a bulletin A sent a moment ago finds it, even before A's news arrives.
      const fresh = await send(a.bulletins);
      expect((await b.bulletins.present(fresh.id)).id).toBe(fresh.id);

      // Both expire at once: each receipt expires, and is told, on one of them only.
      clock.advance(2 * HOUR);
      const [onA, onB] = await Promise.all([
        a.bulletins.expire(clock.now()),
        b.bulletins.expire(clock.now()),
      ]);
      expect([...onA, ...onB].map((r) => `${r.bulletinId} ${r.communeId}`).sort()).toEqual(
        [`${sent.id} son-vi`, ...COMMUNES.map((c) => `${fresh.id} ${c}`)].sort(),
      );
      await vi.waitFor(() => expect(states(a.bulletins, fresh.id)['son-vi']).toBe('expired'));
      await vi.waitFor(() => expect(states(b.bulletins, sent.id)['son-vi']).toBe('expired'));
      expect(a.bulletins.waitingPerCommune().size).toBe(0);

      if (opened.state.engine === 'postgres') {
        await vi.waitFor(() =>
          expect(heard.filter((c) => c.elsewhere).map((c) => `${c.bulletinId} ${c.change}`)).toEqual(
            expect.arrayContaining([`${sent.id} created`, `${sent.id} updated`, `${fresh.id} created`]),
          ),
        );
      }
      // B's own writes are told too, as its own.
      expect(heard).toContainEqual({ bulletinId: sent.id, change: 'updated', elsewhere: false });
    });

    it.runIf(engine.name === 'PostgreSQL')(
      'moves the bulletins of a SQLite file into an empty PostgreSQL when DATABASE_URL is first set',
      async () => {
        const before = await instance(sqliteState(opened.places), opened.places);
        const sent = await send(before.bulletins);
        await before.bulletins.putReceipt({
          ...before.bulletins.receipt(sent.id, 'son-vi'),
          state: 'scheduled',
        });
        for (const s of started.splice(0).reverse()) await s.stop();

        const after = await instance(opened.state, opened.places);
        const held = await opened.state.db.selectFrom('bulletin_receipts').selectAll().execute();
        expect(held.map((r) => `${r.commune_id} ${r.state}`).sort()).toEqual([
          'hop-thinh pending',
          'huong-dao pending',
          'son-vi scheduled',
        ]);
        expect(after.bulletins.get(sent.id)).toEqual(sent);
        // A new instance starts from PostgreSQL alone.
        const fresh = await instance(await opened.second(), otherFile());
        expect(states(fresh.bulletins, sent.id)).toEqual({
          'hop-thinh': 'pending',
          'huong-dao': 'pending',
          'son-vi': 'scheduled',
        });
      },
    );
  });
});
