import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AGGREGATES } from '../../contracts/history.js';
import { type EmbeddedStoreOptions, EmbeddedTelemetryStore } from '../../services/history/embedded-store.js';
import {
  type SeriesQuery,
  type SeriesWindow,
  type TelemetryPoint,
  TelemetryUnavailableError,
} from '../../services/history/telemetry-store.js';
import { ManualClock } from '../support/manual-clock.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 1);

const dir = mkdtempSync(join(tmpdir(), 'history-embedded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const stores: EmbeddedTelemetryStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A started store on a fresh file; its real flush timer is out of the way so tests flush explicitly. */
async function openStore(clock: ManualClock, options: Partial<EmbeddedStoreOptions> = {}) {
  const store = new EmbeddedTelemetryStore({
    file: join(dir, `history-${++files}.sqlite`),
    clock,
    logger: pino({ level: 'silent' }),
    flushIntervalMs: HOUR,
    ...options,
  });
  stores.push(store);
  await store.start();
  return store;
}

function heartbeat(
  device: string,
  at: number,
  fields: TelemetryPoint<'heartbeat'>['fields'],
  village = 'Thôn Đồng Sài',
): TelemetryPoint<'heartbeat'> {
  return {
    measurement: 'heartbeat',
    tags: { commune: 'Hướng Đạo', village, device, kind: 'speaker-cluster' },
    fields,
    at,
  };
}

function presence(device: string, at: number, online: boolean): TelemetryPoint<'presence'> {
  return {
    measurement: 'presence',
    tags: { commune: 'Hướng Đạo', village: 'Thôn Đồng Sài', device, kind: 'speaker-cluster' },
    fields: { online, reason: online ? 'connect' : 'will' },
    at,
  };
}

/** A cluster's heartbeats every 30 s with uneven values, temperature on every third only. */
function heartbeats(device: string, from: number, to: number, village?: (at: number) => string) {
  const points: TelemetryPoint<'heartbeat'>[] = [];
  for (let at = from, i = 0; at < to; at += 30_000, i++) {
    const fields = {
      signal: -60 - ((i * 7) % 23) / 4,
      volume: (i * 37) % 101,
      ...(i % 3 === 0 ? { temperature: 35 + ((i * 13) % 50) / 10 } : {}),
    };
    points.push(heartbeat(device, at + (i % 7) * 1000, fields, village?.(at)));
  }
  return points;
}

/** What a real cluster sends every 30 s: every field, rounded as the firmware rounds them. */
function fullHeartbeats(device: string, from: number, to: number) {
  const points: TelemetryPoint<'heartbeat'>[] = [];
  for (let at = from; at < to; at += 30_000) {
    const i = at / 30_000;
    points.push(
      heartbeat(device, at, {
        signal: -60 - (i % 25),
        volume: 60,
        uptime: (at - T0) / 1000,
        temperature: 35 + (i % 100) / 10,
        supply_voltage: 12 + (i % 50) / 100,
        speakers_ok: 4,
        speakers_total: 4,
        playing: i % 20 === 0,
        power: true,
      }),
    );
  }
  return points;
}

const windowed = (field: string, from: number, to: number, window: SeriesWindow): SeriesQuery => ({
  measurement: 'heartbeat',
  device: 'cum-1',
  field,
  from,
  to,
  window,
  limit: 10_000,
});

describe('embedded history store', () => {
  it('answers whole-hour windows over downsampled data exactly as it did from the raw points', async () => {
    const clock = new ManualClock(T0 + 4 * DAY);
    const store = await openStore(clock, { rawRetentionDays: 5 });
    // The device moves village at 06:15 on day one: its hour 06:00 spans two series.
    store.write(
      heartbeats('cum-1', T0, T0 + 4 * DAY, (at) => (at < T0 + 6 * HOUR + 15 * MINUTE ? 'Thôn A' : 'Thôn B')),
    );
    store.write(heartbeats('cum-2', T0, T0 + 4 * DAY));
    await store.flush();

    const windows: SeriesWindow[] = AGGREGATES.flatMap((agg) => [
      { ms: HOUR, offsetMs: 0, agg },
      { ms: DAY, offsetMs: 0, agg },
      { ms: DAY, offsetMs: 17 * HOUR, agg },
      { ms: 3 * HOUR, offsetMs: HOUR, agg },
    ]);
    const ask = () =>
      Promise.all(
        windows.flatMap((w) =>
          ['volume', 'signal', 'temperature'].map((field) =>
            store.query(windowed(field, T0, T0 + 4 * DAY, w)).then((r) => r.points),
          ),
        ),
      );
    const before = await ask();
    expect(before.every((points) => points.length > 0)).toBe(true);

    // Raw retention now ends at 12:00 on day one, so that day's windows straddle both sources.
    clock.advance(DAY + 12 * HOUR);
    const after = await ask();
    expect(after.map((points) => points.length)).toEqual(before.map((points) => points.length));
    after.forEach((points, i) => {
      points.forEach((p, j) => {
        const expected = before[i]?.[j];
        expect(p.at).toBe(expected?.at);
        expect(p.value).toBeCloseTo(expected?.value ?? Number.NaN, 9);
      });
    });

    const raw = (from: number, to: number) =>
      store.query({ measurement: 'heartbeat', device: 'cum-1', field: 'volume', from, to, limit: 10_000 });
    expect((await raw(T0, T0 + 12 * HOUR)).points).toEqual([]);
    expect((await raw(T0 + 12 * HOUR, T0 + 13 * HOUR)).points).toHaveLength(120);
    // Windows that are not whole hours cannot be built from hourly rollups: only raw data answers.
    const halfHours = await store.query(
      windowed('volume', T0, T0 + DAY, { ms: 30 * MINUTE, offsetMs: 0, agg: 'count' }),
    );
    expect(halfHours.points[0]?.at).toBe(T0 + 12 * HOUR);
    expect(halfHours.points).toHaveLength(24);
  });

  it('deletes hourly rollups and raw presence once they pass the retention', async () => {
    const clock = new ManualClock(T0 + DAY);
    const store = await openStore(clock, { rawRetentionDays: 1, retentionDays: 3 });
    store.write(heartbeats('cum-1', T0, T0 + DAY));
    store.write([presence('cum-1', T0 + HOUR, true)]);
    await store.flush();
    const hours = async () =>
      (await store.query(windowed('volume', T0, T0 + DAY, { ms: HOUR, offsetMs: 0, agg: 'count' }))).points
        .length;
    const availability = async () =>
      (await store.availability({ devices: ['cum-1'], from: T0 + 2 * HOUR, to: T0 + 3 * HOUR }))[0];

    clock.advance(2 * DAY);
    expect(await hours()).toBe(24);
    expect(await availability()).toMatchObject({ onlineMs: HOUR });

    clock.advance(12 * HOUR);
    expect(await hours()).toBe(12);
    expect(await availability()).toMatchObject({ onlineMs: 0, unknownMs: HOUR });

    clock.advance(12 * HOUR);
    expect(await hours()).toBe(0);
  });

  it('keeps the file near the size of the raw retention plus the rollups, however long it runs', async () => {
    // 40 days of three clusters at a 30 s interval: 31 days stay raw, 9 have become hourly rows.
    const devices = ['cum-1', 'cum-2', 'cum-3'];
    const clock = new ManualClock(T0);
    const store = await openStore(clock, { rawRetentionDays: 31 });
    const file = join(dir, `history-${files}.sqlite`);
    for (let hour = 0; hour < 40 * 24; hour++) {
      const start = T0 + hour * HOUR;
      for (const device of devices) store.write(fullHeartbeats(device, start, start + HOUR));
      await store.flush();
      clock.advance(HOUR);
    }
    expect(store.stats()).toMatchObject({ written: 40 * 2880 * 3, dropped: 0 });
    await store.close();

    const rawRows = 31 * 2880 * devices.length;
    const rollupRows = 9 * 24 * devices.length;
    // Measured: 49 bytes per raw row (a ~40-byte record plus B-tree cell and page-fill overhead)
    // and 191 per hourly row (54 aggregate columns); for 18 clusters that is ~80 MB of raw
    // points and ~30 MB of rollups per year. The bound is below the ~17 MB that 40 raw days
    // would take, so it only holds while pages freed by the rollup are reused.
    const bound = rawRows * 56 + rollupRows * 220 + 256 * 1024;
    const size = statSync(file).size;
    expect(size).toBeLessThan(bound);
    // And the file measured is the one holding the data.
    expect(size).toBeGreaterThan(rawRows * 40);
  });

  it('drops the oldest points beyond the buffer bound and counts each one', async () => {
    const clock = new ManualClock(T0 + HOUR);
    const store = await openStore(clock, { maxBufferPoints: 10 });
    store.write(Array.from({ length: 15 }, (_, i) => heartbeat('cum-1', T0 + i * MINUTE, { volume: i })));
    expect(store.stats()).toMatchObject({ buffered: 10, dropped: 5, written: 0 });
    await store.flush();
    expect(store.stats()).toMatchObject({ buffered: 0, dropped: 5, written: 10 });
    const r = await store.query({
      measurement: 'heartbeat',
      device: 'cum-1',
      field: 'volume',
      from: T0,
      to: T0 + HOUR,
      limit: 100,
    });
    expect(r.points.map((p) => p.value)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('keeps the write-ahead log short by checkpointing outside the writer, and folds it in at close', async () => {
    const clock = new ManualClock(T0 + 2 * DAY);
    // The background interval is out of the way: the test asks for each checkpoint itself.
    const store = await openStore(clock, { checkpointIntervalMs: HOUR });
    const file = (store as unknown as { file: string }).file;
    const walBytes = () => statSync(`${file}-wal`).size;
    const round = async (day: number) => {
      store.write(heartbeats(`cum-${day}`, T0 + day * HOUR, T0 + (day + 1) * HOUR));
      await store.flush();
    };
    await round(0);
    expect(walBytes()).toBeGreaterThan(0);
    // Nothing folds the log back on its own: the writer's automatic checkpoints are off.
    await round(1);
    const grown = walBytes();
    expect(grown).toBeGreaterThan(0);
    const done = await store.checkpoint();
    expect(done.busy).toBe(0);
    expect(done.checkpointed).toBe(done.log);
    // Once checkpointed, the writer starts the log over instead of growing it.
    for (let day = 2; day < 8; day++) {
      await round(day);
      expect((await store.checkpoint()).checkpointed).toBeGreaterThan(0);
    }
    expect(walBytes()).toBeLessThanOrEqual(grown);
    const count = await store.query({
      measurement: 'heartbeat',
      device: 'cum-7',
      field: 'signal',
      from: T0,
      to: T0 + 9 * HOUR,
      limit: 1000,
    });
    expect(count.points.length).toBe(120);

    await store.close();
    expect(() => statSync(`${file}-wal`)).toThrow();
  });

  it('never writes inside write(), and flushes a full batch on the next turn of the event loop', async () => {
    const clock = new ManualClock(T0 + HOUR);
    const store = await openStore(clock, { batchSize: 5 });
    const points = Array.from({ length: 5 }, (_, i) => heartbeat('cum-1', T0 + i * MINUTE, { volume: i }));
    store.write(points.slice(0, 4));
    await new Promise(setImmediate);
    expect(store.stats()).toMatchObject({ buffered: 4, written: 0 });
    store.write(points.slice(4));
    expect(store.stats()).toMatchObject({ buffered: 5, written: 0 });
    await new Promise(setImmediate);
    expect(store.stats()).toMatchObject({ buffered: 0, written: 5 });
  });

  it('keeps points buffered while another connection holds the write lock, then writes each once', async () => {
    const clock = new ManualClock(T0 + HOUR);
    const store = await openStore(clock, { busyTimeoutMs: 0 });
    const locker = new Database(join(dir, `history-${files}.sqlite`));
    try {
      locker.exec('BEGIN EXCLUSIVE');
      store.write([1, 2, 3].map((i) => heartbeat('cum-1', T0 + i * MINUTE, { volume: i })));
      await expect(store.flush()).rejects.toBeInstanceOf(TelemetryUnavailableError);
      await expect(store.flush()).rejects.toBeInstanceOf(TelemetryUnavailableError);
      expect(store.stats()).toMatchObject({ buffered: 3, retried: 6, written: 0, dropped: 0 });
      expect(store.stats().lastError).toMatch(/locked/);
      expect(store.stats().lastErrorAt).toBe(clock.now());
      locker.exec('ROLLBACK');
    } finally {
      locker.close();
    }
    await store.flush();
    expect(store.stats()).toMatchObject({ buffered: 0, retried: 6, written: 3, dropped: 0 });
    const r = await store.query(windowed('volume', T0, T0 + HOUR, { ms: HOUR, offsetMs: 0, agg: 'count' }));
    expect(r.points).toEqual([{ at: T0, value: 3 }]);
  });

  it('counts what it cannot write at close as dropped', async () => {
    const clock = new ManualClock(T0 + HOUR);
    const store = await openStore(clock, { busyTimeoutMs: 0 });
    const locker = new Database(join(dir, `history-${files}.sqlite`));
    try {
      locker.exec('BEGIN EXCLUSIVE');
      store.write([heartbeat('cum-1', T0, { volume: 1 }), heartbeat('cum-1', T0 + MINUTE, { volume: 2 })]);
      await store.close();
      expect(store.stats()).toMatchObject({ buffered: 0, written: 0, dropped: 2 });
    } finally {
      locker.close();
    }
  });

  it('keeps its history across close and reopen', async () => {
    const clock = new ManualClock(T0 + HOUR);
    const first = await openStore(clock);
    const file = join(dir, `history-${files}.sqlite`);
    first.write([heartbeat('cum-1', T0, { volume: 1 })]);
    await first.close();

    const second = new EmbeddedTelemetryStore({
      file,
      clock,
      logger: pino({ level: 'silent' }),
      flushIntervalMs: HOUR,
    });
    stores.push(second);
    await second.start();
    second.write([heartbeat('cum-1', T0 + MINUTE, { volume: 2 })]);
    await second.flush();
    const r = await second.query({
      measurement: 'heartbeat',
      device: 'cum-1',
      field: 'volume',
      from: T0,
      to: T0 + HOUR,
      limit: 10,
    });
    expect(r.points).toEqual([
      { at: T0, value: 1 },
      { at: T0 + MINUTE, value: 2 },
    ]);
  });

  it('drops and counts late points past the retention, raw for heartbeats and full for presence', async () => {
    const clock = new ManualClock(T0 + 500 * DAY);
    const now = clock.now();
    const store = await openStore(clock, { rawRetentionDays: 31, retentionDays: 400 });
    store.write([
      heartbeat('cum-1', now - 32 * DAY, { volume: 1 }),
      heartbeat('cum-1', now - 30 * DAY, { volume: 2 }),
      presence('cum-1', now - 401 * DAY, true),
      presence('cum-1', now - 100 * DAY, false),
    ]);
    await store.flush();
    expect(store.stats()).toMatchObject({ written: 2, dropped: 2, buffered: 0 });
    const [cum1] = await store.availability({ devices: ['cum-1'], from: now - DAY, to: now });
    expect(cum1).toMatchObject({ offlineMs: DAY });
  });

  it('merges a later point at the same time field by field, as InfluxDB does', async () => {
    const clock = new ManualClock(T0 + HOUR);
    const store = await openStore(clock);
    store.write([heartbeat('cum-1', T0, { volume: 10, signal: -70 })]);
    await store.flush();
    store.write([heartbeat('cum-1', T0, { signal: -50 })]);
    await store.flush();
    const at = (field: string) =>
      store
        .query({ measurement: 'heartbeat', device: 'cum-1', field, from: T0, to: T0 + HOUR, limit: 10 })
        .then((r) => r.points);
    expect(await at('volume')).toEqual([{ at: T0, value: 10 }]);
    expect(await at('signal')).toEqual([{ at: T0, value: -50 }]);
  });

  it('takes the state before the range from any of the device’s series', async () => {
    const clock = new ManualClock(T0 + 2 * DAY);
    const store = await openStore(clock);
    const moved = { ...presence('cum-1', T0 + 12 * HOUR, false) };
    moved.tags = { ...moved.tags, village: 'Thôn Bình Hòa' };
    store.write([presence('cum-1', T0, true), moved, presence('cum-2', T0 - HOUR, false)]);
    await store.flush();
    const report = await store.availability({
      devices: ['cum-2', 'cum-1'],
      from: T0 + DAY,
      to: T0 + 2 * DAY,
    });
    expect(report).toEqual([
      { device: 'cum-2', onlineMs: 0, offlineMs: DAY, unknownMs: 0 },
      { device: 'cum-1', onlineMs: 0, offlineMs: DAY, unknownMs: 0 },
    ]);
  });
});
