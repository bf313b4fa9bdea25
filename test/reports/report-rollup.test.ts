import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryState, Level } from '../../contracts/broadcasts.js';
import type { SummaryReport } from '../../contracts/reports.js';
import type { BroadcastRecord } from '../../services/broadcasts/broadcast-store.js';
import { dayAt, wholeDays } from '../../services/reports/report-days.js';
import { DATABASE_FILE } from '../../services/storage/backup.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const ZONE = 'Asia/Ho_Chi_Minh';
const HOUR = 3_600_000;
/** December 2026 in Vietnam (UTC+7). */
const FROM = Date.parse('2026-12-01T00:00:00+07:00');
const TO = Date.parse('2027-01-01T00:00:00+07:00');
const at = (local: string) => Date.parse(`${local}+07:00`);

interface Sent {
  clusterId: string;
  state: DeliveryState;
  reason?: string;
  /** Seconds it played, with a reported start. */
  playedS?: number;
  speakerFault?: boolean;
}

let serial = 0;

/** Writes a broadcast and its final deliveries into the log, as the dispatcher leaves them. */
function logBroadcast(
  t: TestPlatform,
  startAt: number,
  level: Level,
  sent: Sent[],
  options: { bulletinId?: string; durationMs?: number } = {},
): string {
  const { store } = t.platform.broadcasts;
  const id = `b-${++serial}`;
  const record: BroadcastRecord = {
    id,
    kind: 'scheduled',
    scheduleId: null,
    occurrenceAt: null,
    name: `Bản tin ${serial}`,
    level,
    content: { kind: 'stream', url: 'http://radio.example/x' },
    volume: null,
    repeat: 1,
    startAt,
    endAt: startAt + (options.durationMs ?? 600_000),
    expiresAt: startAt + 60_000,
    status: 'finished',
    createdBy: 'test',
    createdAt: startAt,
    stoppedAt: null,
    stoppedBy: null,
    recordingMediaId: null,
    approvedBy: null,
    reviewState: null,
    reviewedBy: null,
    bulletinId: options.bulletinId ?? null,
  };
  store.insert(
    record,
    sent.map((d, i) => ({
      clusterId: d.clusterId,
      commandId: `${id}-${i}`,
      state: d.state,
      reason: d.reason ?? null,
    })),
  );
  sent.forEach((d, i) => {
    if (d.playedS === undefined) return;
    store.update(
      { broadcastId: id, clusterId: d.clusterId, commandId: `${id}-${i}` },
      {
        startedAt: startAt + 5_000,
        finishedAt: startAt + 5_000 + d.playedS * 1000,
        speakers: [
          { idx: 1, ok: true, fault: null },
          { idx: 2, ok: !d.speakerFault, fault: d.speakerFault ? 'open-circuit' : null },
        ],
        updatedAt: startAt,
      },
    );
  });
  return id;
}

/** A month of log over two communes: levels, origins, outcomes, reasons, plays and speaker faults. */
function writeMonth(t: TestPlatform): void {
  const a = ['a-c1', 'a-c2', 'a-c3'];
  const b = ['b-c1', 'b-c2'];
  // Started the evening before the month and still on air after midnight: in the month, from the log.
  logBroadcast(
    t,
    at('2026-11-30T23:50:00'),
    'normal',
    [{ clusterId: 'a-c1', state: 'done', playedS: 1500 }],
    {
      durationMs: 1_800_000,
    },
  );
  for (let day = 1; day <= 9; day++) {
    const d = String(day).padStart(2, '0');
    logBroadcast(t, at(`2026-12-${d}T07:00:00`), 'normal', [
      { clusterId: 'a-c1', state: 'done', playedS: 60 + day },
      {
        clusterId: 'a-c2',
        state: day % 3 === 0 ? 'missed' : 'done',
        reason: day % 3 === 0 ? 'offline' : undefined,
      },
      { clusterId: 'a-c3', state: 'done', playedS: 30, speakerFault: day % 2 === 0 },
    ]);
    logBroadcast(t, at(`2026-12-${d}T17:30:00`), 'priority', [
      {
        clusterId: 'b-c1',
        state: day === 4 ? 'failed' : 'done',
        reason: day === 4 ? 'fetch-failed' : undefined,
      },
      { clusterId: 'b-c2', state: 'expired', reason: 'expired' },
    ]);
    // One broadcast to both communes (counted once in the province), at the end of the day.
    if (day % 2 === 1)
      logBroadcast(
        t,
        at(`2026-12-${d}T23:55:00`),
        'emergency',
        [
          ...a.map((clusterId) => ({ clusterId, state: 'done' as const, playedS: 20 })),
          ...b.map((clusterId) => ({ clusterId, state: 'pre-empted' as const, reason: 'busy' })),
        ],
        { durationMs: 900_000 },
      );
  }
  // A bulletin of the province, aired in each commune as a broadcast of its own.
  for (const [i, clusters] of [a, b].entries())
    logBroadcast(
      t,
      at('2026-12-05T09:00:00') + i * 1000,
      'normal',
      clusters.map((clusterId) => ({ clusterId, state: 'done' as const, playedS: 45 })),
      { bulletinId: 'tin-tinh-1' },
    );
  // Today's, still the log's.
  logBroadcast(t, at('2026-12-10T07:00:00'), 'normal', [{ clusterId: 'a-c1', state: 'done', playedS: 10 }]);
}

async function seedRegistry(t: TestPlatform): Promise<void> {
  const { registry } = t.platform;
  for (const [communeId, clusters] of [
    ['xa-a', ['a-c1', 'a-c2', 'a-c3']],
    ['xa-b', ['b-c1', 'b-c2']],
  ] as const) {
    await registry.createCommune({ id: communeId, name: `Xã ${communeId}`, provinceId: 'phu-tho' });
    await registry.createVillage({ id: `${communeId}-t1`, communeId, name: 'Thôn 1' });
    await registry.createVillage({ id: `${communeId}-t2`, communeId, name: 'Thôn 2' });
    for (const id of clusters)
      await registry.createCluster({
        id,
        villageId: `${communeId}-t1`,
        name: id,
        location: { lat: 21.3, lon: 105.5 },
      });
  }
}

/** The platform's SQLite file, opened beside it (WAL lets both read and write). */
function storageDb(t: TestPlatform): Database.Database {
  const db = new Database(join(t.dataDir, DATABASE_FILE));
  opened.push(db);
  return db;
}
const opened: Database.Database[] = [];

/** The day marks of the rollup, by local date. */
function rolledDays(t: TestPlatform): string[] {
  return (
    storageDb(t).prepare('SELECT day_start FROM report_days ORDER BY day_start').pluck().all() as number[]
  ).map((ms) => new Date(ms + 7 * HOUR).toISOString().slice(0, 10));
}

describe('the daily rollup of the summary report', () => {
  let t: TestPlatform | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    for (const db of opened.splice(0)) db.close();
    await t?.close();
    t = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  let asked = 0;
  /** The province's December report; every call a new page size, so none comes from the report cache. */
  const report = async (platform: TestPlatform, query = '&provinceId=phu-tho'): Promise<SummaryReport> => {
    const answer = await platform.api(
      `/api/v1/reports/summary?from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}${query}&limit=${100 + ++asked}`,
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as SummaryReport;
  };
  /** What a report says, less when it was made and the page asked for. */
  const figures = (r: SummaryReport) => ({
    total: r.total,
    communes: r.communes,
    failures: r.failures,
    broadcasts: r.broadcasts.total,
  });
  /** The same report read from the log alone: every day's mark dropped first. */
  const fromLogAlone = async (platform: TestPlatform, query?: string) => {
    storageDb(platform).prepare('DELETE FROM report_days').run();
    const r = await report(platform, query);
    await platform.platform.reports.rollup.catchUp();
    return r;
  };

  it('adds up to the log with days rolled up, days not yet rolled up, after a late correction, a move and a restart', async () => {
    const clock = new ManualClock(at('2026-12-10T12:00:00'));
    dataDir = mkdtempSync(join(tmpdir(), 'sc-rollup-'));
    t = await startTestPlatform({ clock, dataDir });
    await seedRegistry(t);
    const { rollup } = t.platform.reports;
    // At start the past days of the window were rolled up, empty.
    await rollup.catchUp();
    expect(rolledDays(t)).toContain('2026-12-09');
    writeMonth(t);
    // Writing the log dropped the marks of the days it wrote, and only those.
    expect(rolledDays(t)).not.toContain('2026-12-03');
    expect(rolledDays(t)).toContain('2026-11-20');

    // Days not rolled up yet: read from the log.
    const raw = await fromLogAlone(t);
    expect(raw.total.bulletins.total).toBe(1 + 9 * 2 + 5 + 2 + 1);
    expect(raw.total.deliveries).toMatchObject({ targeted: 1 + 9 * 5 + 5 * 5 + 5 + 1 });
    expect(raw.failures.map((f) => [f.state, f.reason, f.count])).toEqual([
      ['expired', 'expired', 9],
      ['missed', 'offline', 3],
      ['failed', 'fetch-failed', 1],
    ]);
    expect(raw.communes.find((c) => c.id === 'xa-a')?.faults.speakerFaultDeliveries).toBe(4);

    // Every day of December before today rolled up; today and the evening before the month from the log.
    await rollup.catchUp();
    for (const day of wholeDays(FROM, at('2026-12-10T00:00:00'), ZONE))
      expect(rolledDays(t)).toContain(new Date(day.start + 7 * HOUR).toISOString().slice(0, 10));
    expect(rollup.plan({ from: FROM, to: TO }).raw).toEqual([
      { from: Number.MIN_SAFE_INTEGER, to: FROM },
      { from: at('2026-12-10T00:00:00'), to: TO },
    ]);
    expect(figures(await report(t))).toEqual(figures(raw));
    // A commune's report and a report with no filter, likewise.
    for (const query of ['&communeId=xa-b', ''])
      expect(figures(await report(t, query))).toEqual(figures(await fromLogAlone(t, query)));

    // A late report corrects a delivery of 3 December: that day is read from the log again.
    const late = storageDb(t)
      .prepare(
        "SELECT d.broadcast_id AS broadcastId, d.cluster_id AS clusterId, d.command_id AS commandId FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id WHERE d.state = 'missed' ORDER BY b.start_at LIMIT 1",
      )
      .get() as { broadcastId: string; clusterId: string; commandId: string };
    t.platform.broadcasts.store.update(late, {
      state: 'done',
      reason: 'reported late',
      startedAt: at('2026-12-03T07:00:05'),
      finishedAt: at('2026-12-03T07:01:00'),
      updatedAt: clock.now(),
    });
    expect(rolledDays(t)).not.toContain('2026-12-03');
    const corrected = await report(t);
    expect(corrected.total.deliveries.byState.missed).toBe(2);
    expect(figures(corrected)).toEqual(figures(await fromLogAlone(t)));

    // A cluster placed in the other commune: every day is read afresh.
    await t.platform.registry.updateCluster('a-c3', { villageId: 'xa-b-t2' });
    expect(rolledDays(t)).toEqual([]);
    const moved = await report(t);
    expect(moved.communes.find((c) => c.id === 'xa-b')?.faults.speakerFaultDeliveries).toBe(4);
    expect(figures(moved)).toEqual(figures(await fromLogAlone(t)));
    // A cluster moved within its commune changes nothing.
    await rollup.catchUp();
    const before = rolledDays(t);
    await t.platform.registry.updateCluster('a-c1', { villageId: 'xa-a-t2' });
    expect(rolledDays(t)).toEqual(before);

    // Across a restart: the rollup is where it was, and still adds up.
    const rolled = await report(t);
    await t.platform.stop();
    t = await startTestPlatform({ clock, dataDir });
    expect(rolledDays(t)).toEqual(before);
    expect(figures(await report(t))).toEqual(figures(rolled));
    expect(figures(rolled)).toEqual(figures(await fromLogAlone(t)));
  }, 60_000);

  it('builds a day only once it is over and its broadcasts are final', async () => {
    const clock = new ManualClock(at('2026-12-10T12:00:00'));
    t = await startTestPlatform({ clock });
    await seedRegistry(t);
    const { rollup } = t.platform.reports;
    await rollup.catchUp();
    const { store } = t.platform.broadcasts;
    const id = logBroadcast(t, at('2026-12-09T23:30:00'), 'normal', [{ clusterId: 'a-c1', state: 'done' }]);
    store.setStatus(id, 'active');
    const yesterday = dayAt(at('2026-12-09T12:00:00'), ZONE);
    expect(rollup.build(yesterday)).toBe(false);
    expect(rollup.build(dayAt(clock.now(), ZONE))).toBe(false);
    store.setStatus(id, 'finished');
    expect(rollup.build(yesterday)).toBe(true);
    expect(rolledDays(t)).toContain('2026-12-09');
  });
});
