import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';

/*
 * Readiness drills against the 18 simulated clusters of Hướng Đạo, on the real broker: each
 * cluster downloads the platform's test audio by its signed link, decodes it and checks its lines;
 * the report says per cluster whether it is ready and why not, and per village how many are.
 */
const HUONG_DAO = Array.from({ length: 18 }, (_, i) => `hd-c${String(i + 1).padStart(2, '0')}`);

describe('readiness drills', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
  });

  const cluster = (report: Json, id: string) => report.clusters.find((c: Json) => c.clusterId === id);
  const village = (report: Json, id: string) => report.villages.find((v: Json) => v.villageId === id);

  /** Lets the clusters' clock run (their line checks take a second) until the drill is finished. */
  async function finished(clock: ManualClock, id: string, stepMs = 500): Promise<Json> {
    let report: Json = null;
    await vi.waitFor(
      async () => {
        clock.advance(stepMs);
        report = (await t.api(`/api/v1/readiness/drills/${id}`, { as: 'technician' })).body;
        expect(report.state).toBe('finished');
      },
      { timeout: 15_000, interval: 50 },
    );
    return report;
  }

  it('runs the weekly drill at its hour and reports a dead speaker line, a failed download and an offline cluster', async () => {
    // Sunday 6 December 2026, 08:59 in Hướng Đạo (UTC+7); the drill is set for Sundays at 09:00.
    const clock = new ManualClock(Date.parse('2026-12-06T08:59:00+07:00'));
    t = await startTestPlatform({ clock, config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20 } });
    fleet = await startFleet(t, HUONG_DAO, { clock, heartbeatIntervalS: 30 });
    await fleet.injectFault('hd-c05', { kind: 'speaker-fault', speaker: 2 });
    await fleet.injectFault('hd-c10', { kind: 'download-fail' });
    await fleet.injectFault('hd-c07', { kind: 'power-cut' });
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c07')).toBe(false));

    const set = await t.api('/api/v1/readiness/schedules/huong-dao', {
      method: 'PATCH',
      as: 'technician',
      body: { enabled: true, weekday: 7, hour: 9, minute: 0 },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({
      enabled: true,
      timezone: 'Asia/Ho_Chi_Minh',
      next: '2026-12-06T02:00:00.000Z',
    });

    for (let i = 0; i < 59; i++) clock.advance(1000);
    expect((await t.api('/api/v1/readiness/drills', { as: 'operator' })).body.total).toBe(0);
    clock.advance(1000);
    let drillId = '';
    await vi.waitFor(async () => {
      const list = await t.api('/api/v1/readiness/drills?communeId=huong-dao', { as: 'operator' });
      expect(list.body.total).toBe(1);
      drillId = list.body.items[0].id;
    });
    const report = await finished(clock, drillId);

    expect(report).toMatchObject({
      origin: 'schedule',
      tone: false,
      communeIds: ['huong-dao'],
      startedAt: '2026-12-06T02:00:00.000Z',
      summary: { clusters: 18, ready: 15, notReady: 2, notTested: 1, testing: 0 },
    });
    expect(cluster(report, 'hd-c05')).toMatchObject({
      outcome: 'not-ready',
      reasons: ['speaker 2: open-circuit'],
      checks: {
        download: { ok: true },
        decode: { ok: true },
        amplifier: { ok: true },
        speakers: [
          { idx: 1, ok: true },
          { idx: 2, ok: false, fault: 'open-circuit' },
        ],
      },
    });
    expect(village(report, 'hd-thon-04')).toMatchObject({ clusters: 2, ready: 1, notReady: 1, notTested: 0 });
    expect(cluster(report, 'hd-c10').outcome).toBe('not-ready');
    expect(cluster(report, 'hd-c10').reasons[0]).toMatch(/^download: fetch-failed/);
    expect(village(report, 'hd-thon-08')).toMatchObject({ clusters: 2, ready: 1, notReady: 1 });
    expect(cluster(report, 'hd-c07')).toMatchObject({
      outcome: 'not-tested',
      reasons: ['offline'],
      checks: null,
    });
    expect(village(report, 'hd-thon-05')).toMatchObject({ clusters: 1, ready: 0, notTested: 1 });
    expect(village(report, 'hd-thon-01')).toMatchObject({ clusters: 2, ready: 2 });
    expect(cluster(report, 'hd-c01')).toMatchObject({ outcome: 'ready', reasons: [] });

    const after = await t.api('/api/v1/readiness/schedules/huong-dao', { as: 'viewer' });
    expect(after.body).toMatchObject({ lastDrillId: drillId, next: '2026-12-13T02:00:00.000Z' });
  });

  it('drills on demand with a test tone, and counts a cluster that never answers as not tested', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T10:00:00+07:00'));
    t = await startTestPlatform({ clock, config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20 } });
    fleet = await startFleet(t, ['hd-c01', 'hd-c02', 'hd-c03'], { clock, heartbeatIntervalS: 30 });
    await fleet.injectFault('hd-c02', { kind: 'no-acks' });
    await fleet.injectFault('hd-c03', { kind: 'playback-fail', afterMs: 2000 });

    const made = await t.api('/api/v1/readiness/drills', {
      method: 'POST',
      as: 'operator',
      body: { targets: { villageIds: ['hd-thon-01', 'hd-thon-02'] }, tone: true },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({
      origin: 'manual',
      tone: true,
      state: 'running',
      createdBy: 'operator-all',
    });
    const report = await finished(clock, made.body.id, 5000);

    expect(cluster(report, 'hd-c01')).toMatchObject({ outcome: 'ready', checks: { tone: true } });
    expect(cluster(report, 'hd-c02')).toMatchObject({
      outcome: 'not-tested',
      reasons: ['no answer within 120 s'],
    });
    expect(cluster(report, 'hd-c03')).toMatchObject({
      outcome: 'not-ready',
      reasons: ['amplifier: amplifier'],
    });
    expect(report.summary).toMatchObject({ clusters: 3, ready: 1, notReady: 1, notTested: 1 });
    expect(new Date(report.finishedAt).getTime()).toBe(new Date(report.deadlineAt).getTime());

    // The test audio is served to a signed link only (clusters) or to a signed-in session.
    expect((await t.api('/api/v1/readiness/test-audio.wav', { as: 'anonymous' })).status).toBe(401);
    expect(
      (await t.api('/api/v1/readiness/test-audio.wav?exp=9999999999999&sig=forged', { as: 'anonymous' }))
        .status,
    ).toBe(401);
  });
});
