import { join } from 'node:path';
import { pino } from 'pino';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError } from '../../services/errors.js';
import type { ScheduleChange } from '../../services/event-bus.js';
import { RegistryStore } from '../../services/registry/registry-store.js';
import { ScheduleService } from '../../services/schedules/schedule-service.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { type StateDatabase, sqliteState } from '../../services/storage/sql/state-database.js';
import type { ManualClock } from '../support/manual-clock.js';
import { engines, engineTest, type Opened, TEST_COMMUNES } from '../support/state-engines.js';

/*
 * Schedules, cluster groups and content approval on both engines of the query layer: on SQLite the
 * platform's file is the store; on PostgreSQL (Debian's package, a database per test) it is the
 * source of truth and each instance reads its own SQLite copy.
 */

const silent = pino({ level: 'silent' });
const page = { limit: 100, offset: 0 };
const operator = { userId: 'u-lan', username: 'lan' };
const approver = { userId: 'u-minh', username: 'minh' };

/** A relay of the commune's station: its length is given, no media file is needed. */
const relay = (name: string, start: string, extra: object = {}) => ({
  name,
  level: 'normal' as const,
  content: { kind: 'stream' as const, url: 'https://radio.example.vn/truc-tiep' },
  durationS: 600,
  start,
  targets: { clusterIds: ['c1'] },
  ...extra,
});

describe.each(engines)('schedules, groups and approvals on $name', (engine) => {
  const run = engine.skip ? describe.skip : describe;
  run(engine.skip ?? 'schedule store', () => {
    const test = engineTest(engine, {
      prefix: 'sc-schedules-',
      now: Date.UTC(2026, 11, 7),
      communes: TEST_COMMUNES.slice(0, 2),
    });
    const { started, files } = test;
    let dir = '';
    let opened: Opened;
    let clock: ManualClock;
    beforeEach(() => {
      ({ dir, opened, clock } = test);
    });

    /** One instance: its registry and its schedules, on this state, reading this SQLite file. */
    const instance = async (state: StateDatabase, db: Db, heard?: ScheduleChange[]) => {
      const registry = new RegistryStore({
        db,
        state,
        now: () => clock.now(),
        defaultTimezone: 'Asia/Ho_Chi_Minh',
        logger: silent,
      });
      await registry.start();
      started.push(registry);
      const schedules = new ScheduleService({
        db,
        state,
        clock,
        logger: silent,
        registry,
        mediaDuration: () => 60,
        defaultTimezone: 'Asia/Ho_Chi_Minh',
        onChange: (change) => heard?.push(change),
      });
      await schedules.start();
      started.push(schedules);
      return { registry, schedules };
    };

    /** Two villages, three clusters: c1 and c2 in Hướng Đạo (which requires approval), c3 in Hợp Thịnh. */
    const fleet = async (registry: RegistryStore) => {
      await registry.createVillage({ id: 'thon-1', communeId: 'huong-dao', name: 'Thôn 1' });
      await registry.createVillage({ id: 'thon-9', communeId: 'hop-thinh', name: 'Thôn 9' });
      for (const [id, village] of [
        ['c1', 'thon-1'],
        ['c2', 'thon-1'],
        ['c3', 'thon-9'],
      ] as const)
        await registry.createCluster({
          id,
          villageId: village,
          name: `Cụm ${id}`,
          location: { lat: 21.3, lon: 105.5 },
        });
      await registry.updateCommune('huong-dao', { approvalRequired: true });
    };

    /** Rows of a table in the engine that holds the schedules. */
    const held = async (table: 'schedules' | 'cluster_groups' | 'cluster_group_members' | 'approval_steps') =>
      (await opened.state.db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];

    /** Another instance: on PostgreSQL its own pool and SQLite file; on SQLite the same file. */
    const otherFile = () => {
      if (opened.state.engine !== 'postgres') return opened.places;
      const file = openDatabase(join(dir, 'other.sqlite'), silent);
      files.push(file);
      return file;
    };

    it('saves, changes and deletes schedules, refusing a same-level clash and letting a higher level pre-empt', async () => {
      const { registry, schedules } = await instance(opened.state, opened.places);
      await fleet(registry);
      const first = await schedules.create(
        relay('Bản tin sáng', '2026-12-08T07:00', { targets: { clusterIds: ['c3'] } }),
        operator,
      );
      expect(first.schedule).toMatchObject({
        name: 'Bản tin sáng',
        durationS: 600,
        approval: { state: 'not-required', approvedBy: null },
        createdBy: 'lan',
        createdAt: '2026-12-07T00:00:00.000Z',
      });
      const clash = schedules.create(
        relay('Trùng giờ', '2026-12-08T07:05', { targets: { clusterIds: ['c3'] } }),
        operator,
      );
      await expect(clash).rejects.toBeInstanceOf(ConflictError);
      const urgent = await schedules.create(
        relay('Khẩn', '2026-12-08T07:05', { level: 'priority', targets: { clusterIds: ['c3'] } }),
        operator,
      );
      expect(urgent.preempts.map((o) => o.scheduleName)).toEqual(['Bản tin sáng']);

      clock.advance(60_000);
      const moved = await schedules.update(
        first.schedule.id,
        { start: '2026-12-08T08:00', name: 'Bản tin 8 giờ' },
        operator,
      );
      expect(moved.schedule).toMatchObject({ name: 'Bản tin 8 giờ', start: '2026-12-08T08:00:00' });
      expect(Date.parse(moved.schedule.updatedAt)).toBe(clock.now());
      await expect(schedules.update('lich-none', { name: 'x' }, operator)).rejects.toBeInstanceOf(
        NotFoundError,
      );
      // What the dispatcher plays, read at once from this instance's file.
      const due = schedules.occurrencesBetween(Date.UTC(2026, 11, 7, 23), Date.UTC(2026, 11, 8, 2));
      expect(due.map((d) => [d.schedule.name, d.clusterIds])).toEqual([
        ['Khẩn', ['c3']],
        ['Bản tin 8 giờ', ['c3']],
      ]);
      expect((await held('schedules')).map((r) => r.name).sort()).toEqual(['Bản tin 8 giờ', 'Khẩn']);

      const removed = await schedules.delete(urgent.schedule.id);
      expect(removed.name).toBe('Khẩn');
      expect(() => schedules.get(urgent.schedule.id)).toThrow(NotFoundError);
      await expect(schedules.delete(urgent.schedule.id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await held('schedules')).map((r) => r.id)).toEqual([first.schedule.id]);
    });

    it('takes a schedule through approval, refusing steps out of turn, and deletes its steps with it', async () => {
      const { registry, schedules } = await instance(opened.state, opened.places);
      await fleet(registry);
      const { schedule } = await schedules.create(relay('Tuyên truyền', '2026-12-08T07:00'), operator);
      expect(schedule.approval.state).toBe('draft');
      await expect(schedules.approve(schedule.id, approver, null)).rejects.toBeInstanceOf(ConflictError);
      // A draft does not air where its commune requires approval.
      const window = [Date.UTC(2026, 11, 7, 23), Date.UTC(2026, 11, 8, 1)] as const;
      expect(schedules.occurrencesBetween(...window)).toEqual([]);

      expect((await schedules.submit(schedule.id, operator)).approval.state).toBe('submitted');
      clock.advance(1_000);
      expect((await schedules.sendBack(schedule.id, approver, 'Sửa giờ')).approval.state).toBe('returned');
      clock.advance(1_000);
      await schedules.submit(schedule.id, operator);
      const approved = await schedules.approve(schedule.id, approver, 'Đồng ý');
      expect(approved.approval).toEqual({ state: 'approved', approvedBy: 'minh' });
      await expect(schedules.approve(schedule.id, approver, null)).rejects.toBeInstanceOf(ConflictError);
      expect(
        schedules.views([approved])[0]?.approval.steps.map((s) => `${s.step} ${s.by} ${s.comment ?? ''}`),
      ).toEqual(['submitted lan ', 'returned minh Sửa giờ', 'submitted lan ', 'approved minh Đồng ý']);
      expect(schedules.occurrencesBetween(...window).map((d) => d.schedule.approvedBy)).toEqual(['minh']);

      // A change that alters what airs makes it a draft again; enabling or disabling does not.
      expect(
        (await schedules.update(schedule.id, { enabled: false }, operator)).schedule.approval.state,
      ).toBe('approved');
      expect((await schedules.update(schedule.id, { volume: 70 }, operator)).schedule.approval.state).toBe(
        'draft',
      );
      expect(await held('approval_steps')).toHaveLength(4);

      await schedules.delete(schedule.id);
      expect(await held('approval_steps')).toEqual([]);
      expect(opened.places.prepare('SELECT COUNT(*) AS n FROM approval_steps').get()).toEqual({ n: 0 });
    });

    it('keeps groups with their members, refusing clashes, foreign clusters and deleting a group in use', async () => {
      const { registry, schedules } = await instance(opened.state, opened.places);
      await fleet(registry);
      const { groups } = schedules;
      const group = await groups.create({
        id: 'nhom-1',
        communeId: 'huong-dao',
        name: 'Loa trung tâm',
        clusterIds: ['c2', 'c1', 'c1'],
      });
      expect(group).toMatchObject({ communeId: 'huong-dao', clusterIds: ['c1', 'c2'] });
      await expect(
        groups.create({ communeId: 'huong-dao', name: 'Loa trung tâm', clusterIds: ['c1'] }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        groups.create({ id: 'nhom-1', communeId: 'huong-dao', name: 'Khác', clusterIds: ['c1'] }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        groups.create({ communeId: 'huong-dao', name: 'Sang xã khác', clusterIds: ['c3'] }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        groups.create({ communeId: 'nowhere', name: 'Không có', clusterIds: [] }),
      ).rejects.toBeInstanceOf(NotFoundError);

      clock.advance(60_000);
      const changed = await groups.update('nhom-1', { name: 'Ven sông', clusterIds: ['c2'] });
      expect(changed).toMatchObject({ name: 'Ven sông', clusterIds: ['c2'] });
      expect(Date.parse(changed.updatedAt)).toBe(clock.now());
      await expect(groups.update('nhom-none', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);

      const aimed = await schedules.create(
        relay('Cho nhóm', '2026-12-08T07:00', { level: 'emergency', targets: { groupIds: ['nhom-1'] } }),
        operator,
      );
      expect(schedules.resolveTargets(aimed.schedule.targets)).toEqual(['c2']);
      await expect(groups.delete('nhom-1')).rejects.toBeInstanceOf(ConflictError);
      // A cluster leaving the registry leaves its groups, in both engines.
      await registry.deleteCluster('c2');
      expect(groups.get('nhom-1').clusterIds).toEqual([]);
      expect(await held('cluster_group_members')).toEqual([]);

      await schedules.delete(aimed.schedule.id);
      await groups.delete('nhom-1');
      expect(groups.list({}, page).total).toBe(0);
      expect(await held('cluster_groups')).toEqual([]);
    });

    it('keeps schedules, approvals and groups across a restart', async () => {
      const first = await instance(opened.state, opened.places);
      await fleet(first.registry);
      await first.schedules.groups.create({
        id: 'nhom-1',
        communeId: 'huong-dao',
        name: 'Cả thôn',
        clusterIds: ['c1', 'c2'],
      });
      const { schedule } = await first.schedules.create(
        relay('Hằng ngày', '2026-12-08T06:00', { rrule: 'FREQ=DAILY', targets: { groupIds: ['nhom-1'] } }),
        operator,
      );
      await first.schedules.submit(schedule.id, operator);
      for (const s of started.splice(0).reverse()) await s.stop();

      const state = await opened.reopen();
      const again = await instance(state, opened.places);
      expect(again.schedules.get(schedule.id)).toMatchObject({
        rrule: 'FREQ=DAILY',
        approval: { state: 'submitted' },
        targets: { groupIds: ['nhom-1'] },
      });
      expect(again.schedules.groups.get('nhom-1').clusterIds).toEqual(['c1', 'c2']);
      await again.schedules.approve(schedule.id, approver, null);
      const due = again.schedules.occurrencesBetween(Date.UTC(2026, 11, 7, 22), Date.UTC(2026, 11, 9, 0));
      expect(due.map((d) => d.clusterIds)).toEqual([
        ['c1', 'c2'],
        ['c1', 'c2'],
      ]);
    });

    it("sees another instance's changes at once, and tells its listeners of them", async () => {
      const a = await instance(opened.state, opened.places);
      await fleet(a.registry);
      const heard: ScheduleChange[] = [];
      const b = await instance(await opened.second(), otherFile(), heard);
      await vi.waitFor(() => expect(b.registry.findCluster('c2')).not.toBeNull());

      await a.schedules.groups.create({
        id: 'nhom-1',
        communeId: 'huong-dao',
        name: 'Cả thôn',
        clusterIds: ['c1', 'c2'],
      });
      const { schedule } = await a.schedules.create(
        relay('Từ máy A', '2026-12-08T07:00', { targets: { groupIds: ['nhom-1'] } }),
        operator,
      );
      await vi.waitFor(() => expect(b.schedules.get(schedule.id).approval.state).toBe('draft'));
      expect(b.schedules.groups.get('nhom-1').clusterIds).toEqual(['c1', 'c2']);

      // Steps taken on either instance reach the other, with their order.
      await a.schedules.submit(schedule.id, operator);
      await b.schedules.approve(schedule.id, approver, 'Được');
      await vi.waitFor(() => expect(a.schedules.get(schedule.id).approval.state).toBe('approved'));
      expect(a.schedules.views([a.schedules.get(schedule.id)])[0]?.approval.steps.map((s) => s.step)).toEqual(
        ['submitted', 'approved'],
      );
      // The instance holding the dispatcher plays what the other approved.
      const window = [Date.UTC(2026, 11, 7, 23), Date.UTC(2026, 11, 8, 1)] as const;
      expect(a.schedules.occurrencesBetween(...window).map((d) => d.schedule.approvedBy)).toEqual(['minh']);

      // A write on B that needs what A just made finds it, even before A's news arrives.
      const made = await a.schedules.create(
        relay('Ngay sau', '2026-12-08T09:00', { targets: { clusterIds: ['c3'] } }),
        operator,
      );
      await b.schedules.update(made.schedule.id, { name: 'Đổi trên B' }, operator);
      await vi.waitFor(() => expect(a.schedules.get(made.schedule.id).name).toBe('Đổi trên B'));
      // Same-level clash across instances: B sees A's schedule once copied, and refuses it.
      await expect(
        b.schedules.create(relay('Trùng', '2026-12-08T09:05', { targets: { clusterIds: ['c3'] } }), operator),
      ).rejects.toBeInstanceOf(ConflictError);

      await a.schedules.groups.update('nhom-1', { clusterIds: ['c1'] });
      await vi.waitFor(() => expect(b.schedules.groups.get('nhom-1').clusterIds).toEqual(['c1']));
      await a.schedules.delete(schedule.id);
      await vi.waitFor(() => expect(() => b.schedules.get(schedule.id)).toThrow(NotFoundError));
      await b.schedules.groups.delete('nhom-1');
      await vi.waitFor(() => expect(a.schedules.groups.list({}, page).total).toBe(0));

      if (opened.state.engine === 'postgres') {
        await vi.waitFor(() =>
          expect(heard.map((c) => `${c.what} ${c.id} ${c.change}`)).toEqual(
            expect.arrayContaining([
              'group nhom-1 created',
              `schedule ${schedule.id} created`,
              `schedule ${schedule.id} updated`,
              'group nhom-1 updated',
              `schedule ${schedule.id} deleted`,
            ]),
          ),
        );
      }
    });

    it.runIf(engine.name === 'PostgreSQL')(
      'moves the schedules of a SQLite file into an empty PostgreSQL when DATABASE_URL is first set',
      async () => {
        // The platform as it ran before: everything in its SQLite file.
        const before = await instance(sqliteState(opened.places), opened.places);
        await fleet(before.registry);
        await before.schedules.groups.create({
          id: 'nhom-1',
          communeId: 'huong-dao',
          name: 'Cả thôn',
          clusterIds: ['c1'],
        });
        const { schedule } = await before.schedules.create(relay('Cũ', '2026-12-08T07:00'), operator);
        await before.schedules.submit(schedule.id, operator);
        for (const s of started.splice(0).reverse()) await s.stop();
        // A broadcast's review step shares the SQLite table and stays there, out of the copy.
        opened.places
          .prepare(
            "INSERT INTO approval_steps (subject_type, subject_id, step, actor, comment, at) VALUES ('broadcast', 'pb-1', 'reviewed', 'minh', NULL, 1)",
          )
          .run();

        const after = await instance(opened.state, opened.places);
        expect((await held('schedules')).map((r) => r.id)).toEqual([schedule.id]);
        expect((await held('approval_steps')).map((r) => r.step)).toEqual(['submitted']);
        expect((await held('cluster_group_members')).map((r) => r.cluster_id)).toEqual(['c1']);
        expect(after.schedules.get(schedule.id).approval.state).toBe('submitted');
        await after.schedules.approve(schedule.id, approver, null);
        expect(
          opened.places.prepare('SELECT subject_type, step FROM approval_steps ORDER BY id').all(),
        ).toEqual([
          { subject_type: 'broadcast', step: 'reviewed' },
          { subject_type: 'schedule', step: 'submitted' },
          { subject_type: 'schedule', step: 'approved' },
        ]);
        // A new instance starts from PostgreSQL alone.
        const fresh = await instance(await opened.second(), otherFile());
        expect(fresh.schedules.views([fresh.schedules.get(schedule.id)])[0]?.approval.steps).toHaveLength(2);
        expect(fresh.schedules.groups.get('nhom-1').clusterIds).toEqual(['c1']);
      },
    );
  });
});
