import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BROADCAST_LOG_TABLES } from '../../services/broadcasts/broadcast-log.js';
import { COMMAND_LOG_TABLES } from '../../services/commands/command-store.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { type CopiedChange, exposeShippedLog, ShippedLog } from '../../services/storage/sql/shipped-log.js';
import { postgresState, type StateDatabase, sqliteState } from '../../services/storage/sql/state-database.js';
import { PostgresServer, postgresSkipReason } from '../support/postgres.js';

/*
 * The broadcast log shipped to a real PostgreSQL by instances that each write their own SQLite
 * file (services/storage/sql/shipped-log.ts): what one writes reaches the others, column by column;
 * a change left unshipped by a crash and shipped late never undoes a newer one; a new instance copies
 * everything; a value PostgreSQL refuses is dropped without stopping the log.
 */
const skip = postgresSkipReason();
const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 11, 7, 1, 0, 0);

interface Instance {
  db: Db;
  state: StateDatabase;
  log: ShippedLog;
  heard: CopiedChange[];
}

describe('the broadcast log on SQLite alone', () => {
  it('ships nothing and writes no outbox: the file is the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-shipped-'));
    const db = openDatabase(join(dir, 'smart-commune.sqlite'), silent);
    const log = new ShippedLog(db, sqliteState(db), silent, 'broadcast_log', BROADCAST_LOG_TABLES);
    await log.start(() => undefined);
    insertBroadcast(db, 'b-1');
    expect(log.unshipped).toBe(0);
    await log.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe.skipIf(skip !== null)(
  `the broadcast log shipped to PostgreSQL${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let server: PostgresServer;
    let url = '';
    const dirs: string[] = [];
    const instances: Instance[] = [];

    beforeAll(async () => {
      server = await PostgresServer.create();
    }, 60_000);
    afterAll(async () => {
      await server?.cleanup();
    });
    afterEach(async () => {
      for (const i of instances.splice(0).reverse()) await close(i);
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    const open = async (dir?: string): Promise<Instance> => {
      const at = dir ?? mkdtempSync(join(tmpdir(), 'sc-shipped-'));
      if (!dir) dirs.push(at);
      const db = openDatabase(join(at, 'smart-commune.sqlite'), silent);
      const state = await postgresState({ url, logger: silent, poolMax: 3 });
      const log = new ShippedLog(db, state, silent, 'broadcast_log', BROADCAST_LOG_TABLES);
      const instance: Instance = { db, state, log, heard: [] };
      await log.start((changes) => instance.heard.push(...changes));
      instances.push(instance);
      return instance;
    };
    const close = async (i: Instance) => {
      await i.log.stop();
      await i.state.close();
      if (i.db.open) i.db.close();
    };
    const dirOf = (i: Instance) => i.db.name.replace(/\/smart-commune\.sqlite$/, '');
    const row = (i: Instance, sql: string, ...params: unknown[]) => i.db.prepare(sql).get(...params);
    const inPostgres = async (text: string) => server.query(text, [], url.split('/').at(-1));

    it('ships what each instance writes, and both changes to one row land', async () => {
      url = await server.createDatabase();
      const a = await open();
      const b = await open();
      insertBroadcast(a.db, 'b-1');
      insertDelivery(a.db, 'b-1', 'hd-c01', T0);
      insertDelivery(a.db, 'b-1', 'hd-c02', T0);
      await vi.waitFor(() => expect(row(b, 'SELECT COUNT(*) AS n FROM deliveries')).toEqual({ n: 2 }));
      expect(row(b, 'SELECT name, status FROM broadcasts')).toEqual({
        name: 'Cảnh báo lũ',
        status: 'active',
      });
      expect(b.heard.map((c) => `${c.table} ${c.op}`)).toEqual([
        'broadcasts insert',
        'deliveries insert',
        'deliveries insert',
      ]);

      // A (the engine) finishes it while B reviews it, each before hearing of the other.
      a.db.transaction(() => {
        a.db
          .prepare("UPDATE deliveries SET state = 'done', updated_at = ? WHERE cluster_id = 'hd-c01'")
          .run(T0 + 5);
        a.db.prepare("UPDATE broadcasts SET status = 'finished' WHERE id = 'b-1'").run();
      })();
      b.db
        .prepare("UPDATE broadcasts SET review_state = 'reviewed', reviewed_by = 'lan' WHERE id = 'b-1'")
        .run();
      for (const i of [a, b])
        await vi.waitFor(() =>
          expect(row(i, "SELECT status, review_state, reviewed_by FROM broadcasts WHERE id = 'b-1'")).toEqual(
            {
              status: 'finished',
              review_state: 'reviewed',
              reviewed_by: 'lan',
            },
          ),
        );
      await vi.waitFor(() =>
        expect(row(b, "SELECT state FROM deliveries WHERE cluster_id = 'hd-c01'")).toEqual({ state: 'done' }),
      );
      expect(await inPostgres("SELECT status, review_state FROM broadcasts WHERE id = 'b-1'")).toEqual([
        { status: 'finished', review_state: 'reviewed' },
      ]);
      expect(a.log.unshipped + b.log.unshipped).toBe(0);
    });

    it('never lets a change a crash left unshipped undo what another instance recorded since', async () => {
      url = await server.createDatabase();
      const a = await open();
      const b = await open();
      insertBroadcast(a.db, 'b-2');
      insertDelivery(a.db, 'b-2', 'hd-c01', T0);
      insertDelivery(a.db, 'b-2', 'hd-c02', T0);
      await vi.waitFor(() => expect(row(b, 'SELECT COUNT(*) AS n FROM deliveries')).toEqual({ n: 2 }));
      // A dies with its last change still in its outbox (written, not shipped).
      const dirA = dirOf(a);
      instances.splice(instances.indexOf(a), 1);
      await close(a);
      const left = openDatabase(join(dirA, 'smart-commune.sqlite'), silent);
      left
        .prepare(
          "UPDATE deliveries SET state = 'sent', attempts = 1, updated_at = ? WHERE broadcast_id = 'b-2'",
        )
        .run(T0 + 1_000);
      // Both deliveries' changes, shipped together: the one B has since passed is refused alone.
      for (const cluster of ['hd-c01', 'hd-c02'])
        left
          .prepare(
            `INSERT INTO log_outbox (tbl, op, key, cols) VALUES ('deliveries', 'update', json_array('b-2', ?),
            json_object('state', 'sent', 'attempts', 1, 'updated_at', ?))`,
          )
          .run(cluster, T0 + 1_000);
      left
        .prepare(
          `INSERT INTO log_outbox (tbl, op, key, cols) VALUES ('broadcasts', 'update', json_array('b-2'),
          json_object('status', 'stopped', 'stopped_by', 'an'))`,
        )
        .run();
      left.close();
      // B takes over: asks again, hears the cluster finished, and the broadcast ends.
      b.db
        .prepare(
          "UPDATE deliveries SET state = 'done', attempts = 2, updated_at = ? WHERE broadcast_id = 'b-2' AND cluster_id = 'hd-c01'",
        )
        .run(T0 + 2_000);
      b.db.prepare("UPDATE broadcasts SET status = 'finished' WHERE id = 'b-2'").run();
      await vi.waitFor(async () =>
        expect(
          await inPostgres(
            "SELECT state FROM deliveries WHERE broadcast_id = 'b-2' AND cluster_id = 'hd-c01'",
          ),
        ).toEqual([{ state: 'done' }]),
      );

      // A starts again: its late change is shipped, refused by the newer record, and A copies B's.
      const again = await open(dirA);
      expect(again.log.unshipped).toBe(0);
      const states = [
        { cluster_id: 'hd-c01', state: 'done', attempts: 2 },
        { cluster_id: 'hd-c02', state: 'sent', attempts: 1 },
      ];
      const ofB2 =
        "SELECT cluster_id, state, attempts FROM deliveries WHERE broadcast_id = 'b-2' ORDER BY cluster_id";
      await vi.waitFor(() => expect(again.db.prepare(ofB2).all()).toEqual(states));
      expect(await inPostgres(ofB2)).toEqual(states);
      await vi.waitFor(() => expect(b.db.prepare(ofB2).all()).toEqual(states));
      // Nor does a stop it had not shipped reopen or restate a broadcast finished since.
      expect(await inPostgres("SELECT status, stopped_by FROM broadcasts WHERE id = 'b-2'")).toEqual([
        { status: 'finished', stopped_by: null },
      ]);
      await vi.waitFor(() =>
        expect(row(again, "SELECT status FROM broadcasts WHERE id = 'b-2'")).toEqual({ status: 'finished' }),
      );
    });

    it('gives a new instance the whole log, and drops only what PostgreSQL refuses', async () => {
      url = await server.createDatabase();
      const a = await open();
      insertBroadcast(a.db, 'b-3');
      for (let i = 1; i <= 1_200; i++) insertDelivery(a.db, 'b-3', `c-${String(i).padStart(4, '0')}`, T0);
      a.db
        .prepare(
          "INSERT INTO approval_steps (subject_type, subject_id, step, actor, comment, at) VALUES ('broadcast', 'b-3', 'reviewed', 'lan', 'ổn', ?)",
        )
        .run(T0 + 9);
      // A value SQLite keeps and PostgreSQL's BIGINT refuses, then a change after it.
      a.db.prepare("UPDATE deliveries SET sent_at = 'soon' WHERE cluster_id = 'c-0001'").run();
      a.db
        .prepare("UPDATE deliveries SET state = 'failed', updated_at = ? WHERE cluster_id = 'c-0002'")
        .run(T0 + 3);
      await vi.waitFor(() => expect(a.log.unshipped).toBe(0), { timeout: 15_000 });
      expect(a.log.refused).toBe(1);

      const fresh = await open();
      expect(row(fresh, 'SELECT COUNT(*) AS n FROM deliveries')).toEqual({ n: 1_200 });
      expect(row(fresh, "SELECT state FROM deliveries WHERE cluster_id = 'c-0002'")).toEqual({
        state: 'failed',
      });
      expect(row(fresh, "SELECT actor, comment FROM approval_steps WHERE subject_id = 'b-3'")).toEqual({
        actor: 'lan',
        comment: 'ổn',
      });
    });

    it("ships each log's changes, however the logs of one file share its outbox", async () => {
      url = await server.createDatabase();
      const commandsOf = async (i: Instance) => {
        const log = new ShippedLog(i.db, i.state, silent, 'device_commands_log', COMMAND_LOG_TABLES);
        await log.start(() => undefined);
        instances.push({ ...i, log });
        return log;
      };
      const b = await open();
      await commandsOf(b);
      // A's file holds a command a crash left unshipped; its broadcast log starts (and ships) first,
      // as the broadcasts feature would after a restart, then its command log.
      const dirA = mkdtempSync(join(tmpdir(), 'sc-shipped-'));
      dirs.push(dirA);
      const left = openDatabase(join(dirA, 'smart-commune.sqlite'), silent);
      left
        .prepare(
          `INSERT INTO device_commands (id, device_id, type, payload, issued_at, expires_at, status, updated_at)
           VALUES ('cmd-1', 'hd-c01', 'volume', '{}', ?, ?, 'sent', ?)`,
        )
        .run(T0, T0 + 60_000, T0);
      left
        .prepare(
          `INSERT INTO log_outbox (tbl, op, key, cols) VALUES ('device_commands', 'insert', json_array('cmd-1'),
           (SELECT json_object('id', id, 'device_id', device_id, 'type', type, 'payload', payload, 'issued_at',
             issued_at, 'expires_at', expires_at, 'status', status, 'error', error, 'updated_at', updated_at)
            FROM device_commands WHERE id = 'cmd-1'))`,
        )
        .run();
      left.close();
      const a = await open(dirA);
      insertBroadcast(a.db, 'b-5');
      await vi.waitFor(() =>
        expect(row(b, "SELECT id FROM broadcasts WHERE id = 'b-5'")).toEqual({ id: 'b-5' }),
      );
      const commandsA = await commandsOf(a);
      await vi.waitFor(() =>
        expect(row(b, "SELECT status FROM device_commands WHERE id = 'cmd-1'")).toEqual({ status: 'sent' }),
      );
      expect(a.log.unshipped + commandsA.unshipped).toBe(0);
    });

    it('fills a new PostgreSQL once from the file of a commune PC moving to it, and only once', async () => {
      url = await server.createDatabase();
      // The commune's log, written on SQLite alone before DATABASE_URL was set.
      const dir = mkdtempSync(join(tmpdir(), 'sc-shipped-'));
      dirs.push(dir);
      const before = openDatabase(join(dir, 'smart-commune.sqlite'), silent);
      insertBroadcast(before, 'b-old');
      insertDelivery(before, 'b-old', 'hd-c01', T0);
      before.close();
      const pc = await open(dir);
      expect(await inPostgres("SELECT id FROM broadcasts WHERE id = 'b-old'")).toEqual([{ id: 'b-old' }]);
      const other = await open();
      expect(row(other, "SELECT state FROM deliveries WHERE broadcast_id = 'b-old'")).toEqual({
        state: 'scheduled',
      });
      // Deleted since: an instance starting later with an old copy of the file does not bring it back.
      pc.db.prepare("DELETE FROM broadcasts WHERE id = 'b-old'").run();
      await vi.waitFor(async () => expect(await inPostgres('SELECT id FROM broadcasts')).toEqual([]));
      const oldCopy = mkdtempSync(join(tmpdir(), 'sc-shipped-'));
      dirs.push(oldCopy);
      const stale = openDatabase(join(oldCopy, 'smart-commune.sqlite'), silent);
      insertBroadcast(stale, 'b-old');
      stale.close();
      const late = await open(oldCopy);
      expect(row(late, 'SELECT COUNT(*) AS n FROM broadcasts')).toEqual({ n: 0 });
      expect(await inPostgres('SELECT id FROM broadcasts')).toEqual([]);
    });

    it('keeps what is written while PostgreSQL is down and ships it when it is back', async () => {
      url = await server.createDatabase();
      const a = await open();
      const b = await open();
      // What an operator sees: the backlog, and the failed attempts among the errors kept running.
      const metrics = new Registry();
      const kept = new Map<string, () => number>();
      exposeShippedLog(metrics, (kind, count) => kept.set(kind, count), a.log);
      const backlog = async () =>
        (await metrics.getSingleMetric('sc_log_unshipped')?.get())?.values.find(
          (v) => v.labels.log === 'broadcast_log',
        )?.value;
      await server.stop();
      try {
        insertBroadcast(a.db, 'b-4');
        insertDelivery(a.db, 'b-4', 'hd-c01', T0);
        await vi.waitFor(() => expect(kept.get('broadcast_log-ship')?.()).toBeGreaterThan(0), {
          timeout: 10_000,
        });
        expect(a.log.unshipped).toBe(2);
        expect(await backlog()).toBe(2);
      } finally {
        await server.start();
      }
      await vi.waitFor(
        () =>
          expect(row(b, "SELECT COUNT(*) AS n FROM deliveries WHERE broadcast_id = 'b-4'")).toEqual({ n: 1 }),
        {
          timeout: 20_000,
        },
      );
      expect(a.log.unshipped).toBe(0);
      expect(await backlog()).toBe(0);
      expect(kept.get('broadcast_log-refused')?.()).toBe(0);
    }, 40_000);
  },
);

function insertBroadcast(db: Db, id: string): void {
  db.prepare(
    `INSERT INTO broadcasts (id, kind, name, level, content, repeat, start_at, end_at, expires_at, status, created_at,
       review_state)
     VALUES (?, 'emergency', 'Cảnh báo lũ', 'emergency', '{"kind":"media","mediaId":"m-1"}', 1, ?, ?, ?, 'active', ?, 'pending')`,
  ).run(id, T0, T0 + 60_000, T0 + 3_600_000, T0);
}

function insertDelivery(db: Db, broadcastId: string, clusterId: string, at: number): void {
  db.prepare(
    `INSERT INTO deliveries (broadcast_id, cluster_id, command_id, state, next_attempt_at, updated_at)
     VALUES (?, ?, ?, 'scheduled', ?, ?)`,
  ).run(broadcastId, clusterId, `${broadcastId}-${clusterId}`, at, at);
}
