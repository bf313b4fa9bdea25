import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type AlarmRecord, AlarmStore } from '../../services/alarms/alarm-store.js';
import { maintenanceSpans } from '../../services/alarms/maintenance-downtime.js';
import { ConflictError, NotFoundError } from '../../services/errors.js';
import { RegistryStore } from '../../services/registry/registry-store.js';
import { WebhookStore } from '../../services/sharing/webhook-store.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import type { StateDatabase } from '../../services/storage/sql/state-database.js';
import { engines, engineTest, type Opened, TEST_COMMUNES } from '../support/state-engines.js';

/*
 * Alarms (rules, outages, maintenance windows) and webhooks (their deliveries and attempts) kept
 * the same way on both engines of the query layer: the platform's SQLite file, and a real
 * PostgreSQL (Debian's package, started here on a loopback port with a database per test) with a
 * read copy in each instance's SQLite file.
 */

const silent = pino({ level: 'silent' });
const page = { limit: 100, offset: 0 };
const T0 = Date.UTC(2026, 11, 7);
const KEY = randomBytes(32);

const alarmOf = (id: string, extra: Partial<AlarmRecord> = {}): AlarmRecord => ({
  id,
  kind: 'overheating',
  severity: 'warning',
  state: 'open',
  deviceId: 'hd-c01',
  deviceKind: 'cluster',
  communeId: 'huong-dao',
  villageId: null,
  detail: '78 °C inside the cabinet',
  incidentId: null,
  held: false,
  openedAt: T0,
  acknowledgedAt: null,
  acknowledgedBy: null,
  note: null,
  clearedAt: null,
  ...extra,
});

describe.each(engines)('alarms and webhooks on $name', (engine) => {
  const run = engine.skip ? describe.skip : describe;
  run(engine.skip ?? 'alarms and webhooks', () => {
    const test = engineTest(engine, { prefix: 'sc-alarms-', now: T0, communes: TEST_COMMUNES });
    const { started, files } = test;
    let dir = '';
    let opened: Opened;
    beforeEach(() => {
      ({ dir, opened } = test);
    });

    /** An instance's stores: with PostgreSQL, the registry's communes are copied first. */
    const instance = async (state: StateDatabase, db: Db, onRules?: (communeId: string) => void) => {
      const registry = new RegistryStore({
        db,
        state,
        now: () => T0,
        defaultTimezone: 'Asia/Ho_Chi_Minh',
        logger: silent,
      });
      started.push(registry);
      await registry.start();
      const alarms = new AlarmStore({
        db,
        state,
        logger: silent,
        ...(onRules ? { onRulesCopied: onRules } : {}),
      });
      started.push(alarms);
      await alarms.start();
      const webhooks = new WebhookStore({
        db,
        state,
        logger: silent,
        key: KEY,
        limits: { maxPending: 3, keepFinished: 2 },
      });
      const heard: string[] = [];
      started.push(webhooks);
      await webhooks.start(() => heard.push('webhooks'));
      return { alarms, webhooks, heard };
    };
    /** Another instance: on PostgreSQL its own SQLite file and pool; on SQLite the same file. */
    const otherInstance = async (): Promise<{ state: StateDatabase; db: Db }> => {
      if (opened.state.engine !== 'postgres') return { state: opened.state, db: opened.places };
      const db = openDatabase(join(dir, `other-${files.length}.sqlite`), silent);
      files.push(db);
      return { state: await opened.second(), db };
    };

    it('raises, acknowledges and clears alarms, groups them into outages, and keeps rules and windows', async () => {
      const { alarms } = await instance(opened.state, opened.places);
      await alarms.insert(alarmOf('al-000000000001'));
      await alarms.insert(alarmOf('al-000000000002', { kind: 'cluster-offline', severity: 'critical' }));
      expect(alarms.active('hd-c01', 'overheating')?.id).toBe('al-000000000001');
      expect(alarms.list({ communeIds: ['huong-dao'] }, page).items.map((a) => a.id)).toEqual([
        'al-000000000002',
        'al-000000000001',
      ]);
      await expect(alarms.insert(alarmOf('al-000000000001'))).rejects.toBeInstanceOf(ConflictError);

      expect(await alarms.acknowledge('al-000000000001', 'to.truong', 'Đang xử lý', T0 + 1_000)).toBe(true);
      // Only an open alarm is acknowledged.
      expect(await alarms.acknowledge('al-000000000001', 'to.truong', 'lần nữa', T0 + 2_000)).toBe(false);
      expect(alarms.get('al-000000000001')).toMatchObject({ state: 'acknowledged', note: 'Đang xử lý' });
      await alarms.clear('al-000000000001', T0 + 3_000, 'back to 40 °C');
      expect(alarms.get('al-000000000001')).toMatchObject({ state: 'cleared', detail: 'back to 40 °C' });
      expect(alarms.allActive().map((a) => a.id)).toEqual(['al-000000000002']);

      const outage = {
        id: 'su-co-0000000001',
        kind: 'village-outage' as const,
        communeId: 'huong-dao',
        villageId: 'v-1',
        openedAt: T0,
        clearedAt: null,
        devices: [{ deviceId: 'hd-c01', deviceKind: 'cluster' as const, back: false }],
      };
      await alarms.putIncident(outage);
      await alarms.attach(['al-000000000002'], outage.id);
      expect(alarms.get('al-000000000002')?.incidentId).toBe(outage.id);
      await alarms.putIncident({
        ...outage,
        clearedAt: T0 + 5_000,
        devices: outage.devices.map((d) => ({ ...d, back: true })),
      });
      expect(alarms.openIncidents()).toEqual([]);
      expect(alarms.incidents({}, page).items[0]?.devices[0]?.back).toBe(true);

      await alarms.setRule(
        'huong-dao',
        { kind: 'overheating', enabled: true, severity: 'critical', threshold: 65, forS: 60, custom: true },
        'admin',
        T0,
      );
      await alarms.setRule(
        'huong-dao',
        { kind: 'overheating', enabled: false, severity: 'warning', threshold: 66.5, forS: 30, custom: true },
        'admin',
        T0 + 1,
      );
      expect(alarms.rules('huong-dao').find((r) => r.kind === 'overheating')).toEqual({
        kind: 'overheating',
        enabled: false,
        severity: 'warning',
        threshold: 66.5,
        forS: 30,
        custom: true,
      });
      await expect(
        alarms.setRule(
          'nowhere',
          { kind: 'overheating', enabled: true, severity: 'info', threshold: 1, forS: 0, custom: true },
          null,
          T0,
        ),
      ).rejects.toBeInstanceOf(ConflictError);

      const window = {
        id: 'bt-0000000001',
        communeId: 'huong-dao',
        villageId: null,
        deviceIds: ['hd-c01'],
        startsAt: T0,
        endsAt: T0 + 3_600_000,
        reason: 'Thay ắc quy',
        createdBy: 'ky.thuat',
        createdAt: T0,
      };
      await alarms.addMaintenance(window);
      await alarms.addMaintenance({
        ...window,
        id: 'bt-0000000002',
        startsAt: T0 + 7_200_000,
        endsAt: T0 + 9_000_000,
      });
      await expect(alarms.addMaintenance(window)).rejects.toBeInstanceOf(ConflictError);
      await expect(
        alarms.addMaintenance({ ...window, id: 'bt-0000000003', communeId: 'nowhere' }),
      ).rejects.toBeInstanceOf(ConflictError);
      // Ending one under way keeps the time it ran; one not started yet is gone.
      expect(await alarms.endMaintenance('bt-0000000001', T0 + 600_000)).toBe(true);
      expect(await alarms.endMaintenance('bt-0000000002', T0 + 600_000)).toBe(true);
      expect(await alarms.endMaintenance('bt-0000000001', T0 + 700_000)).toBe(false);
      expect(maintenanceSpans(opened.places, { from: T0, to: T0 + 86_400_000 }, null).get('hd-c01')).toEqual([
        [T0, T0 + 600_000],
      ]);

      // A restart keeps all of it.
      const restarted = await instance(await opened.reopen(), opened.places);
      expect(restarted.alarms.get('al-000000000001')).toMatchObject({
        state: 'cleared',
        acknowledgedBy: 'to.truong',
      });
      expect(restarted.alarms.rules('huong-dao').find((r) => r.kind === 'overheating')?.threshold).toBe(66.5);
      expect(restarted.alarms.incidents({}, page).total).toBe(1);
      expect(restarted.alarms.maintenance(T0)).toHaveLength(1);
    });

    it('keeps webhooks and a bounded outbox of deliveries with their attempts', async () => {
      const { webhooks } = await instance(opened.state, opened.places);
      const id = await webhooks.create({
        url: 'https://tinh.example.vn/hook',
        events: ['alarm'],
        description: 'Tỉnh',
        provinceId: 'phu-tho',
        createdBy: 'admin',
        secret: 'whsec_one',
        now: T0,
      });
      await expect(
        webhooks.create({
          url: 'https://x.example.vn/hook',
          events: ['alarm'],
          description: null,
          provinceId: 'no-such-province',
          createdBy: null,
          secret: 'whsec_x',
          now: T0,
        }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(webhooks.secretsOf(id, T0)).toEqual(['whsec_one']);
      await webhooks.rotate(id, 'whsec_two', 60_000, T0 + 1_000);
      expect(webhooks.secretsOf(id, T0 + 2_000)).toEqual(['whsec_two', 'whsec_one']);
      expect(webhooks.secretsOf(id, T0 + 70_000)).toEqual(['whsec_two']);

      const first = await webhooks.addDelivery({
        webhookId: id,
        body: '{"n":1}',
        types: ['alarm'],
        eventCount: 1,
        now: T0,
      });
      expect(webhooks.due(T0).map((d) => d.id)).toEqual([first.id]);
      await webhooks.claim(first.id);
      expect(webhooks.due(T0)).toEqual([]);
      await webhooks.recordAttempt(
        first.id,
        { at: T0, status: 503, error: 'Service Unavailable', durationMs: 40 },
        { state: 'pending', nextAttemptAt: T0 + 10_000 },
      );
      expect(webhooks.nextDueAt()).toBe(T0 + 10_000);
      await webhooks.claim(first.id);
      await webhooks.releaseClaims(T0 + 20_000);
      expect(webhooks.nextDueAt()).toBe(T0 + 20_000);
      await webhooks.recordAttempt(
        first.id,
        { at: T0 + 20_000, status: 204, error: null, durationMs: 30 },
        { state: 'delivered' },
      );
      expect(webhooks.deliveries(id, page).items[0]).toMatchObject({
        state: 'delivered',
        attempts: [{ status: 503 }, { status: 204 }],
      });
      expect(webhooks.get(id)).toMatchObject({
        pending: 0,
        lastDelivery: { state: 'delivered', status: 204 },
      });

      // Beyond three waiting, the oldest are dropped; two finished ones are kept.
      let dropped = 0;
      for (let n = 0; n < 5; n++)
        dropped += (
          await webhooks.addDelivery({
            webhookId: id,
            body: '{}',
            types: ['alarm'],
            eventCount: 1,
            now: T0 + 30_000 + n,
          })
        ).dropped;
      expect(dropped).toBe(2);
      const states = webhooks.deliveries(id, page).items.map((d) => d.state);
      expect(states.filter((s) => s === 'pending')).toHaveLength(3);
      expect(states.filter((s) => s !== 'pending')).toEqual(['dropped', 'dropped']);
      expect(webhooks.pendingCount()).toBe(3);

      // A restart keeps them; a deletion takes the outbox with it.
      const restarted = await instance(await opened.reopen(), opened.places);
      expect(restarted.webhooks.pendingCount()).toBe(3);
      expect(restarted.webhooks.secretsOf(id, T0 + 2_000)).toEqual(['whsec_two', 'whsec_one']);
      await restarted.webhooks.delete(id);
      await expect(restarted.webhooks.delete(id)).rejects.toBeInstanceOf(NotFoundError);
      expect(restarted.webhooks.pendingCount()).toBe(0);
      expect(restarted.webhooks.targets()).toEqual([]);
    });

    it('shows another instance what one wrote, at once', async () => {
      const rulesHeard: string[] = [];
      const here = await instance(opened.state, opened.places);
      const other = await otherInstance();
      const there = await instance(other.state, other.db, (communeId) => rulesHeard.push(communeId));

      await here.alarms.insert(alarmOf('al-00000000000a'));
      await vi.waitFor(() => expect(there.alarms.get('al-00000000000a')?.state).toBe('open'));
      // Acknowledged by the instance that served it; the engine's instance sees it.
      expect(await there.alarms.acknowledge('al-00000000000a', 'to.truong', 'Đã biết', T0 + 1)).toBe(true);
      await vi.waitFor(() => expect(here.alarms.get('al-00000000000a')?.state).toBe('acknowledged'));
      await here.alarms.addMaintenance({
        id: 'bt-000000000a',
        communeId: 'hop-thinh',
        villageId: null,
        deviceIds: ['ht-c01'],
        startsAt: T0,
        endsAt: T0 + 60_000,
        reason: 'Bảo trì',
        createdBy: null,
        createdAt: T0,
      });
      await vi.waitFor(() =>
        expect(there.alarms.maintenance(T0).map((w) => w.id)).toEqual(['bt-000000000a']),
      );
      await here.alarms.setRule(
        'hop-thinh',
        { kind: 'low-supply', enabled: true, severity: 'critical', threshold: 10.5, forS: 0, custom: true },
        null,
        T0,
      );
      await vi.waitFor(() =>
        expect(there.alarms.rules('hop-thinh').find((r) => r.kind === 'low-supply')?.threshold).toBe(10.5),
      );
      if (opened.state.engine === 'postgres')
        await vi.waitFor(() => expect(rulesHeard).toEqual(['hop-thinh']));

      const id = await here.webhooks.create({
        url: 'https://tinh.example.vn/hook',
        events: ['alarm'],
        description: null,
        provinceId: null,
        createdBy: null,
        secret: 'whsec_a',
        now: T0,
      });
      await vi.waitFor(() => expect(there.webhooks.targets().map((t) => t.id)).toEqual([id]));
      if (opened.state.engine === 'postgres') expect(there.heard).toContain('webhooks');
      // Recorded where the event arose, sent by the dispatcher's holder.
      const made = await there.webhooks.addDelivery({
        webhookId: id,
        body: '{}',
        types: ['alarm'],
        eventCount: 1,
        now: T0,
      });
      await vi.waitFor(() => expect(here.webhooks.due(T0).map((d) => d.id)).toEqual([made.id]));
      await here.webhooks.claim(made.id);
      await here.webhooks.recordAttempt(
        made.id,
        { at: T0, status: 200, error: null, durationMs: 5 },
        { state: 'delivered' },
      );
      await vi.waitFor(() =>
        expect(there.webhooks.get(id)).toMatchObject({ pending: 0, lastDelivery: { state: 'delivered' } }),
      );
      await there.webhooks.delete(id);
      await vi.waitFor(() => expect(here.webhooks.targets()).toEqual([]));
      expect(here.webhooks.pendingCount()).toBe(0);
    });
  });
});
