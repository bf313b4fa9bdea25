import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import type { PlayLog } from '../../simulators/speaker-cluster/play-log.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';

const BULLETIN =
  'UBND xã Hướng Đạo thông báo: ngày 8/12/2026 lúc 8h00, họp dân tại nhà văn hoá thôn. ' +
  'Liên hệ 0912 345 678.';

/**
 * Moves the manual clock ten seconds at a time to `at`, letting sockets run between steps so the
 * clusters' heartbeats keep them online.
 */
async function advanceTo(clock: ManualClock, at: string): Promise<void> {
  const target = Date.parse(at);
  while (clock.now() < target) {
    clock.advance(Math.min(10_000, target - clock.now()));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Moves the manual clock a second at a time until the check passes (timers fire as they fall due). */
async function runUntil(clock: ManualClock, check: () => unknown, timeout = 30_000): Promise<void> {
  await vi.waitFor(
    () => {
      clock.advance(1_000);
      return check();
    },
    { timeout, interval: 10 },
  );
}

/*
 * Duyệt nội dung in Hướng Đạo: the commune office types a bulletin, hears it read aloud, sends it
 * to the leadership; nothing airs until an approver approves it; then all 18 clusters play it and
 * the broadcast log names the approver. Counted on the simulated clusters, not the platform.
 */
describe('a text bulletin read aloud and approved before it airs', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it('is synthesized, previewed, approved by an approver and played by the 18 clusters; an operator alone cannot air it', async () => {
    // 07:50 in Hướng Đạo (UTC+7) on 7 December 2026.
    const clock = new ManualClock(Date.parse('2026-12-07T07:50:00+07:00'));
    t = await startTestPlatform({
      clock,
      config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20, DISPATCH_LEAD_S: 60 },
    });
    const clusterIds = t.platform.registry
      .listClusters({ communeId: 'huong-dao' }, { limit: 100, offset: 0 })
      .items.map((c) => c.id);
    expect(clusterIds).toHaveLength(18);
    const plays: PlayLog[] = [];
    fleet = await startFleet(t, clusterIds, { clock, plays, heartbeatIntervalS: 60 });

    const required = await t.api('/api/v1/communes/huong-dao', {
      method: 'PATCH',
      body: { approvalRequired: true },
    });
    expect(required.body.approvalRequired).toBe(true);

    // The operator hears it first.
    const preview = await t.api('/api/v1/tts/preview', {
      method: 'POST',
      as: 'operator',
      body: { text: BULLETIN, voice: 'northern' },
    });
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('audio/wav');

    const created = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Thông báo họp dân',
        level: 'normal',
        content: { kind: 'tts', text: BULLETIN, voice: 'northern' },
        start: '2026-12-07T08:00',
        targets: { communeIds: ['huong-dao'] },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const schedule = created.body.schedule;
    expect(schedule.approval.state).toBe('draft');
    // Synthesized once, kept as media with its playing time.
    const firstAudio = schedule.content.mediaId as string;
    const audio = await t.api(`/api/v1/media/${firstAudio}`, { as: 'operator' });
    expect(audio.body.mime).toBe('audio/mpeg');
    expect(audio.body.durationS).toBeGreaterThan(3);
    expect(schedule.durationS).toBe(Math.ceil(audio.body.durationS));

    // An operator cannot approve, and a draft or a submitted schedule does not air.
    const selfApproved = await t.api(`/api/v1/schedules/${schedule.id}/approve`, {
      method: 'POST',
      as: 'operator',
    });
    expect(selfApproved.status).toBe(403);
    const submitted = await t.api(`/api/v1/schedules/${schedule.id}/submit`, {
      method: 'POST',
      as: 'operator',
    });
    expect(submitted.body.approval.state).toBe('submitted');
    const waiting = await t.api('/api/v1/schedules?approval=submitted', { as: 'approver' });
    expect(waiting.body.items.map((s: { id: string }) => s.id)).toEqual([schedule.id]);
    const calendar = await t.api(
      '/api/v1/schedules/occurrences?from=2026-12-07T00:00:00%2B07:00&to=2026-12-08T00:00:00%2B07:00',
      { as: 'operator' },
    );
    expect(calendar.body.items[0].approval).toBe('submitted');
    await advanceTo(clock, '2026-12-07T08:10:00+07:00');
    const firstDay = await t.api('/api/v1/broadcasts?from=2026-12-07T00:00:00Z&to=2026-12-08T00:00:00Z', {
      as: 'operator',
    });
    expect(firstDay.body.items).toEqual([]);
    expect(plays).toEqual([]);

    // The approver sends it back; the operator rewords it (read aloud again) for 08:30 and resubmits.
    const returned = await t.api(`/api/v1/schedules/${schedule.id}/return`, {
      method: 'POST',
      as: 'approver',
      body: { comment: 'Ghi rõ địa điểm họp' },
    });
    expect(returned.body.approval).toMatchObject({ state: 'returned' });
    const reworded = `${BULLETIN} Địa điểm: nhà văn hoá thôn Đồng Giếng.`;
    const edited = await t.api(`/api/v1/schedules/${schedule.id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { content: { kind: 'tts', text: reworded, voice: 'northern' }, start: '2026-12-07T08:30' },
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.schedule.approval.state).toBe('draft');
    const secondAudio = edited.body.schedule.content.mediaId as string;
    expect(secondAudio).not.toBe(firstAudio);
    await t.api(`/api/v1/schedules/${schedule.id}/submit`, { method: 'POST', as: 'operator' });
    const approved = await t.api(`/api/v1/schedules/${schedule.id}/approve`, {
      method: 'POST',
      as: 'approver',
      body: { comment: 'Đồng ý phát' },
    });
    expect(approved.body.approval).toMatchObject({ state: 'approved', approvedBy: 'approver-all' });
    expect(approved.body.approval.steps.map((s: { step: string }) => s.step)).toEqual([
      'submitted',
      'returned',
      'submitted',
      'approved',
    ]);

    // At 08:30 it airs on all 18 clusters, once each, to the end.
    await advanceTo(clock, '2026-12-07T08:29:00+07:00');
    await runUntil(clock, () =>
      expect(plays.filter((p) => p.msg === 'playback finished' && p.code === 'completed')).toHaveLength(18),
    );
    const aired = await t.api('/api/v1/broadcasts?from=2026-12-07T00:00:00Z&to=2026-12-08T00:00:00Z', {
      as: 'operator',
    });
    expect(aired.body.items).toHaveLength(1);
    const [broadcast] = aired.body.items;
    expect(broadcast).toMatchObject({
      name: 'Thông báo họp dân',
      approvedBy: 'approver-all',
      content: { kind: 'tts', mediaId: secondAudio },
    });
    expect(new Set(plays.map((p) => p.deviceId)).size).toBe(18);
    expect(plays.every((p) => p.broadcastId === broadcast.id)).toBe(true);
    await runUntil(clock, async () => {
      const detail = await t.api(`/api/v1/broadcasts/${broadcast.id}`, { as: 'approver' });
      expect(detail.body.summary, JSON.stringify(detail.body.deliveries[0])).toEqual({ done: 18 });
    });

    const csv = await t.api(
      '/api/v1/broadcasts?from=2026-12-07T00:00:00Z&to=2026-12-08T00:00:00Z&format=csv',
      { as: 'operator' },
    );
    const [header, ...rows] = (csv.body as string).replace('\uFEFF', '').trim().split('\n');
    expect(header).toContain('Người duyệt');
    expect(rows).toHaveLength(18);
    expect(rows.every((row) => row.includes('approver-all'))).toBe(true);

    const audit = await t.api('/api/v1/audit?limit=200', { as: 'admin' });
    const actions = audit.body.items.map((e: { action: string; actorName: string; outcome: string }) =>
      [e.action, e.actorName, e.outcome].join(' '),
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'commune.update admin success',
        'schedule.approve operator-all denied',
        'schedule.submit operator-all success',
        'schedule.return approver-all success',
        'schedule.approve approver-all success',
      ]),
    );
  }, 120_000);

  it('airs an emergency at once without approval, marked for the approvers to review afterwards', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T09:00:00+07:00'));
    t = await startTestPlatform({ clock, config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20 } });
    const clusterIds = t.platform.registry
      .listClusters({ communeId: 'huong-dao' }, { limit: 100, offset: 0 })
      .items.map((c) => c.id)
      .slice(0, 3);
    const plays: PlayLog[] = [];
    fleet = await startFleet(t, clusterIds, { clock, plays, heartbeatIntervalS: 60 });
    await t.api('/api/v1/communes/huong-dao', { method: 'PATCH', body: { approvalRequired: true } });

    const sent = await t.api('/api/v1/broadcasts/emergency?waitMs=5000', {
      method: 'POST',
      as: 'operator',
      body: {
        content: {
          kind: 'tts',
          text: 'Khẩn cấp: nước sông Phó Đáy lên nhanh, bà con di chuyển lên chỗ cao.',
        },
        targets: { clusterIds },
      },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.review).toEqual({ state: 'pending', reviewedBy: null });
    await runUntil(clock, () =>
      expect(plays.filter((p) => p.msg === 'playback finished' && p.code === 'completed')).toHaveLength(3),
    );

    const pending = await t.api(
      '/api/v1/broadcasts?from=2026-12-07T00:00:00Z&to=2026-12-08T00:00:00Z&review=pending',
      { as: 'approver' },
    );
    expect(pending.body.items.map((b: { id: string }) => b.id)).toEqual([sent.body.id]);
    const byOperator = await t.api(`/api/v1/broadcasts/${sent.body.id}/review`, {
      method: 'POST',
      as: 'operator',
    });
    expect(byOperator.status).toBe(403);
    const reviewed = await t.api(`/api/v1/broadcasts/${sent.body.id}/review`, {
      method: 'POST',
      as: 'approver',
      body: { comment: 'Đúng quy trình' },
    });
    expect(reviewed.body.review).toEqual({ state: 'reviewed', reviewedBy: 'approver-all' });
    const again = await t.api(`/api/v1/broadcasts/${sent.body.id}/review`, {
      method: 'POST',
      as: 'approver',
    });
    expect(again.status, JSON.stringify(again.body)).toBe(409);
  }, 60_000);
});
