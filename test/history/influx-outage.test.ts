import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type InfluxStoreOptions, InfluxTelemetryStore } from '../../services/history/influx-store.js';
import { type TelemetryPoint, TelemetryUnavailableError } from '../../services/history/telemetry-store.js';
import { freshDatabase, Influxd, influxdSkipReason } from '../support/influxd.js';

const skip = influxdSkipReason();

/** Start of the test data: distinct millisecond timestamps from here identify every point. */
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);

interface LogEntry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function memoryLogger() {
  const entries: LogEntry[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => entries.push(JSON.parse(line)) });
  return {
    logger,
    entries,
    at: (level: number) => entries.filter((e) => e.level === level).map((e) => e.msg),
  };
}

function heartbeat(i: number, device = 'cum-1'): TelemetryPoint<'heartbeat'> {
  return {
    measurement: 'heartbeat',
    tags: { commune: 'Hướng Đạo', village: 'Thôn Đồng Sài', device, kind: 'speaker-cluster' },
    fields: { volume: i % 100, signal: -60 - (i % 30) },
    at: T0 + i,
  };
}

/** Retry fast so outages resolve in test time; everything else as configured in production. */
const fast = {
  flushIntervalMs: 20,
  minRetryDelayMs: 100,
  maxRetryDelayMs: 500,
} satisfies Partial<InfluxStoreOptions>;

describe.skipIf(skip !== null)(`InfluxDB outages (real influxd)${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let server: Influxd;
  const stores: InfluxTelemetryStore[] = [];
  const servers: Influxd[] = [];

  const open = (
    db: string,
    options: Partial<InfluxStoreOptions> & { logger: InfluxStoreOptions['logger'] },
  ) => {
    const store = new InfluxTelemetryStore({ url: server.url, api: 'v1', database: db, ...fast, ...options });
    stores.push(store);
    return store;
  };

  /** Every stored timestamp of a device's heartbeats, as offsets from T0. */
  const storedOffsets = async (s: Influxd, db: string) => {
    const [result] = await s.query(db, `SELECT "volume" FROM "heartbeat" WHERE "device" = 'cum-1'`);
    const rows = result?.series?.flatMap((series) => series.values ?? []) ?? [];
    return rows.map((row) => (row[0] as number) - T0);
  };

  const count = async (s: Influxd, db: string) => {
    const [n] = await s.column(db, 'SELECT count("volume") FROM "heartbeat"');
    return (n as number | undefined) ?? 0;
  };

  beforeAll(async () => {
    server = await Influxd.create();
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => s.cleanup()));
    // Tests that take the shared server away must leave it running for the next.
    await server.start();
  });

  afterAll(async () => {
    await server?.cleanup();
  });

  it('starts without InfluxDB, buffers, and writes everything once it appears', async () => {
    const late = await Influxd.create({ start: false });
    servers.push(late);
    const log = memoryLogger();
    const consoleError = vi.spyOn(console, 'error');
    const consoleWarn = vi.spyOn(console, 'warn');
    const db = freshDatabase('late');
    const store = new InfluxTelemetryStore({
      url: late.url,
      api: 'v1',
      database: db,
      logger: log.logger,
      batchSize: 100,
      ...fast,
    });
    stores.push(store);
    await store.start();
    expect(log.at(40).some((m) => m.includes('not answering at start'))).toBe(true);

    const n = 1000;
    store.write(Array.from({ length: n }, (_, i) => heartbeat(i)));
    await vi.waitFor(() => expect(store.stats().retried).toBeGreaterThan(0), { timeout: 5000 });
    expect(store.stats()).toMatchObject({ written: 0, buffered: n, dropped: 0 });
    expect(store.stats().lastError).toMatch(/ECONNREFUSED|fetch failed/);
    await expect(store.flush()).rejects.toBeInstanceOf(TelemetryUnavailableError);
    await expect(
      store.query({
        measurement: 'heartbeat',
        device: 'cum-1',
        field: 'volume',
        from: T0,
        to: T0 + n,
        limit: 10,
      }),
    ).rejects.toBeInstanceOf(TelemetryUnavailableError);

    await late.start();
    await vi.waitFor(() => expect(store.stats()).toMatchObject({ written: n, buffered: 0 }), {
      timeout: 15_000,
      interval: 20,
    });
    expect(store.stats().dropped).toBe(0);
    expect(store.stats().retried).toBeGreaterThan(0);
    expect(await count(late, db)).toBe(n);
    expect(log.at(30)).toContain('history writes to InfluxDB recovered');
    // The client's own console logging is routed into pino.
    expect(
      log.entries.some(
        (e) => e.level === 20 && e.msg.startsWith('influxdb-client: Write to InfluxDB failed'),
      ),
    ).toBe(true);
    expect(consoleError).not.toHaveBeenCalled();
    expect(consoleWarn).not.toHaveBeenCalled();
  });

  it('loses nothing when InfluxDB stops and restarts under steady load', async () => {
    const db = freshDatabase('restart');
    const log = memoryLogger();
    const store = open(db, { logger: log.logger, batchSize: 50 });
    await store.start();

    // Ten points every 5 ms, each with its own timestamp, until told to stop.
    let next = 0;
    const writer = setInterval(() => {
      store.write(Array.from({ length: 10 }, () => heartbeat(next++)));
    }, 5);
    const writtenBy = (n: number) =>
      vi.waitFor(() => expect(next).toBeGreaterThanOrEqual(n), { timeout: 10_000, interval: 5 });
    try {
      await vi.waitFor(() => expect(store.stats().written).toBeGreaterThan(200), {
        timeout: 10_000,
        interval: 5,
      });
      await server.stop();
      const atStop = next;
      await vi.waitFor(() => expect(store.stats().retried).toBeGreaterThan(0), {
        timeout: 10_000,
        interval: 5,
      });
      // /healthz reads these: failing since the outage, with its cause.
      expect(store.stats().failingSince).not.toBeNull();
      expect(store.stats().lastError).not.toBeNull();
      await writtenBy(atStop + 500);
      await server.start();
      await writtenBy(next + 300);
    } finally {
      clearInterval(writer);
    }
    const total = next;
    await vi.waitFor(() => expect(store.stats()).toMatchObject({ written: total, buffered: 0 }), {
      timeout: 20_000,
      interval: 20,
    });
    expect(store.stats().dropped).toBe(0);
    // Recovered: no longer failing, while the last error stays on record.
    expect(store.stats().failingSince).toBeNull();
    expect(store.stats().lastError).not.toBeNull();
    expect(log.at(40)).toContain('history writes to InfluxDB failing; retrying with backoff');
    const offsets = await storedOffsets(server, db);
    expect(offsets.length).toBe(total);
    expect(new Set(offsets)).toEqual(new Set(Array.from({ length: total }, (_, i) => i)));
  });

  it('keeps the newest points and counts the oldest as dropped when an outage outgrows the buffer', async () => {
    const db = freshDatabase('overflow');
    const log = memoryLogger();
    const maxBufferPoints = 1000;
    const batchSize = 100;
    const store = open(db, { logger: log.logger, maxBufferPoints, batchSize });
    await store.start();
    await server.stop();

    // A batch every 10 ms for half a second, so retries of the older batches (100–500 ms apart)
    // interleave with new ones as in a real outage. Each batch has failed before the next is
    // written: the retry buffer orders batches by expiry (first attempt + maxRetryTimeMs).
    const n = 5000;
    for (let i = 0; i < n; i += batchSize) {
      const before = store.stats().retried;
      store.write(Array.from({ length: batchSize }, (_, k) => heartbeat(i + k)));
      await vi.waitFor(() => expect(store.stats().retried).toBeGreaterThanOrEqual(before + batchSize), {
        timeout: 5000,
        interval: 2,
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(store.stats().dropped).toBeGreaterThan(0);
    expect(log.at(50)).toContain('history retry buffer full: oldest points dropped');

    await server.start();
    await vi.waitFor(() => expect(store.stats().buffered).toBe(0), { timeout: 20_000, interval: 20 });
    const { written, dropped } = store.stats();
    const offsets = await storedOffsets(server, db);
    expect(offsets.length).toBe(written);
    expect(written + dropped).toBe(n);
    expect(dropped).toBeGreaterThan(0);

    // The unit of loss is a whole batch, and a trim drops the batches that first failed longest
    // ago. A batch out on a retry while the buffer is trimmed escapes that trim, so not every lost
    // point need be older than every kept one. What is guaranteed: a trim stops once what is left
    // plus the incoming batch fits in 70 % of what was there (more than bound − batch), so the
    // newest batches within 0.7 × (bound − batch) − batch points always survive.
    const stored = new Set(offsets);
    const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !stored.has(i));
    expect(missing.length).toBe(dropped);
    for (let b = 0; b < n; b += batchSize) {
      const kept = Array.from({ length: batchSize }, (_, k) => stored.has(b + k));
      expect(new Set(kept).size, `batch at ${b} is kept or lost whole`).toBe(1);
    }
    const guaranteed = Math.floor((0.7 * (maxBufferPoints - batchSize) - batchSize) / batchSize) * batchSize;
    expect(guaranteed).toBe(500);
    expect(Math.max(...missing)).toBeLessThan(n - guaranteed);
    // And most of what was lost is old: the median lost point is older than the median kept one.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    expect(median(missing)).toBeLessThan(median(offsets));
  });

  it('counts a point InfluxDB refuses as dropped and writes the rest of its batch', async () => {
    const db = freshDatabase('conflict');
    await server.createDatabase(db);
    // `volume` first arrives as a float, so this shard refuses the store's integer volume.
    const raw = await server.writeLines(db, [`heartbeat,device=cum-old volume=55.5 ${T0 - 1000}`]);
    expect(raw.status).toBe(204);
    const log = memoryLogger();
    const store = open(db, { logger: log.logger, batchSize: 100 });
    await store.start();

    store.write([
      { ...heartbeat(0), fields: { signal: -70 } },
      heartbeat(1),
      { ...heartbeat(2), fields: { signal: -72 } },
    ]);
    await store.flush();
    expect(store.stats()).toMatchObject({ written: 2, dropped: 1, buffered: 0, retried: 0 });
    expect(store.stats().lastError).toMatch(/field type conflict/);
    expect(log.at(50).some((m) => m.startsWith('history points dropped: refused by InfluxDB'))).toBe(true);

    // Later batches are not held up by the refused one.
    store.write(Array.from({ length: 10 }, (_, i) => ({ ...heartbeat(10 + i), fields: { signal: -i } })));
    await store.flush();
    expect(store.stats()).toMatchObject({ written: 12, dropped: 1, buffered: 0 });
    const [signals] = await server.column(
      db,
      `SELECT count("signal") FROM "heartbeat" WHERE "device" = 'cum-1'`,
    );
    expect(signals).toBe(12);
  });

  it('creates the database again when it disappears while the store runs', async () => {
    const db = freshDatabase('dropped');
    const store = open(db, { logger: pino({ level: 'silent' }) });
    await store.start();
    store.write([heartbeat(0)]);
    await store.flush();
    await server.query(db, `DROP DATABASE "${db}"`);
    store.write([heartbeat(1), heartbeat(2)]);
    await store.flush();
    expect(store.stats()).toMatchObject({ written: 3, dropped: 0, buffered: 0 });
    expect(await count(server, db)).toBe(2);
  });

  it('gives up on points retried for longer than maxRetryTimeMs, counting them dropped', async () => {
    const db = freshDatabase('expired');
    const log = memoryLogger();
    const store = open(db, { logger: log.logger, batchSize: 100, maxRetryTimeMs: 300 });
    await store.start();
    await server.stop();
    store.write(Array.from({ length: 200 }, (_, i) => heartbeat(i)));
    await vi.waitFor(() => expect(store.stats()).toMatchObject({ dropped: 200, buffered: 0, written: 0 }), {
      timeout: 10_000,
      interval: 20,
    });
    expect(store.stats().retried).toBeGreaterThanOrEqual(200);
    expect(log.at(50)).toContain('history points dropped: retried for longer than maxRetryTimeMs');
  });

  it('counts what it could not write by close as dropped', async () => {
    const db = freshDatabase('close');
    const store = open(db, { logger: pino({ level: 'silent' }) });
    await store.start();
    await server.stop();
    store.write(Array.from({ length: 300 }, (_, i) => heartbeat(i)));
    await store.close();
    expect(store.stats()).toMatchObject({ written: 0, buffered: 0, dropped: 300 });
    store.write([heartbeat(301)]);
    expect(store.stats()).toMatchObject({ buffered: 0, dropped: 301 });
  });
});
