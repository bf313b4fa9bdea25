import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import type { PlayLog } from '../../simulators/speaker-cluster/play-log.js';
import { connected, consoleSocket, type Recorded } from '../realtime/console-socket.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { wavTone } from '../support/wav.js';

const COMMUNES = ['xa-a', 'xa-b', 'xa-c', 'xa-d'] as const;

/**
 * Moves the manual clock a second at a time to `at`, letting sockets and downloads run between
 * steps (a cluster times its download out on the same clock).
 */
async function advanceTo(clock: ManualClock, at: string): Promise<void> {
  const target = Date.parse(at);
  while (clock.now() < target) {
    clock.advance(Math.min(1_000, target - clock.now()));
    await new Promise((resolve) => setTimeout(resolve, 4));
  }
}

/*
 * Circular 39's three levels, from the province of Phú Thọ to four of its communes: a normal
 * bulletin waits in each inbox until the commune schedules it (or declines, or lets it expire); a
 * priority one is scheduled at once, except where it clashes with a commune priority item, which
 * the commune orders; an emergency plays at once everywhere. The province sees every receipt,
 * live; a commune sees only its own. What played is counted on the simulated clusters.
 */
describe('bulletins from the province', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  const sockets: Recorded[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.socket.close();
    await fleet?.stop();
    await t?.close();
  });

  it('normal waits for each commune, priority asks a clashing commune to order, emergency plays at once; the province sees every receipt', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T09:00:00+07:00'));
    t = await startTestPlatform({ clock, config: { HEARTBEAT_MISSED_LIMIT: 20, DISPATCH_LEAD_S: 60 } });
    const { registry } = t.platform;
    const clusterIds: string[] = [];
    for (const c of COMMUNES) {
      await registry.createCommune({ id: c, name: `Xã ${c.slice(3).toUpperCase()}`, provinceId: 'phu-tho' });
      await registry.createVillage({ id: `${c}-thon`, communeId: c, name: 'Thôn 1' });
      for (const n of [1, 2]) {
        await registry.createCluster({
          id: `${c}-c${n}`,
          villageId: `${c}-thon`,
          name: `Cụm ${n}`,
          location: { lat: 21.3, lon: 105.5 },
        });
        clusterIds.push(`${c}-c${n}`);
      }
    }
    const plays: PlayLog[] = [];
    fleet = await startFleet(t, clusterIds, { clock, plays, heartbeatIntervalS: 60 });
    const audio = async (name: string, seconds: number) =>
      (
        await t.platform.media.ingest(
          { stream: Readable.from([wavTone(seconds)]), filename: `${name}.wav` },
          { name, createdBy: null },
        )
      ).id;
    const bulletinAudio = await audio('Bản tin tỉnh', 20);
    const communeAudio = await audio('Bản tin xã', 20);

    const province = { headers: await t.headersFor('operator', { provinceId: 'phu-tho' }) };
    const commune = async (c: string) => ({ headers: await t.headersFor('operator', { communeId: c }) });
    const provinceSocket = consoleSocket(t.httpUrl, province);
    const communeASocket = consoleSocket(t.httpUrl, await commune('xa-a'));
    sockets.push(provinceSocket, communeASocket);
    await Promise.all([connected(provinceSocket), connected(communeASocket)]);

    // Commune B has its own priority item at 09:05.
    const own = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: await commune('xa-b'),
      body: {
        name: 'Thông báo của xã B',
        level: 'priority',
        content: { kind: 'media', mediaId: communeAudio },
        start: '2026-12-07T09:05',
        targets: { communeIds: ['xa-b'] },
      },
    });
    expect(own.status, JSON.stringify(own.body)).toBe(201);

    const send = (body: Json) =>
      t.api('/api/v1/provincial-bulletins', { method: 'POST', as: province, body });
    // Normal: into every inbox.
    const normal = await send({
      name: 'Tuyên truyền phòng chống cháy rừng',
      level: 'normal',
      content: { kind: 'media', mediaId: bulletinAudio },
      start: '2026-12-07T09:02:00+07:00',
      expiresAt: '2026-12-07T09:08:00+07:00',
    });
    expect(normal.status, JSON.stringify(normal.body)).toBe(201);
    expect(normal.body.receipts.map((r: { state: string }) => r.state)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    const inboxA = await t.api('/api/v1/inbox?state=pending', { as: await commune('xa-a') });
    expect(
      inboxA.body.items.map((i: { communeId: string; bulletin: { id: string } }) => [
        i.communeId,
        i.bulletin.id,
      ]),
    ).toEqual([['xa-a', normal.body.id]]);
    // A schedules it at 09:03, C declines it; B and D let it expire.
    const scheduled = await t.api(`/api/v1/inbox/${normal.body.id}/xa-a/schedule`, {
      method: 'POST',
      as: await commune('xa-a'),
      body: { start: '2026-12-07T09:03:00+07:00' },
    });
    expect(scheduled.body).toMatchObject({ state: 'scheduled', decidedBy: 'operator-xa-a' });
    const declined = await t.api(`/api/v1/inbox/${normal.body.id}/xa-c/decline`, {
      method: 'POST',
      as: await commune('xa-c'),
      body: { reason: 'Đã phát nội dung này tuần trước' },
    });
    expect(declined.body).toMatchObject({ state: 'declined', reason: 'Đã phát nội dung này tuần trước' });
    // A commune cannot decide for another.
    const meddling = await t.api(`/api/v1/inbox/${normal.body.id}/xa-d/decline`, {
      method: 'POST',
      as: await commune('xa-a'),
      body: { reason: 'x' },
    });
    expect(meddling.status).toBe(404);

    // Priority at 09:05: scheduled at once in A, C, D; B must order it with its own item.
    const priority = await send({
      name: 'Thông báo lịch cắt điện',
      level: 'priority',
      content: { kind: 'media', mediaId: bulletinAudio },
      start: '2026-12-07T09:05:00+07:00',
    });
    expect(priority.status, JSON.stringify(priority.body)).toBe(201);
    const byCommune = (body: Json) =>
      Object.fromEntries(
        (body.receipts as { communeId: string; state: string }[]).map((r) => [r.communeId, r.state]),
      );
    expect(byCommune(priority.body)).toEqual({
      'xa-a': 'scheduled',
      'xa-b': 'needs-order',
      'xa-c': 'scheduled',
      'xa-d': 'scheduled',
    });
    const clash = priority.body.receipts.find((r: { communeId: string }) => r.communeId === 'xa-b').clash;
    expect(clash).toEqual([
      expect.objectContaining({ scheduleId: own.body.schedule.id, name: 'Thông báo của xã B' }),
    ]);
    const ordered = await t.api(`/api/v1/inbox/${priority.body.id}/xa-b/order`, {
      method: 'POST',
      as: await commune('xa-b'),
      body: { first: 'commune' },
    });
    expect(ordered.status, JSON.stringify(ordered.body)).toBe(200);
    expect(ordered.body.state).toBe('scheduled');

    // Emergency: at once, every cluster of the four communes.
    const emergency = await send({
      name: 'Cảnh báo lũ quét',
      level: 'emergency',
      content: { kind: 'media', mediaId: bulletinAudio },
    });
    expect(emergency.status, JSON.stringify(emergency.body)).toBe(201);
    expect(Object.values(byCommune(emergency.body))).toEqual(['aired', 'aired', 'aired', 'aired']);

    await advanceTo(clock, '2026-12-07T09:10:00+07:00');
    // Emergency 8, priority 8, normal 2 (commune A), and commune B's own item on its 2 clusters.
    await vi.waitFor(() => expect(plays.filter((p) => p.msg === 'playback finished').length).toBe(20));
    /** The clusters that started any broadcast of these, by their own logs. */
    const playedOn = (broadcastIds: Set<string>) =>
      [
        ...new Set(
          plays
            .filter((x) => x.msg === 'playback started' && broadcastIds.has(x.broadcastId))
            .map((x) => x.deviceId),
        ),
      ].sort();
    const broadcastsOf = async (id: string) => {
      const view = await t.api(`/api/v1/provincial-bulletins/${id}`, { as: province });
      return {
        view: view.body,
        ids: new Set<string>(
          view.body.receipts.flatMap((r: { broadcasts: { broadcastId: string }[] }) =>
            r.broadcasts.map((b) => b.broadcastId),
          ),
        ),
      };
    };
    // The emergency played on all eight clusters, the priority on all eight (B's after its own item),
    // the normal only in A.
    const e = await broadcastsOf(emergency.body.id);
    expect(playedOn(e.ids)).toEqual([...clusterIds].sort());
    const p = await broadcastsOf(priority.body.id);
    expect(playedOn(p.ids)).toEqual([...clusterIds].sort());
    const n = await broadcastsOf(normal.body.id);
    expect(playedOn(n.ids)).toEqual(['xa-a-c1', 'xa-a-c2']);
    const ownStart = plays.find(
      (x) =>
        x.deviceId === 'xa-b-c1' &&
        x.msg === 'playback started' &&
        !p.ids.has(x.broadcastId) &&
        !e.ids.has(x.broadcastId),
    );
    expect(ownStart).toBeDefined();

    // The province sees every commune's decision and what its clusters did.
    expect(byCommune(n.view)).toEqual({
      'xa-a': 'scheduled',
      'xa-b': 'expired',
      'xa-c': 'declined',
      'xa-d': 'expired',
    });
    expect(n.view.totals.clusters).toEqual({ done: 2 });
    expect(p.view.totals.clusters).toEqual({ done: 8 });
    expect(e.view.totals.clusters).toEqual({ done: 8 });
    const receiptsSeen = (s: Recorded) =>
      new Set(s.of('bulletins.receipt').map((r) => `${r.bulletinId}/${r.communeId}/${r.state}`));
    await vi.waitFor(() => expect(receiptsSeen(provinceSocket)).toContain(`${normal.body.id}/xa-d/expired`));
    for (const c of COMMUNES)
      expect(receiptsSeen(provinceSocket)).toContain(`${emergency.body.id}/${c}/aired`);
    // A commune sees only its own: receipts, inbox, bulletin view, clusters, live events.
    expect(communeASocket.of('bulletins.receipt').every((r) => r.communeId === 'xa-a')).toBe(true);
    expect(communeASocket.of('bulletins.receipt').length).toBeGreaterThan(0);
    const asA = await commune('xa-a');
    const seenByA = await t.api(`/api/v1/provincial-bulletins/${normal.body.id}`, { as: asA });
    expect(seenByA.body.receipts.map((r: { communeId: string }) => r.communeId)).toEqual(['xa-a']);
    const inboxAll = await t.api('/api/v1/inbox', { as: asA });
    expect(new Set(inboxAll.body.items.map((i: { communeId: string }) => i.communeId))).toEqual(
      new Set(['xa-a']),
    );
    expect((await t.api('/api/v1/clusters/xa-b-c1', { as: asA })).status).toBe(404);
    expect(
      communeASocket
        .of('deliveries.delta')
        .flat()
        .every((d) => d.clusterId.startsWith('xa-a-')),
    ).toBe(true);
    // The province at a glance; a commune account has no province view.
    const overview = await t.api('/api/v1/provinces/phu-tho/overview', { as: province });
    expect(overview.body.totals).toEqual({ communes: 4, clusters: 8, online: 8, waiting: 0 });
    const recent = new Map(
      overview.body.recent.map((b: { id: string; byState: unknown }) => [b.id, b.byState]),
    );
    expect(recent.get(normal.body.id)).toEqual({ scheduled: 1, declined: 1, expired: 2 });
    expect(recent.get(emergency.body.id)).toEqual({ aired: 4 });
    expect(recent.size).toBe(3);
    expect((await t.api('/api/v1/provinces/phu-tho/overview', { as: asA })).status).toBe(404);
    // The list gives each bulletin's totals: all four communes for the province, its own for A.
    const listed = await t.api('/api/v1/provincial-bulletins', { as: province });
    expect(listed.body.total).toBe(3);
    const listedNormal = listed.body.items.find((b: { id: string }) => b.id === normal.body.id);
    expect(listedNormal.totals).toEqual({
      communes: 4,
      byState: { scheduled: 1, declined: 1, expired: 2 },
      clusters: { done: 2 },
    });
    const listedForA = await t.api('/api/v1/provincial-bulletins', { as: asA });
    expect(listedForA.body.items.map((b: { totals: { communes: number } }) => b.totals.communes)).toEqual([
      1, 1, 1,
    ]);
    // A province elsewhere sees none of it.
    const hanoi = { headers: await t.headersFor('operator', { provinceId: 'ha-noi' }) };
    expect((await t.api(`/api/v1/provincial-bulletins/${normal.body.id}`, { as: hanoi })).status).toBe(404);
    expect((await t.api('/api/v1/provincial-bulletins', { as: hanoi })).body.items).toEqual([]);
  }, 120_000);

  it("orders a commune's clashing item after the province's when the commune says so, and refuses what is not its to decide", async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T09:00:00+07:00'));
    t = await startTestPlatform({ clock });
    const { registry } = t.platform;
    await registry.createCommune({ id: 'xa-e', name: 'Xã E', provinceId: 'phu-tho' });
    await registry.createVillage({ id: 'xa-e-thon', communeId: 'xa-e', name: 'Thôn 1' });
    await registry.createCluster({
      id: 'xa-e-c1',
      villageId: 'xa-e-thon',
      name: 'Cụm 1',
      location: { lat: 21.3, lon: 105.5 },
    });
    const province = { headers: await t.headersFor('operator', { provinceId: 'phu-tho' }) };
    const communeE = { headers: await t.headersFor('operator', { communeId: 'xa-e' }) };
    const stream = { kind: 'stream', url: 'http://radio.example/tinh' };
    const own = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: communeE,
      body: {
        name: 'Việc của xã',
        level: 'priority',
        content: stream,
        durationS: 600,
        start: '2026-12-07T10:00',
        targets: { communeIds: ['xa-e'] },
      },
    });
    const priority = await t.api('/api/v1/provincial-bulletins', {
      method: 'POST',
      as: province,
      body: {
        name: 'Tin tỉnh',
        level: 'priority',
        content: stream,
        durationS: 300,
        start: '2026-12-07T10:05:00+07:00',
      },
    });
    expect(priority.body.receipts[0].state).toBe('needs-order');
    // A normal-only step is refused on a priority bulletin; ordering is the commune's.
    const wrong = await t.api(`/api/v1/inbox/${priority.body.id}/xa-e/decline`, {
      method: 'POST',
      as: communeE,
      body: { reason: 'x' },
    });
    expect(wrong.status).toBe(409);
    const byProvince = await t.api(`/api/v1/inbox/${priority.body.id}/xa-e/order`, {
      method: 'POST',
      as: province,
      body: { first: 'bulletin' },
    });
    expect(byProvince.status).toBe(200); // the province's staff may decide for its communes too
    // The province's bulletin keeps 10:05; the commune's item moves to 5 s after it ends (10:10:05).
    const moved = await t.api(`/api/v1/schedules/${own.body.schedule.id}`, { as: communeE });
    expect(moved.body.start).toBe('2026-12-07T10:10:05');
    const calendar = await t.api(
      '/api/v1/schedules/occurrences?from=2026-12-07T09:00:00%2B07:00&to=2026-12-07T12:00:00%2B07:00',
      { as: communeE },
    );
    expect(calendar.body.items.map((o: { name: string; start: string }) => [o.name, o.start])).toEqual([
      ['Tin tỉnh', '2026-12-07T03:05:00.000Z'],
      ['Việc của xã', '2026-12-07T03:10:05.000Z'],
    ]);
    const again = await t.api(`/api/v1/inbox/${priority.body.id}/xa-e/order`, {
      method: 'POST',
      as: communeE,
      body: { first: 'commune' },
    });
    expect(again.status).toBe(409);
  });
});
