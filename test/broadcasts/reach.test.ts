import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { wavTone } from '../support/wav.js';

/*
 * After a bulletin, the commune follows up on the villages it did not reach: Thôn 1's two clusters
 * are switched off, Thôn 2's one is on, so Thôn 1 is listed as not reached and no other village is.
 */
describe('the reach gap of a broadcast', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it('lists the villages whose clusters did not play it, those not reached at all first', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T08:00:00+07:00'));
    t = await startTestPlatform({ clock, config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20 } });
    // Thôn 1 (hd-c01, hd-c02) is off; Thôn 2 (hd-c03) is on.
    fleet = await startFleet(t, ['hd-c03'], { clock, heartbeatIntervalS: 60 });
    const media = await t.platform.media.ingest(
      { stream: Readable.from([wavTone(5)]), filename: 'canh-bao.wav' },
      { name: 'Cảnh báo', createdBy: null },
    );
    const sent = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: 'operator',
      body: {
        content: { kind: 'media', mediaId: media.id },
        targets: { villageIds: ['hd-thon-01', 'hd-thon-02'] },
      },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    await vi.waitFor(
      async () => {
        clock.advance(5_000);
        const reach = await t.api(`/api/v1/broadcasts/${sent.body.id}/reach`, { as: 'viewer' });
        expect(reach.body.final).toBe(true);
      },
      { timeout: 20_000, interval: 20 },
    );
    const reach = await t.api(`/api/v1/broadcasts/${sent.body.id}/reach`, { as: 'operator' });
    expect(reach.body.villages).toHaveLength(1);
    expect(reach.body.villages[0]).toMatchObject({
      villageId: 'hd-thon-01',
      clusters: 2,
      heard: 0,
      reached: false,
    });
    expect(reach.body.villages[0].missing.map((m: { clusterId: string }) => m.clusterId)).toEqual([
      'hd-c01',
      'hd-c02',
    ]);
  }, 60_000);
});
