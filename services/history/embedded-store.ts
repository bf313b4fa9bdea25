import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { DomainError } from '../errors.js';
import { availabilityOf } from './availability.js';
import { PointBuffer } from './embedded-buffer.js';
import {
  type Prepare,
  presenceHistories,
  rawPoints,
  seriesOfDevice,
  windowedPoints,
} from './embedded-reads.js';
import { expire, rollUp } from './embedded-rollup.js';
import { encodeField, ensureSchema, HOUR_MS, isDownsampled, quote, rawTable } from './embedded-schema.js';
import { type FieldType, fieldsOf, MEASUREMENT_NAMES, type Measurement } from './measurements.js';
import { validateSeriesQuery } from './series-query.js';
import {
  type AvailabilityQuery,
  type DeviceAvailability,
  type SeriesQuery,
  type SeriesResult,
  type TelemetryPoint,
  type TelemetryStats,
  type TelemetryStore,
  TelemetryUnavailableError,
} from './telemetry-store.js';
import { type CheckpointResult, WalCheckpointer } from './wal-checkpointer.js';

export interface EmbeddedStoreOptions {
  /** The history's own SQLite file, apart from the platform database so its churn stays out of it. */
  file: string;
  /** Domain time: "now" for retention, and the hourly maintenance timer. */
  clock: Clock;
  logger: Logger;
  /** Days raw points are kept before downsampled measurements fold them into hourly rollups. */
  rawRetentionDays?: number;
  /** Days hourly rollups and measurements kept raw (presence) are kept; at least rawRetentionDays. */
  retentionDays?: number;
  /** Wall-clock batching interval: writing is I/O, not domain time. */
  flushIntervalMs?: number;
  /** A write that fills a batch flushes on the next turn of the event loop, not inside write(). */
  batchSize?: number;
  /** Beyond this many unwritten points the oldest are dropped. */
  maxBufferPoints?: number;
  /** Wall-clock interval of the background WAL checkpoint (see WalCheckpointer). */
  checkpointIntervalMs?: number;
  /**
   * How long a write waits for another connection's lock. Writes run on the event loop, so this
   * stays short: a busy file is retried on the next flush instead of stalling the broker.
   */
  busyTimeoutMs?: number;
}

const DAY_MS = 86_400_000;

/**
 * Background writes go in transactions of at most this many points, one per turn of the event
 * loop: a 5,000-point transaction held the broker's loop for about 30 ms, and at 20,000
 * heartbeats a second those pauses made the ingest latency's tail.
 */
const SLICE_POINTS = 1000;

interface Writer {
  fields: [string, FieldType][];
  insert: Database.Statement;
}

interface BatchOutcome {
  written: number;
  expired: number;
  rejected: number;
}

/**
 * The history store used when no InfluxDB is configured: one SQLite file in WAL mode, a wide
 * table per measurement keyed by (series, time), raw points aged into hourly rollups so a year
 * of a commune's heartbeats stays small and quick to chart.
 */
export class EmbeddedTelemetryStore implements TelemetryStore {
  readonly backend = 'embedded' as const;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly file: string;
  private readonly rawRetentionMs: number;
  private readonly retentionMs: number;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBufferPoints: number;
  private readonly busyTimeoutMs: number;

  private db: Database.Database | null = null;
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly writers = new Map<string, Writer>();
  private readonly seriesIds = new Map<string, number>();
  /**
   * The series key of a tags object, per measurement: the history recorder hands the same tags
   * object with every point of a device, so the key is not joined again for each heartbeat.
   */
  private readonly keysOfTags = new WeakMap<object, Map<string, string>>();
  private readonly buffer = new PointBuffer();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushSoon: NodeJS.Immediate | null = null;
  private maintenanceTimer: TimerHandle | null = null;

  private written = 0;
  private retried = 0;
  private dropped = 0;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  /** Set while writes fail, so an outage logs once when it starts and once when it ends. */
  private failingSince: number | null = null;
  /** Points dropped by the buffer bound since the current overflow began. */
  private overflowDropped = 0;
  private readonly checkpointIntervalMs: number;
  private checkpointer: WalCheckpointer | null = null;

  constructor(options: EmbeddedStoreOptions) {
    this.file = options.file;
    this.clock = options.clock;
    this.logger = options.logger.child({ component: 'history' });
    const rawDays = Math.max(1, options.rawRetentionDays ?? 31);
    this.rawRetentionMs = rawDays * DAY_MS;
    // Rollups younger than the raw retention would be deleted as soon as they were made.
    this.retentionMs = Math.max(rawDays, options.retentionDays ?? 400) * DAY_MS;
    this.flushIntervalMs = Math.max(10, options.flushIntervalMs ?? 1000);
    this.batchSize = Math.max(1, options.batchSize ?? 5000);
    this.maxBufferPoints = Math.max(1, options.maxBufferPoints ?? 100_000);
    this.busyTimeoutMs = Math.max(0, options.busyTimeoutMs ?? 200);
    this.checkpointIntervalMs = Math.max(10, options.checkpointIntervalMs ?? 2000);
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('the embedded history store was closed');
    if (this.db) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const db = new Database(this.file, { timeout: this.busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Checkpoints run in a worker thread instead of inside commits on the event loop.
      db.pragma('wal_autocheckpoint = 0');
      ensureSchema(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.checkpointer = new WalCheckpointer({
      file: this.file,
      intervalMs: this.checkpointIntervalMs,
      busyTimeoutMs: this.busyTimeoutMs,
      logger: this.logger,
    });
    for (const measurement of MEASUREMENT_NAMES) this.writers.set(measurement, this.writerFor(measurement));
    this.flushTimer = setInterval(() => this.scheduleFlush(), this.flushIntervalMs);
    this.flushTimer.unref();
    this.maintenanceTimer = this.clock.setInterval(() => this.maintain(), HOUR_MS);
    this.logger.info(
      {
        file: this.file,
        rawRetentionDays: this.rawRetentionMs / DAY_MS,
        retentionDays: this.retentionMs / DAY_MS,
      },
      'history store opened',
    );
    this.maintain();
    if (this.buffer.length >= this.sliceSize) this.scheduleFlush();
  }

  write(points: readonly TelemetryPoint[]): void {
    if (this.closed) {
      this.dropped += points.length;
      this.logger.warn({ points: points.length }, 'history points written after close were dropped');
      return;
    }
    this.buffer.push(points);
    const excess = this.buffer.length - this.maxBufferPoints;
    if (excess > 0) {
      this.buffer.drop(excess);
      this.dropped += excess;
      if (this.overflowDropped === 0) {
        this.logger.warn(
          { maxBufferPoints: this.maxBufferPoints },
          'history buffer full: dropping the oldest points until writes catch up',
        );
      }
      this.overflowDropped += excess;
    }
    if (this.buffer.length >= this.sliceSize) this.scheduleFlush();
  }

  async flush(): Promise<void> {
    this.open();
    if (!this.flushBuffered())
      throw new TelemetryUnavailableError(this.backend, this.lastError ?? 'write failed');
  }

  async query(query: SeriesQuery): Promise<SeriesResult> {
    validateSeriesQuery(query);
    return this.read(() => {
      const series = seriesOfDevice(this.prepare, query.measurement, query.device);
      if (series.length === 0) return { points: [], truncated: false };
      return query.window
        ? windowedPoints(this.prepare, query, query.window, series)
        : rawPoints(this.prepare, query, series);
    });
  }

  async availability(query: AvailabilityQuery): Promise<DeviceAvailability[]> {
    return this.read(() => {
      const histories = presenceHistories(this.prepare, query.devices, query.from, query.to);
      return query.devices.map((device) => {
        const history = histories.get(device) ?? { device, before: null, transitions: [] };
        return availabilityOf(history, query.from, query.to);
      });
    });
  }

  stats(): TelemetryStats {
    return {
      backend: this.backend,
      written: this.written,
      buffered: this.buffer.length,
      retried: this.retried,
      dropped: this.dropped,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      failingSince: this.failingSince,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    if (this.maintenanceTimer) this.clock.clearInterval(this.maintenanceTimer);
    this.flushTimer = null;
    this.flushSoon = null;
    this.maintenanceTimer = null;
    if (this.db) this.flushBuffered();
    const lost = this.buffer.length;
    if (lost > 0) {
      this.buffer.drop(lost);
      this.dropped += lost;
      this.logger.error({ points: lost, lastError: this.lastError }, 'history points lost at close');
    }
    this.statements.clear();
    // The checkpoint connection goes first, so closing the last one folds the log into the file.
    await this.checkpointer?.close();
    this.checkpointer = null;
    this.db?.close();
    this.db = null;
  }

  /** Checkpoints the write-ahead log now, in the background worker (tests and diagnostics). */
  checkpoint(): Promise<CheckpointResult> {
    if (!this.checkpointer) throw new TelemetryUnavailableError(this.backend, 'not started');
    return this.checkpointer.checkpoint();
  }

  private open(): Database.Database {
    if (!this.db) throw new TelemetryUnavailableError(this.backend, this.closed ? 'closed' : 'not started');
    return this.db;
  }

  private readonly prepare: Prepare = (sql) => {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.open().prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  };

  private read<T>(run: () => T): T {
    this.open();
    try {
      return run();
    } catch (err) {
      if (err instanceof DomainError) throw err;
      throw new TelemetryUnavailableError(this.backend, messageOf(err));
    }
  }

  private writerFor(measurement: Measurement): Writer {
    const fields = fieldsOf(measurement);
    const columns = fields.map(([name]) => quote(name));
    // Same series and time: fields merge and the later value wins, as in InfluxDB.
    const sql = `INSERT INTO ${rawTable(measurement)} (series, ts, ${columns.join(', ')})
      VALUES (?, ?, ${columns.map(() => '?').join(', ')})
      ON CONFLICT (series, ts) DO UPDATE SET ${columns.map((c) => `${c} = coalesce(excluded.${c}, ${c})`).join(', ')}`;
    return { fields, insert: this.prepare(sql) };
  }

  /** Points per background transaction: a batch, but never more than a slice. */
  private get sliceSize(): number {
    return Math.min(this.batchSize, SLICE_POINTS);
  }

  /** Writes the buffer in the background, one slice per turn of the event loop, until it is empty. */
  private scheduleFlush(): void {
    if (this.flushSoon || !this.db || this.buffer.length === 0) return;
    this.flushSoon = setImmediate(() => {
      this.flushSoon = null;
      // A failed slice stays buffered for the next interval, rather than being retried at once.
      if (this.flushBuffered(1)) this.scheduleFlush();
    });
  }

  /**
   * Writes up to `slices` slices of the buffer (all of it by default); false when a slice failed
   * (it and the rest stay buffered).
   */
  private flushBuffered(slices = Number.POSITIVE_INFINITY): boolean {
    if (!this.db) return false;
    const total: BatchOutcome = { written: 0, expired: 0, rejected: 0 };
    let ok = true;
    for (let n = 0; n < slices && this.buffer.length > 0; n++) {
      const batch = this.buffer.peek(this.sliceSize);
      const outcome = this.writeBatch(batch);
      if (!outcome) {
        ok = false;
        break;
      }
      this.buffer.drop(batch.length);
      total.written += outcome.written;
      total.expired += outcome.expired;
      total.rejected += outcome.rejected;
    }
    this.written += total.written;
    this.dropped += total.expired + total.rejected;
    if (total.expired > 0) {
      this.logger.warn({ points: total.expired }, 'history points older than the retention were dropped');
    }
    if (total.rejected > 0) {
      this.logger.warn(
        { points: total.rejected },
        'history points without a measurement, tags, time or fields were dropped',
      );
    }
    if (ok && this.failingSince !== null) {
      this.logger.info({ failingSince: this.failingSince, retried: this.retried }, 'history writes resumed');
      this.failingSince = null;
    }
    if (this.buffer.length === 0 && this.overflowDropped > 0) {
      this.logger.warn({ dropped: this.overflowDropped }, 'history buffer drained after an overflow');
      this.overflowDropped = 0;
    }
    return ok;
  }

  /** One transaction; null when SQLite refused it, having counted and logged why. */
  private writeBatch(batch: readonly TelemetryPoint[]): BatchOutcome | null {
    const db = this.open();
    const now = this.clock.now();
    const rawCutoff = floorHour(now - this.rawRetentionMs);
    const retentionCutoff = now - this.retentionMs;
    const outcome: BatchOutcome = { written: 0, expired: 0, rejected: 0 };
    const newSeries = new Map<string, number>();
    try {
      db.transaction(() => {
        for (const point of batch) {
          const writer = this.writers.get(point.measurement);
          const at = Math.round(point.at);
          if (!writer || !Number.isFinite(at) || !hasTags(point)) {
            outcome.rejected++;
            continue;
          }
          if (at < (isDownsampled(point.measurement) ? rawCutoff : retentionCutoff)) {
            outcome.expired++;
            continue;
          }
          const given = (point.fields ?? {}) as Record<string, unknown>;
          const values = writer.fields.map(([name, type]) => encodeField(type, given[name]));
          if (values.every((v) => v === null)) {
            outcome.rejected++;
            continue;
          }
          writer.insert.run(this.seriesId(point, newSeries), at, ...values);
          outcome.written++;
        }
      })();
    } catch (err) {
      this.retried += batch.length;
      this.lastError = messageOf(err);
      this.lastErrorAt = now;
      if (this.failingSince === null) {
        this.failingSince = now;
        this.logger.error(
          { err, buffered: this.buffer.length },
          'history write failed; retrying on the next flush',
        );
      } else {
        this.logger.debug({ err, buffered: this.buffer.length }, 'history write failed again');
      }
      return null;
    }
    // Only committed series ids may be cached: a rolled-back insert would leave a dangling id.
    for (const [key, id] of newSeries) this.seriesIds.set(key, id);
    return outcome;
  }

  private seriesId(point: TelemetryPoint, pending: Map<string, number>): number {
    const { commune, village, device, kind } = point.tags;
    let keys = this.keysOfTags.get(point.tags);
    if (!keys) {
      keys = new Map();
      this.keysOfTags.set(point.tags, keys);
    }
    let key = keys.get(point.measurement);
    if (key === undefined) {
      key = [point.measurement, commune, village, device, kind].join('\u0000');
      keys.set(point.measurement, key);
    }
    const known = this.seriesIds.get(key) ?? pending.get(key);
    if (known !== undefined) return known;
    const tags = [point.measurement, commune, village, device, kind];
    const id =
      (this.prepare(
        'SELECT id FROM series WHERE measurement = ? AND commune = ? AND village = ? AND device = ? AND kind = ?',
      )
        .pluck()
        .get(...tags) as number | undefined) ??
      (this.prepare(
        'INSERT INTO series (measurement, commune, village, device, kind) VALUES (?, ?, ?, ?, ?) RETURNING id',
      )
        .pluck()
        .get(...tags) as number);
    pending.set(key, id);
    return id;
  }

  /**
   * Folds complete hours past the raw retention into rollups and deletes what is past the
   * retention. Each step is cheap when nothing is due: every query is a key range per series.
   */
  private maintain(): void {
    if (!this.db) return;
    const db = this.db;
    const now = this.clock.now();
    const rawCutoff = floorHour(now - this.rawRetentionMs);
    const retentionCutoff = now - this.retentionMs;
    for (const measurement of MEASUREMENT_NAMES) {
      try {
        const downsampled = isDownsampled(measurement);
        const [folded, expired] = db.transaction((): [number, number] => [
          downsampled ? rollUp(this.prepare, measurement, rawCutoff) : 0,
          expire(this.prepare, measurement, downsampled, retentionCutoff),
        ])();
        if (folded > 0 || expired > 0) {
          this.logger.debug({ measurement, folded, expired }, 'history maintenance');
        }
      } catch (err) {
        this.lastError = messageOf(err);
        this.lastErrorAt = now;
        this.logger.error({ err, measurement }, 'history maintenance failed; retrying in an hour');
      }
    }
  }
}

function floorHour(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

function hasTags(point: TelemetryPoint): boolean {
  const t = point.tags as unknown as Partial<Record<string, unknown>> | undefined;
  return (
    typeof t?.commune === 'string' &&
    typeof t.village === 'string' &&
    typeof t.device === 'string' &&
    typeof t.kind === 'string'
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
