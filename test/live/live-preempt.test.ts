import { Readable } from 'node:stream';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  LiveAck,
  LiveClientToServerEvents,
  LiveServerToClientEvents,
  LiveStarted,
} from '../../contracts/live.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { wavTone } from '../support/wav.js';

type LiveSocket = Socket<LiveServerToClientEvents, LiveClientToServerEvents>;

/** 100 ms chunks of 1 kHz, 16-bit little-endian mono at 16 kHz, as the console sends them. */
function tone(seconds: number): Buffer[] {
  return Array.from({ length: seconds * 10 }, (_, c) => {
    const pcm = Buffer.alloc(3200);
    for (let i = 0; i < 1600; i++)
      pcm.writeInt16LE(Math.round(12_000 * Math.sin((2 * Math.PI * 1000 * (c * 1600 + i)) / 16_000)), i * 2);
    return pcm;
  });
}

/** The wall time in Hướng Đạo (UTC+7) `ms` from now, as schedules are written. */
const localIn = (ms: number) => new Date(Date.now() + ms + 7 * 3_600_000).toISOString().slice(0, 19);

/*
 * Circular 39: an emergency plays at once, pre-empting everything. Real simulated clusters play a
 * normal scheduled bulletin; an operator's emergency live talk takes their speakers.
 */
describe('an emergency live talk', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet | undefined;
  let socket: LiveSocket | undefined;
  afterEach(async () => {
    socket?.disconnect();
    await fleet?.stop();
    await t?.close();
  });

  it('pre-empts a normal scheduled play on the same clusters, and they decode the operator instead', async () => {
    t = await startTestPlatform({ config: { DISPATCH_LEAD_S: 5 } });
    for (const id of ['hd-p1', 'hd-p2']) await t.addDevice(id);
    fleet = await startFleet(t, ['hd-p1', 'hd-p2']);

    const { id: mediaId } = await t.platform.media.ingest(
      { stream: Readable.from([wavTone(60)]), filename: 'ban-tin.wav' },
      { name: 'Bản tin dài', createdBy: null },
    );
    const schedule = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Bản tin sáng',
        level: 'normal',
        content: { kind: 'media', mediaId },
        start: localIn(7_000),
        timezone: 'Asia/Ho_Chi_Minh',
        targets: { clusterIds: ['hd-p1', 'hd-p2'] },
      },
    });
    expect(schedule.status, JSON.stringify(schedule.body)).toBe(201);
    const scheduled = async () => {
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const to = new Date(Date.now() + 3_600_000).toISOString();
      const log = await t.api(`/api/v1/broadcasts?from=${from}&to=${to}`, { as: 'operator' });
      return (log.body.items as Json[]).find((b) => b.kind === 'scheduled');
    };
    await vi.waitFor(
      async () =>
        expect((await scheduled())?.deliveries.map((d: { state: string }) => d.state)).toEqual([
          'playing',
          'playing',
        ]),
      { timeout: 20_000, interval: 250 },
    );

    socket = io(`${t.httpUrl}/live`, {
      path: '/socket.io',
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      extraHeaders: await t.headersFor('operator'),
    });
    const live = socket;
    await new Promise<void>((resolve, reject) => {
      live.once('connect', () => resolve());
      live.once('connect_error', reject);
    });
    const started = await new Promise<LiveStarted>((resolve, reject) =>
      live.emit(
        'live.start',
        {
          mode: 'broadcast',
          name: 'Báo bão khẩn cấp',
          level: 'emergency',
          targets: { clusterIds: ['hd-p1', 'hd-p2'], communeIds: [], villageIds: [], groupIds: [] },
          sampleRate: 16_000,
        },
        ((result) =>
          result.ok
            ? resolve(result.value)
            : reject(new Error(result.error.message))) as LiveAck<LiveStarted>,
      ),
    );
    // The operator talks in real time, as a microphone does.
    const talking = (async () => {
      for (const chunk of tone(4)) {
        live.emit('live.audio', chunk);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    await vi.waitFor(
      async () => {
        const talk = await t.api(`/api/v1/broadcasts/${started.broadcastId}`, { as: 'operator' });
        expect(talk.body.deliveries.map((d: { state: string }) => d.state)).toEqual(['playing', 'playing']);
        expect((await scheduled())?.deliveries.map((d: { state: string }) => d.state)).toEqual([
          'pre-empted',
          'pre-empted',
        ]);
      },
      { timeout: 15_000, interval: 250 },
    );
    await talking;
    // What the clusters decoded is the operator's 1 kHz, not the bulletin's 440 Hz.
    await vi.waitFor(() => {
      for (const id of ['hd-p1', 'hd-p2']) {
        const report = fleet?.get(id)?.streamReports().at(-1);
        expect(report?.broadcastId).toBe(started.broadcastId);
        expect(report?.decodedS).toBeGreaterThan(2.5);
        expect(Math.abs((report?.dominantHz ?? 0) - 1000)).toBeLessThan(50);
      }
    });
    // Technicians see how the stream plays on each cluster, from its heartbeats.
    await vi.waitFor(
      async () => {
        const cluster = await t.api('/api/v1/clusters/hd-p1', { as: 'technician' });
        expect(cluster.body.status.stream).toMatchObject({
          broadcastId: started.broadcastId,
          state: expect.stringMatching(/^(decoding|gap)$/),
          reconnects: 0,
        });
      },
      { timeout: 12_000, interval: 250 },
    );
    await new Promise<void>((resolve) => live.emit('live.stop', () => resolve()));
  }, 60_000);
});
