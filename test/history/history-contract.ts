import { afterEach, describe, expect, it } from 'vitest';
import type {
  TelemetryPoint,
  TelemetryStore,
  TelemetryTags,
} from '../../services/history/telemetry-store.js';
import { TelemetryQueryError } from '../../services/history/telemetry-store.js';
import { ManualClock } from '../support/manual-clock.js';

export interface ContractTarget {
  label: string;
  /** A fresh, isolated, started store; the suite closes it. */
  open(options: { clock: ManualClock }): Promise<TelemetryStore>;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** A whole UTC day, so hour and day buckets line up with the data. */
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);

const tagsFor = (device: string, village = 'Thôn Đồng Sài'): TelemetryTags => ({
  commune: 'Hướng Đạo',
  village,
  device,
  kind: 'speaker-cluster',
});

function heartbeat(
  device: string,
  at: number,
  fields: TelemetryPoint<'heartbeat'>['fields'],
  village?: string,
) {
  return {
    measurement: 'heartbeat',
    tags: tagsFor(device, village),
    fields,
    at,
  } satisfies TelemetryPoint<'heartbeat'>;
}

function presence(device: string, at: number, online: boolean, reason = online ? 'connect' : 'will') {
  return {
    measurement: 'presence',
    tags: tagsFor(device),
    fields: { online, reason },
    at,
  } satisfies TelemetryPoint<'presence'>;
}

/**
 * What every history backend must do the same way: the embedded store, InfluxDB 1.x and
 * InfluxDB 2.x/3.x all run this suite, so the API answers alike whichever is configured.
 */
export function describeTelemetryContract(target: ContractTarget): void {
  describe(`history store contract: ${target.label}`, () => {
    let store: TelemetryStore | null = null;
    const open = async () => {
      // Two days after the data: inside every store's raw retention.
      const clock = new ManualClock(T0 + 2 * 24 * HOUR);
      store = await target.open({ clock });
      return store;
    };

    afterEach(async () => {
      await store?.close();
      store = null;
    });

    it('returns the raw points written, ascending, with each field type intact', async () => {
      const s = await open();
      // Written out of order: stores must return time order regardless.
      s.write([
        heartbeat('cum-7', T0 + 2 * MINUTE, { signal: -71.5, volume: 60, playing: true, temperature: 41.25 }),
        heartbeat('cum-7', T0, { signal: -67, volume: 55, playing: false, temperature: 39 }),
        heartbeat('cum-7', T0 + MINUTE, { signal: -69, volume: 58, playing: false, temperature: 40.5 }),
      ]);
      await s.flush();
      const at = (field: string) =>
        s.query({ measurement: 'heartbeat', device: 'cum-7', field, from: T0, to: T0 + HOUR, limit: 100 });
      expect(await at('signal')).toEqual({
        points: [
          { at: T0, value: -67 },
          { at: T0 + MINUTE, value: -69 },
          { at: T0 + 2 * MINUTE, value: -71.5 },
        ],
        truncated: false,
      });
      expect((await at('volume')).points.map((p) => p.value)).toEqual([55, 58, 60]);
      expect((await at('playing')).points.map((p) => p.value)).toEqual([0, 0, 1]);
      expect((await at('temperature')).points.map((p) => p.value)).toEqual([39, 40.5, 41.25]);
      expect(s.stats()).toMatchObject({ written: 3, buffered: 0, dropped: 0 });
    });

    it('keeps devices apart and leaves out points without the field', async () => {
      const s = await open();
      s.write([
        heartbeat('cum-1', T0, { signal: -60, power: true }),
        heartbeat('cum-1', T0 + MINUTE, { signal: -61 }),
        heartbeat('cum-2', T0, { signal: -90, power: false }),
      ]);
      await s.flush();
      const power = await s.query({
        measurement: 'heartbeat',
        device: 'cum-1',
        field: 'power',
        from: T0,
        to: T0 + HOUR,
        limit: 10,
      });
      expect(power.points).toEqual([{ at: T0, value: 1 }]);
      const other = await s.query({
        measurement: 'heartbeat',
        device: 'cum-2',
        field: 'signal',
        from: T0,
        to: T0 + HOUR,
        limit: 10,
      });
      expect(other.points).toEqual([{ at: T0, value: -90 }]);
      const none = await s.query({
        measurement: 'heartbeat',
        device: 'cum-3',
        field: 'signal',
        from: T0,
        to: T0 + HOUR,
        limit: 10,
      });
      expect(none).toEqual({ points: [], truncated: false });
    });

    it('treats from as inclusive and to as exclusive, and says when a limit cut the answer', async () => {
      const s = await open();
      s.write(Array.from({ length: 10 }, (_, i) => heartbeat('cum-4', T0 + i * MINUTE, { volume: i })));
      await s.flush();
      const q = { measurement: 'heartbeat' as const, device: 'cum-4', field: 'volume' };
      const slice = await s.query({ ...q, from: T0 + 2 * MINUTE, to: T0 + 5 * MINUTE, limit: 100 });
      expect(slice.points.map((p) => p.value)).toEqual([2, 3, 4]);
      const first = await s.query({ ...q, from: T0, to: T0 + HOUR, limit: 4 });
      expect(first).toEqual({
        points: [0, 1, 2, 3].map((v) => ({ at: T0 + v * MINUTE, value: v })),
        truncated: true,
      });
      // Paging on from the last point returned gives the rest, with nothing lost or repeated.
      const rest = await s.query({ ...q, from: T0 + 3 * MINUTE + 1, to: T0 + HOUR, limit: 100 });
      expect(rest.points.map((p) => p.value)).toEqual([4, 5, 6, 7, 8, 9]);
      expect(rest.truncated).toBe(false);
    });

    it('aggregates windows like InfluxQL GROUP BY time, leaving empty windows out', async () => {
      const s = await open();
      // Ten-minute windows: 0–9 min holds 1,2,3; 10–19 holds 10; 20–29 is empty; 30–39 holds 4,8.
      const values: [number, number][] = [
        [0, 1],
        [3, 2],
        [9, 3],
        [10, 10],
        [31, 4],
        [35, 8],
      ];
      s.write(values.map(([m, v]) => heartbeat('cum-5', T0 + m * MINUTE, { signal: -v, volume: v })));
      await s.flush();
      const windowed = (agg: 'mean' | 'min' | 'max' | 'first' | 'last' | 'count' | 'sum', field = 'volume') =>
        s
          .query({
            measurement: 'heartbeat',
            device: 'cum-5',
            field,
            from: T0,
            to: T0 + HOUR,
            window: { ms: 10 * MINUTE, offsetMs: 0, agg },
            limit: 100,
          })
          .then((r) => r.points.map((p) => [(p.at - T0) / MINUTE, p.value]));
      expect(await windowed('mean')).toEqual([
        [0, 2],
        [10, 10],
        [30, 6],
      ]);
      expect(await windowed('min')).toEqual([
        [0, 1],
        [10, 10],
        [30, 4],
      ]);
      expect(await windowed('max', 'signal')).toEqual([
        [0, -1],
        [10, -10],
        [30, -4],
      ]);
      expect(await windowed('first')).toEqual([
        [0, 1],
        [10, 10],
        [30, 4],
      ]);
      expect(await windowed('last')).toEqual([
        [0, 3],
        [10, 10],
        [30, 8],
      ]);
      expect(await windowed('count')).toEqual([
        [0, 3],
        [10, 1],
        [30, 2],
      ]);
      expect(await windowed('sum')).toEqual([
        [0, 6],
        [10, 10],
        [30, 12],
      ]);
    });

    it('aligns day windows to local midnight with an offset', async () => {
      const s = await open();
      // Hà Nội is UTC+7, so its days start at 17:00 UTC: an offset of 17 h (−7 h) on a 1-day window.
      const localMidnight = 17 * HOUR;
      // 16:30 UTC is 23:30 in Hà Nội (day one); 17:30 and 20:00 UTC are the next local day.
      s.write([
        heartbeat('cum-6', T0 + 16 * HOUR + 30 * MINUTE, { volume: 10 }),
        heartbeat('cum-6', T0 + 17 * HOUR + 30 * MINUTE, { volume: 30 }),
        heartbeat('cum-6', T0 + 20 * HOUR, { volume: 50 }),
      ]);
      await s.flush();
      const days = await s.query({
        measurement: 'heartbeat',
        device: 'cum-6',
        field: 'volume',
        from: T0,
        to: T0 + 2 * 24 * HOUR,
        window: { ms: 24 * HOUR, offsetMs: localMidnight, agg: 'mean' },
        limit: 10,
      });
      expect(days.points).toEqual([
        { at: T0 - 24 * HOUR + localMidnight, value: 10 },
        { at: T0 + localMidnight, value: 40 },
      ]);
    });

    it('stores tags with Vietnamese names, spaces, commas and equals signs, and finds the device by id', async () => {
      const s = await open();
      const awkward = 'Thôn Hữu Thủ, xóm = Giữa \\';
      s.write([
        heartbeat('cum-8', T0, { signal: -50 }, awkward),
        heartbeat('cum-8', T0 + MINUTE, { signal: -52 }, 'Thôn Bình Hòa'),
      ]);
      await s.flush();
      expect(s.stats()).toMatchObject({ written: 2, dropped: 0 });
      // The device moved village between the two points: both series answer for the device.
      const r = await s.query({
        measurement: 'heartbeat',
        device: 'cum-8',
        field: 'signal',
        from: T0,
        to: T0 + HOUR,
        limit: 10,
      });
      expect(r.points).toEqual([
        { at: T0, value: -50 },
        { at: T0 + MINUTE, value: -52 },
      ]);
    });

    it('keeps the later of two writes for the same device and time', async () => {
      const s = await open();
      s.write([heartbeat('cum-9', T0, { volume: 10 })]);
      await s.flush();
      s.write([heartbeat('cum-9', T0, { volume: 20 })]);
      await s.flush();
      const r = await s.query({
        measurement: 'heartbeat',
        device: 'cum-9',
        field: 'volume',
        from: T0,
        to: T0 + HOUR,
        limit: 10,
      });
      expect(r.points).toEqual([{ at: T0, value: 20 }]);
    });

    it('reports availability from presence transitions, with unknown time before the first', async () => {
      const s = await open();
      s.write([
        // cum-a: online before the range, offline 10:00–11:00, online again.
        presence('cum-a', T0 - 5 * HOUR, true),
        presence('cum-a', T0 + 10 * HOUR, false),
        presence('cum-a', T0 + 11 * HOUR, true),
        // cum-b: first heard of at 06:00 (installed then), offline from 18:00 to the range's end.
        presence('cum-b', T0 + 6 * HOUR, true),
        presence('cum-b', T0 + 18 * HOUR, false, 'heartbeat-timeout'),
        // Outside the range: must not count.
        presence('cum-a', T0 + 30 * HOUR, false),
      ]);
      await s.flush();
      const report = await s.availability({
        devices: ['cum-b', 'cum-a', 'cum-none'],
        from: T0,
        to: T0 + 24 * HOUR,
      });
      expect(report).toEqual([
        { device: 'cum-b', onlineMs: 12 * HOUR, offlineMs: 6 * HOUR, unknownMs: 6 * HOUR },
        { device: 'cum-a', onlineMs: 23 * HOUR, offlineMs: HOUR, unknownMs: 0 },
        { device: 'cum-none', onlineMs: 0, offlineMs: 0, unknownMs: 24 * HOUR },
      ]);
    });

    it('refuses a query for a field it does not have, naming the field', async () => {
      const s = await open();
      const bad = s.query({
        measurement: 'heartbeat',
        device: 'cum-1',
        field: 'humidity',
        from: T0,
        to: T0 + HOUR,
        limit: 10,
      });
      await expect(bad).rejects.toBeInstanceOf(TelemetryQueryError);
      await expect(bad).rejects.toMatchObject({ details: { field: 'field' } });
    });

    it('writes a few thousand points in batches and counts every one', async () => {
      const s = await open();
      const n = 12_000;
      const points = Array.from({ length: n }, (_, i) =>
        heartbeat(`cum-${i % 12}`, T0 + Math.floor(i / 12) * 1000, { signal: -(i % 90), volume: i % 100 }),
      );
      s.write(points.slice(0, n / 2));
      s.write(points.slice(n / 2));
      await s.flush();
      expect(s.stats()).toMatchObject({ written: n, buffered: 0, dropped: 0 });
      const counted = await s.query({
        measurement: 'heartbeat',
        device: 'cum-3',
        field: 'volume',
        from: T0,
        to: T0 + HOUR,
        window: { ms: HOUR, offsetMs: 0, agg: 'count' },
        limit: 10,
      });
      expect(counted.points).toEqual([{ at: T0, value: n / 12 }]);
    });
  });
}
