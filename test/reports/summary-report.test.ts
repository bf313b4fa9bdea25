import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMp3Encoder } from 'wasm-media-encoders';
import type { SummaryReport } from '../../contracts/reports.js';
import { REPORT_CSP } from '../../services/reports/report-html.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import type { PlayLog } from '../../simulators/speaker-cluster/play-log.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { wavTone } from '../support/wav.js';

/** A commune name that would run a script in a page that did not escape it. */
const HOSTILE_NAME = 'Hợp Thịnh <script>alert("x")</script>';
/** December 2026 in Vietnam (UTC+7), in UTC as the broadcast log takes it. */
const DECEMBER = 'from=2026-11-30T17:00:00Z&to=2026-12-31T17:00:00Z';

/** Moves the manual clock a second at a time to `at`, letting sockets, downloads and streams run. */
async function advanceTo(clock: ManualClock, at: string): Promise<void> {
  const target = Date.parse(at);
  while (clock.now() < target) {
    clock.advance(Math.min(1_000, target - clock.now()));
    await new Promise((resolve) => setTimeout(resolve, 4));
  }
}

/** Three seconds of a 440 Hz tone as MP3, the body of a short live stream that then ends. */
async function mp3Tone(seconds: number): Promise<Buffer> {
  const encoder = await createMp3Encoder();
  encoder.configure({ sampleRate: 16_000, channels: 1, bitrate: 32 });
  const parts: Buffer[] = [];
  for (let s = 0; s < seconds; s++) {
    const pcm = new Float32Array(16_000);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.4 * Math.sin((2 * Math.PI * 440 * i) / 16_000);
    parts.push(Buffer.from(encoder.encode([pcm])));
  }
  parts.push(Buffer.from(encoder.finalize()));
  return Buffer.concat(parts);
}

interface LoggedDelivery {
  state: string;
  playedS: number | null;
}
interface LoggedBroadcast {
  id: string;
  level: 'normal' | 'priority' | 'emergency';
  bulletinId: string | null;
  deliveries: LoggedDelivery[];
}

/** What the broadcast log says, added up the way the report must: counts, deliveries, hours aired. */
function fromLog(items: LoggedBroadcast[]) {
  const byLevel: Record<string, { province: number; commune: number; total: number }> = {
    normal: { province: 0, commune: 0, total: 0 },
    priority: { province: 0, commune: 0, total: 0 },
    emergency: { province: 0, commune: 0, total: 0 },
  };
  let targeted = 0;
  let done = 0;
  for (const b of items) {
    const row = byLevel[b.level] as { province: number; commune: number; total: number };
    row[b.bulletinId ? 'province' : 'commune'] += 1;
    row.total += 1;
    targeted += b.deliveries.length;
    done += b.deliveries.filter((d) => d.state === 'done').length;
  }
  return { bulletins: { total: items.length, byLevel }, targeted, done };
}

/*
 * Reports upward (Circular 39): a month in Hướng Đạo and a second commune of Phú Thọ, aired for
 * real by simulated clusters — commune schedules, an emergency relayed from a stream, and an
 * emergency bulletin of the province — then the commune's and the province's reports are checked
 * against the broadcast log of the same month, as each account reads it.
 */
describe('the summary report upward', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
    await fleet?.stop();
    await t?.close();
  });

  it('adds up to the broadcast log for a commune and for its province, in JSON, CSV and print, and keeps to the caller’s communes', async () => {
    // 07:50 in Hướng Đạo (UTC+7) on 7 December 2026.
    const clock = new ManualClock(Date.parse('2026-12-07T07:50:00+07:00'));
    t = await startTestPlatform({
      clock,
      config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20, DISPATCH_LEAD_S: 60 },
    });
    const { registry } = t.platform;
    await registry.createCommune({ id: 'hop-thinh', name: HOSTILE_NAME, provinceId: 'phu-tho' });
    await registry.createVillage({ id: 'ht-thon-1', communeId: 'hop-thinh', name: 'Thôn 1' });
    for (const n of [1, 2])
      await registry.createCluster({
        id: `ht-c${n}`,
        villageId: 'ht-thon-1',
        name: `Cụm ${n}`,
        location: { lat: 21.33, lon: 105.56 },
      });
    const huongDao = registry
      .listClusters({ communeId: 'huong-dao' }, { limit: 100, offset: 0 })
      .items.map((c) => c.id);
    expect(huongDao).toHaveLength(18);
    const faulty = huongDao[0] as string;
    const cut = huongDao[1] as string;
    // ht-c2 is never switched on: what is sent to it is missed.
    const plays: PlayLog[] = [];
    fleet = await startFleet(t, [...huongDao, 'ht-c1'], { clock, plays, heartbeatIntervalS: 60 });
    await fleet.require(faulty).injectFault({ kind: 'speaker-fault', speaker: 2 });

    const audio = (
      await t.platform.media.ingest(
        { stream: Readable.from([wavTone(20)]), filename: 'ban-tin.wav' },
        { name: 'Bản tin', createdBy: null },
      )
    ).id;
    const hd = { headers: await t.headersFor('operator', { communeId: 'huong-dao' }) };
    const ht = { headers: await t.headersFor('operator', { communeId: 'hop-thinh' }) };
    const province = { headers: await t.headersFor('operator', { provinceId: 'phu-tho' }) };

    // Each commune's own schedule at 08:00: normal in Hướng Đạo, priority in Hợp Thịnh.
    for (const [as, level, communeId] of [
      [hd, 'normal', 'huong-dao'],
      [ht, 'priority', 'hop-thinh'],
    ] as const) {
      const made = await t.api('/api/v1/schedules', {
        method: 'POST',
        as,
        body: {
          name: `Thông báo ${level}`,
          level,
          content: { kind: 'media', mediaId: audio },
          start: '2026-12-07T08:00',
          targets: { communeIds: [communeId] },
        },
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
    }
    await advanceTo(clock, '2026-12-07T08:02:00+07:00');
    await vi.waitFor(() =>
      expect(plays.filter((p) => p.msg === 'playback finished' && p.code === 'completed')).toHaveLength(19),
    );

    // An emergency of Hướng Đạo, relayed from a stream that plays three seconds and ends.
    const body = await mp3Tone(3);
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'audio/mpeg' });
      response.end(body);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const streamUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/khan-cap.mp3`;
    const stream = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: hd,
      body: {
        name: 'Cảnh báo cháy rừng',
        content: { kind: 'stream', url: streamUrl },
        durationS: 60,
        targets: { communeIds: ['huong-dao'] },
      },
    });
    expect(stream.status, JSON.stringify(stream.body)).toBe(201);
    await advanceTo(clock, '2026-12-07T08:04:00+07:00');
    await vi.waitFor(() =>
      expect(
        plays.filter((p) => p.msg === 'playback finished' && p.broadcastId === stream.body.id),
      ).toHaveLength(18),
    );

    // An emergency bulletin of the province: it airs at once in both communes.
    const bulletin = await t.api('/api/v1/provincial-bulletins', {
      method: 'POST',
      as: province,
      body: { name: 'Cảnh báo lũ quét', level: 'emergency', content: { kind: 'media', mediaId: audio } },
    });
    expect(bulletin.status, JSON.stringify(bulletin.body)).toBe(201);
    // One cluster loses power for ten minutes: an outage in the availability figures.
    await advanceTo(clock, '2026-12-07T08:10:00+07:00');
    await fleet.require(cut).injectFault({ kind: 'power-cut' });
    await vi.waitFor(() => expect(t.platform.presence.isOnline(cut)).toBe(false));
    await advanceTo(clock, '2026-12-07T08:20:00+07:00');
    await fleet.require(cut).clearFault('power-cut');
    await advanceTo(clock, '2026-12-07T09:30:00+07:00');
    await vi.waitFor(() => expect(t.platform.presence.isOnline(cut)).toBe(true));
    await t.platform.telemetry.flush();

    // Every delivery has ended: what the dispatcher knows is final.
    const log = async (as: { headers: Record<string, string> }) => {
      const answer = await t.api(`/api/v1/broadcasts?${DECEMBER}&limit=500`, { as });
      expect(answer.status).toBe(200);
      return answer.body.items as LoggedBroadcast[];
    };
    const hdLog = await log(hd);
    expect(
      hdLog
        .flatMap((b) => b.deliveries)
        .every((d) => !['scheduled', 'sent', 'accepted', 'playing'].includes(d.state)),
    ).toBe(true);
    const summary = async (query: string, as: { headers: Record<string, string> }) => {
      const answer = await t.api(`/api/v1/reports/summary?${DECEMBER}${query}`, { as });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body as SummaryReport;
    };

    // Hướng Đạo's month, by its own operator, against the log its operator reads.
    const commune = await summary('&communeId=huong-dao', hd);
    const expected = fromLog(hdLog);
    expect(expected.bulletins).toEqual({
      total: 3,
      byLevel: {
        normal: { province: 0, commune: 1, total: 1 },
        priority: { province: 0, commune: 0, total: 0 },
        emergency: { province: 1, commune: 1, total: 2 },
      },
    });
    expect(commune.scope).toEqual({ kind: 'commune', id: 'huong-dao', name: 'Hướng Đạo' });
    expect(commune.total.bulletins).toEqual(expected.bulletins);
    expect(commune.communes.map((c) => [c.id, c.provinceId])).toEqual([['huong-dao', 'phu-tho']]);
    expect(commune.communes[0]?.bulletins).toEqual(expected.bulletins);
    expect(commune.total.deliveries).toMatchObject({
      targeted: expected.targeted,
      done: expected.done,
      deliveryPct: 100,
    });
    expect(expected).toMatchObject({ targeted: 54, done: 54 });
    // Hours aired: per bulletin, the longest play of one of its clusters.
    const longest = hdLog.reduce((sum, b) => sum + Math.max(...b.deliveries.map((d) => d.playedS ?? 0)), 0);
    expect(commune.total.airedS).toBeCloseTo(longest, 3);
    // Two 20-second recordings (the stream's three seconds arrive at once on the manual clock).
    expect(commune.total.airedS).toBeGreaterThanOrEqual(40);
    const everyPlay = hdLog.flatMap((b) => b.deliveries).reduce((sum, d) => sum + (d.playedS ?? 0), 0);
    expect(commune.total.clusterAiredS).toBeCloseTo(everyPlay, 3);
    // Per bulletin: its clusters in the commune, how many played it to the end, and the rate.
    expect(commune.broadcasts.total).toBe(3);
    expect(
      commune.broadcasts.items.map((b) => [b.id, b.origin, b.targeted, b.done, b.heard, b.deliveryPct]),
    ).toEqual(hdLog.map((b) => [b.id, b.bulletinId ? 'province' : 'commune', 18, 18, 18, 100]));
    const paged = await summary('&communeId=huong-dao&limit=1&offset=2', hd);
    expect(paged.broadcasts).toMatchObject({ total: 3, limit: 1, offset: 2 });
    expect(paged.broadcasts.items.map((b) => b.id)).toEqual([hdLog[2]?.id]);
    // Faults: the cluster whose speaker 2 is broken played all three with it; the one that lost power was down.
    expect(commune.total.faults).toEqual({
      failedDeliveries: 0,
      speakerFaultDeliveries: 3,
      clustersWithOutage: 1,
    });
    expect(commune.total.availability).toMatchObject({ clusters: 18, clustersWithOutage: 1 });
    expect(commune.total.availability?.uptimePct).toBeGreaterThan(95);
    expect(commune.total.availability?.uptimePct).toBeLessThan(100);
    expect(commune.availabilityError).toBeNull();

    // The province's month, by the province's staff, against the log they read.
    const provinceLog = await log(province);
    const wide = await summary('&provinceId=phu-tho', province);
    const provinceExpected = fromLog(provinceLog);
    expect(wide.scope).toEqual({ kind: 'province', id: 'phu-tho', name: 'Tỉnh Phú Thọ' });
    expect(wide.total.bulletins).toEqual(provinceExpected.bulletins);
    expect(wide.total.bulletins.byLevel.priority).toEqual({ province: 0, commune: 1, total: 1 });
    expect(wide.total.deliveries).toMatchObject({
      targeted: provinceExpected.targeted,
      done: provinceExpected.done,
    });
    // Hợp Thịnh's second cluster was never on: its two deliveries were missed.
    expect(provinceExpected).toMatchObject({ targeted: 58, done: 56 });
    expect(wide.total.deliveries.byState.missed).toBe(2);
    expect(wide.total.faults.failedDeliveries).toBe(2);
    expect(wide.failures).toEqual([{ state: 'missed', reason: expect.any(String), count: 2 }]);
    expect(wide.communes.map((c) => c.id)).toEqual(['huong-dao', 'hop-thinh']);
    const ht2 = wide.communes[1];
    expect(ht2?.bulletins.byLevel).toMatchObject({
      priority: { province: 0, commune: 1, total: 1 },
      emergency: { province: 1, commune: 0, total: 1 },
    });
    expect(ht2?.deliveries).toMatchObject({ targeted: 4, done: 2, deliveryPct: 50 });
    // Each commune's row adds up to the total, but a bulletin to both is counted once in the total.
    expect(wide.communes.reduce((n, c) => n + c.deliveries.targeted, 0)).toBe(wide.total.deliveries.targeted);
    expect(wide.communes.reduce((n, c) => n + c.bulletins.total, 0)).toBe(wide.total.bulletins.total + 1);
    expect(wide.communes.reduce((n, c) => n + c.airedS, 0)).toBeCloseTo(wide.total.airedS, 3);
    // The same report without a filter is everything the province account sees; an admin's, every
    // commune (read by period rather than by commune: the same figures).
    expect((await summary('', province)).total).toEqual(wide.total);
    const all = await summary('', { headers: await t.headersFor('admin') });
    expect(all.scope.kind).toBe('all');
    expect(all.total.bulletins).toEqual(wide.total.bulletins);
    expect(all.total.deliveries).toEqual(wide.total.deliveries);
    expect(all.broadcasts.items.map((b) => [b.id, b.targeted, b.done])).toEqual(
      wide.broadcasts.items.map((b) => [b.id, b.targeted, b.done]),
    );

    // A commune account reads neither another commune's report nor its province's.
    for (const query of ['&communeId=hop-thinh', '&provinceId=phu-tho', '&provinceId=ha-noi']) {
      const refused = await t.api(`/api/v1/reports/summary?${DECEMBER}${query}`, { as: hd });
      expect(refused.status, query).toBe(404);
    }
    const elsewhere = { headers: await t.headersFor('viewer', { provinceId: 'ha-noi' }) };
    expect(
      (await t.api(`/api/v1/reports/summary?${DECEMBER}&provinceId=phu-tho`, { as: elsewhere })).status,
    ).toBe(404);
    // Viewers and approvers read it; police and technicians do not.
    expect((await t.api(`/api/v1/reports/summary?${DECEMBER}`, { as: 'viewer' })).status).toBe(200);
    expect((await t.api(`/api/v1/reports/summary?${DECEMBER}`, { as: 'approver' })).status).toBe(200);
    expect((await t.api(`/api/v1/reports/summary?${DECEMBER}`, { as: 'police' })).status).toBe(403);
    const tooLong = await t.api('/api/v1/reports/summary?from=2026-01-01T00:00:00Z&to=2027-01-03T00:00:00Z', {
      as: hd,
    });
    expect(tooLong.status).toBe(400);

    // CSV: UTF-8 with a BOM, Vietnamese headers, one row per commune and a total row.
    // Read as bytes: a text decoder would drop the byte-order mark the spreadsheet needs.
    const csv = await fetch(`${t.httpUrl}/api/v1/reports/summary?${DECEMBER}&provinceId=phu-tho&format=csv`, {
      headers: province.headers,
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toContain('attachment');
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    const [header, ...rows] = text.trim().split('\n');
    expect(header).toContain('Giờ phát sóng (giờ)');
    expect(header).toContain('Tỷ lệ phát thành công (%)');
    expect(rows).toHaveLength(3);
    expect(rows[2]?.startsWith(',Tổng cộng,,4,'), rows[2]).toBe(true);
    const english = await t.api(
      `/api/v1/reports/summary?${DECEMBER}&communeId=huong-dao&format=csv&lang=en`,
      { as: hd },
    );
    expect((english.body as string).split('\n')[0]).toContain('Hours aired');

    // The printable report: self-contained, a strict policy, every name escaped.
    const html = await t.api(`/api/v1/reports/summary?${DECEMBER}&provinceId=phu-tho&format=html`, {
      as: province,
    });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toBe(REPORT_CSP);
    const page = html.body as string;
    expect(page).toContain('BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG ĐÀI TRUYỀN THANH CƠ SỞ');
    expect(page).toContain('Từ ngày 01/12/2026 đến ngày 31/12/2026');
    expect(page).toContain('Hợp Thịnh &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page).not.toContain('<script');
    expect(page).not.toMatch(/(src|href)=/);
    expect(page).toContain('NGƯỜI LẬP BIỂU');
    const own = await t.api(`/api/v1/reports/summary?${DECEMBER}&communeId=huong-dao&format=html`, {
      as: hd,
    });
    expect(own.body as string).toContain('CHỦ TỊCH UBND XÃ');
    expect(own.body as string).toContain('(Ký, ghi rõ họ tên, đóng dấu)');
    expect(own.body as string).toContain('XÃ HƯỚNG ĐẠO');
  }, 180_000);
});
