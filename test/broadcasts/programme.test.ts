import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import type { PlayLog } from '../../simulators/speaker-cluster/play-log.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { wavTone } from '../support/wav.js';

/** Moves the manual clock a second at a time until the check passes. */
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
 * A programme — intro jingle, a text read aloud, a recorded bulletin, outro jingle — is one
 * broadcast with one delivery per cluster; each cluster plays the items in order and its report
 * says which items played. Counted on the simulated clusters' own logs.
 */
describe('programmes', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
  });

  const setup = async (start: string, count: number) => {
    const clock = new ManualClock(Date.parse(start));
    t = await startTestPlatform({
      clock,
      config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20, DISPATCH_LEAD_S: 60 },
    });
    const clusterIds = t.platform.registry
      .listClusters({ communeId: 'huong-dao' }, { limit: 100, offset: 0 })
      .items.map((c) => c.id)
      .slice(0, count);
    const plays: PlayLog[] = [];
    fleet = await startFleet(t, clusterIds, { clock, plays, heartbeatIntervalS: 60 });
    const store = async (name: string, seconds: number) =>
      (
        await t.platform.media.ingest(
          { stream: Readable.from([wavTone(seconds)]), filename: `${name}.wav` },
          { name, createdBy: null },
        )
      ).id;
    return {
      clock,
      clusterIds,
      plays,
      jingle: await store('Nhạc hiệu', 2),
      bulletin: await store('Bản tin', 5),
    };
  };

  it('plays jingle + text + media + jingle in order on all 18 clusters, proven per item', async () => {
    const { clock, clusterIds, plays, jingle, bulletin } = await setup('2026-12-07T05:59:00+07:00', 18);
    const created = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Chương trình phát thanh buổi sáng',
        level: 'normal',
        content: {
          kind: 'programme',
          items: [
            { kind: 'jingle', mediaId: jingle, role: 'intro' },
            { kind: 'tts', text: 'Kính thưa bà con, sau đây là bản tin của UBND xã.', voice: 'northern' },
            { kind: 'media', mediaId: bulletin },
            { kind: 'jingle', mediaId: jingle, role: 'outro' },
          ],
        },
        start: '2026-12-07T06:00',
        targets: { communeIds: ['huong-dao'] },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { schedule } = created.body;
    const spoken = schedule.content.items[1].mediaId as string;
    const speech = (await t.api(`/api/v1/media/${spoken}`, { as: 'operator' })).body;
    expect(schedule.durationS).toBe(Math.ceil(2 + speech.durationS + 5 + 2));

    await runUntil(clock, () =>
      expect(plays.filter((p) => p.msg === 'playback finished' && p.code === 'completed')).toHaveLength(18),
    );
    for (const id of clusterIds) {
      const items = plays.filter((p) => p.deviceId === id && p.msg === 'programme item');
      expect(
        items.map((p) => [p.item, p.outcome]),
        id,
      ).toEqual([
        [0, 'played'],
        [1, 'played'],
        [2, 'played'],
        [3, 'played'],
      ]);
    }
    // One broadcast, one delivery per cluster, each saying which items played.
    await runUntil(clock, async () => {
      const log = await t.api('/api/v1/broadcasts?from=2026-12-06T00:00:00Z&to=2026-12-08T00:00:00Z', {
        as: 'operator',
      });
      expect(log.body.items).toHaveLength(1);
      expect(log.body.items[0].summary).toEqual({ done: 18 });
    });
    const log = await t.api('/api/v1/broadcasts?from=2026-12-06T00:00:00Z&to=2026-12-08T00:00:00Z', {
      as: 'operator',
    });
    const [broadcast] = log.body.items;
    expect(broadcast.deliveries).toHaveLength(18);
    for (const d of broadcast.deliveries) {
      expect(d.items.map((i: { outcome: string }) => i.outcome)).toEqual([
        'played',
        'played',
        'played',
        'played',
      ]);
    }
    expect(broadcast.deliveries[0].items.map((i: { label: string }) => i.label)).toEqual([
      `jingle (intro) ${jingle}`,
      'tts: Kính thưa bà con, sau đây là bản tin của UBND xã.',
      `media ${bulletin}`,
      `jingle (outro) ${jingle}`,
    ]);
    const csv = await t.api(
      '/api/v1/broadcasts?from=2026-12-06T00:00:00Z&to=2026-12-08T00:00:00Z&format=csv',
      { as: 'operator' },
    );
    expect(csv.body).toContain('1: đã phát; 2: đã phát; 3: đã phát; 4: đã phát');
  }, 90_000);

  it('says which items played when a programme is stopped part way', async () => {
    const { clock, clusterIds, plays, jingle, bulletin } = await setup('2026-12-07T09:00:00+07:00', 2);
    const sent = await t.api('/api/v1/broadcasts/emergency?waitMs=5000', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Cảnh báo lũ',
        content: {
          kind: 'programme',
          items: [
            { kind: 'jingle', mediaId: jingle },
            { kind: 'media', mediaId: bulletin },
            { kind: 'silence', durationS: 2 },
            { kind: 'media', mediaId: bulletin },
          ],
        },
        targets: { clusterIds },
      },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    // Into the first bulletin (after the 2 s jingle), then stopped.
    await runUntil(clock, () =>
      expect(plays.filter((p) => p.msg === 'programme item' && p.item === 0)).toHaveLength(2),
    );
    clock.advance(1_000);
    const stopped = await t.api(`/api/v1/broadcasts/${sent.body.id}/stop`, {
      method: 'POST',
      as: 'operator',
    });
    expect(stopped.status).toBe(200);
    await runUntil(clock, async () => {
      const detail = await t.api(`/api/v1/broadcasts/${sent.body.id}`, { as: 'operator' });
      expect(
        detail.body.deliveries.map((d: { items: { outcome: string }[] }) => d.items.map((i) => i.outcome)),
      ).toEqual([
        ['played', 'cut', 'not-played', 'not-played'],
        ['played', 'cut', 'not-played', 'not-played'],
      ]);
    });
    expect(plays.filter((p) => p.msg === 'programme item').map((p) => [p.item, p.outcome])).toEqual([
      [0, 'played'],
      [0, 'played'],
      [1, 'cut'],
      [1, 'cut'],
    ]);
  }, 60_000);
});
