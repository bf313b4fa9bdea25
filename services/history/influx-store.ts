import { HttpError, InfluxDB, type WriteApi, type WriteOptions } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { availabilityOf, type PresenceHistory, type PresenceTransition } from './availability.js';
import { routeClientLog } from './influx-client-log.js';
import { InfluxHttp, InfluxRequestError, type InfluxSeries, reasonOf } from './influx-http.js';
import { toLineProtocol } from './influx-line-protocol.js';
import { InfluxWriteTransport } from './influx-write-transport.js';
import {
  createDatabaseStatement,
  type InfluxTarget,
  parseTarget,
  presenceBeforeStatement,
  presenceTransitionsStatement,
  seriesStatement,
} from './influxql.js';
import { validateSeriesQuery } from './series-query.js';
import {
  type AvailabilityQuery,
  type DeviceAvailability,
  type SeriesQuery,
  type SeriesResult,
  type TelemetryBackend,
  type TelemetryPoint,
  type TelemetryStats,
  type TelemetryStore,
  TelemetryUnavailableError,
} from './telemetry-store.js';

export interface InfluxStoreOptions {
  url: string;
  /** `v1`: InfluxDB 1.x (`/write`); `v2`: InfluxDB 2.x or 3.x (`/api/v2/write`). Both read InfluxQL on `/query`. */
  api: 'v1' | 'v2';
  /** The 1.x database (`db` or `db/rp`), or the 2.x/3.x bucket. */
  database: string;
  /** The 2.x organisation; 1.x and 3.x ignore it. */
  org?: string;
  /** 2.x/3.x: an API token. 1.x: optional `user:password`. */
  token?: string;
  logger: Logger;
  /** Points per write request. */
  batchSize?: number;
  /** A batch that is not full goes out after this long. */
  flushIntervalMs?: number;
  /** Points kept for retry while InfluxDB is unreachable; beyond it the oldest are dropped. */
  maxBufferPoints?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** How long a point is retried before it is given up on. */
  maxRetryTimeMs?: number;
  requestTimeoutMs?: number;
  /** 1.x only: `CREATE DATABASE` (idempotent) at start and whenever a write finds it missing. */
  createDatabase?: boolean;
}

type Settings = Required<Omit<InfluxStoreOptions, 'org' | 'token' | 'logger'>> & {
  org: string;
  token: string;
};

const DEFAULTS = {
  batchSize: 5000,
  flushIntervalMs: 1000,
  maxBufferPoints: 100_000,
  minRetryDelayMs: 1000,
  maxRetryDelayMs: 60_000,
  maxRetryTimeMs: 24 * 3_600_000,
  requestTimeoutMs: 10_000,
  createDatabase: true,
};

/** Retries are bounded by time (maxRetryTimeMs) and by the buffer, never by a count. */
const UNLIMITED_RETRIES = 1e9;
/** Devices per availability request, so the GET URL stays well under server and proxy limits. */
const DEVICES_PER_QUERY = 100;
/** Flush repeats while batches sent in the meantime come back for retry; this bounds it. */
const FLUSH_ROUNDS = 5;
/** During a long outage, a reminder of what is waiting this often, not on every retry. */
const OUTAGE_REMINDER_MS = 5 * 60_000;

function whole(value: number | undefined, fallback: number, min: number): number {
  return value === undefined || !Number.isFinite(value) ? fallback : Math.max(min, Math.floor(value));
}

function resolveSettings(options: InfluxStoreOptions): Settings {
  if (!/^https?:\/\//.test(options.url)) throw new Error(`the InfluxDB URL must be http(s): ${options.url}`);
  if (!options.database) throw new Error('the InfluxDB database (bucket) is required');
  const batchSize = whole(options.batchSize, DEFAULTS.batchSize, 1);
  const minRetryDelayMs = whole(options.minRetryDelayMs, DEFAULTS.minRetryDelayMs, 1);
  return {
    url: options.url.replace(/\/+$/, ''),
    api: options.api,
    database: options.database,
    org: options.org ?? '',
    token: options.token ?? '',
    batchSize,
    flushIntervalMs: whole(options.flushIntervalMs, DEFAULTS.flushIntervalMs, 1),
    maxBufferPoints: whole(options.maxBufferPoints, DEFAULTS.maxBufferPoints, batchSize),
    minRetryDelayMs,
    maxRetryDelayMs: whole(options.maxRetryDelayMs, DEFAULTS.maxRetryDelayMs, minRetryDelayMs),
    maxRetryTimeMs: whole(options.maxRetryTimeMs, DEFAULTS.maxRetryTimeMs, 1),
    requestTimeoutMs: whole(options.requestTimeoutMs, DEFAULTS.requestTimeoutMs, 100),
    createDatabase: options.createDatabase ?? DEFAULTS.createDatabase,
  };
}

function authorization(settings: Settings): Record<string, string> {
  if (!settings.token) return {};
  if (settings.api === 'v2') return { authorization: `Token ${settings.token}` };
  const colon = settings.token.indexOf(':');
  if (colon < 1) throw new Error('InfluxDB 1.x credentials must be given as user:password');
  return { authorization: `Basic ${Buffer.from(settings.token).toString('base64')}` };
}

/**
 * How many lines of a refused batch the server did not store. InfluxDB 1.x and 2.x store the
 * valid points of a batch and report the rest as `dropped=N` (plus one "unable to parse" per
 * malformed line, which 1.x leaves out of N); 3.x lists the refused lines in `data`. Without
 * either, the whole batch counts as lost.
 */
export function linesRefused(error: HttpError, lines: number): number {
  const text = error.body ?? error.message;
  // The server appends the count last; an echoed line may itself contain "dropped=".
  const dropped = [...text.matchAll(/dropped=(\d+)/g)].at(-1);
  if (dropped) {
    const unparsable = text.match(/unable to parse/g)?.length ?? 0;
    return Math.min(lines, Number(dropped[1]) + unparsable);
  }
  const data = (error.json as { data?: unknown } | undefined)?.data;
  if (Array.isArray(data) && data.length > 0) return Math.min(lines, data.length);
  return lines;
}

function column(series: InfluxSeries, name: string): number {
  return series.columns.indexOf(name);
}

/**
 * Heartbeat and camera-health history in InfluxDB 1.x, 2.x or 3.x. Writes go through the
 * client's WriteApi, which batches, retries with backoff (honouring Retry-After) and bounds what
 * it keeps for retry; its callbacks feed the counters. Reads are InfluxQL on `/query`.
 */
export class InfluxTelemetryStore implements TelemetryStore {
  readonly backend: TelemetryBackend;
  private readonly settings: Settings;
  private readonly log: Logger;
  private readonly target: InfluxTarget;
  private readonly http: InfluxHttp;
  private readonly transport: InfluxWriteTransport;
  private readonly writeApi: WriteApi;
  private readonly releaseClientLog: () => void;

  private accepted = 0;
  private written = 0;
  private retried = 0;
  private dropped = 0;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  /** Start of the current run of failed writes, for one warning per outage. */
  private failingSince: number | null = null;
  private failuresInBurst = 0;
  private failureWarnedAt = 0;
  private unstorableLoggedAt = 0;
  private closing: Promise<void> | null = null;
  /** Set once the WriteApi is closing: failures from then on are final. */
  private writesClosed = false;

  constructor(options: InfluxStoreOptions) {
    this.settings = resolveSettings(options);
    const { url, api, requestTimeoutMs } = this.settings;
    this.backend = api === 'v1' ? 'influxdb-v1' : 'influxdb-v2';
    this.log = options.logger.child({ component: 'history' });
    this.target = parseTarget(this.settings.database);
    const headers = authorization(this.settings);
    this.http = new InfluxHttp({
      url,
      db: this.target.db,
      headers,
      timeoutMs: requestTimeoutMs,
      backend: this.backend,
    });
    // Before the client exists: its transport may log while it is being built.
    this.releaseClientLog = routeClientLog(this.log);

    const client =
      api === 'v2'
        ? new InfluxDB({ url, token: this.settings.token, timeout: requestTimeoutMs })
        : new InfluxDB({ url, headers, timeout: requestTimeoutMs });
    this.transport = new InfluxWriteTransport(
      client.transport,
      api === 'v1' && this.settings.createDatabase ? { ensureDatabase: () => this.createDatabase() } : {},
    );
    this.writeApi = new InfluxDB({ url, transport: this.transport }).getWriteApi(
      this.settings.org,
      this.settings.database,
      'ms',
      this.writeOptions(),
    );
    if (api === 'v1') {
      // InfluxDB 1.x before 1.8 (Debian ships 1.6) has no /api/v2/write. WriteApi.path is
      // public and documented as changeable, so the same WriteApi (batching, retries, retry
      // buffer) writes line protocol to 1.x's /write instead.
      const params = new URLSearchParams({ db: this.target.db, precision: 'ms' });
      if (this.target.rp !== null) params.set('rp', this.target.rp);
      this.writeApi.path = `/write?${params}`;
    }
  }

  async start(): Promise<void> {
    const { url, database } = this.settings;
    try {
      const version = await this.http.ping();
      if (this.settings.api === 'v1' && this.settings.createDatabase) await this.transport.prepare();
      this.log.info({ url, database, version }, 'history store: InfluxDB is answering');
    } catch (err) {
      // The platform runs without its history store; points wait in the retry buffer.
      this.noteError(reasonOf(err));
      this.log.warn(
        { url, database, reason: reasonOf(err) },
        'InfluxDB is not answering at start; history points are buffered and written once it is back',
      );
    }
  }

  write(points: readonly TelemetryPoint[]): void {
    if (points.length === 0) return;
    this.accepted += points.length;
    if (this.closing) {
      this.dropped += points.length;
      this.log.warn({ points: points.length }, 'history points written after close were dropped');
      return;
    }
    const lines: string[] = [];
    for (const point of points) {
      const line = toLineProtocol(point);
      if (line !== null) lines.push(line);
    }
    const unstorable = points.length - lines.length;
    if (unstorable > 0) this.noteUnstorable(unstorable);
    if (lines.length > 0) this.writeApi.writeRecords(lines);
  }

  async flush(): Promise<void> {
    let failure: unknown = null;
    for (let round = 0; round < FLUSH_ROUNDS; round++) {
      failure = null;
      try {
        // `true`: also sends what waits in the retry buffer now instead of at its retry time.
        await this.writeApi.flush(true);
      } catch (err) {
        failure = err;
      }
      // The WriteApi does not await batches it sent by itself (a full batch, the interval,
      // a scheduled retry); their outcome belongs to this flush too.
      await this.transport.idle(this.settings.requestTimeoutMs + 1000);
      if (this.pendingPoints() === 0) return;
      // A refused batch (counted dropped) does not stop the rest; an unreachable server does.
      if (failure !== null && this.isTransient(failure)) break;
    }
    throw new TelemetryUnavailableError(
      this.backend,
      failure !== null ? reasonOf(failure) : `${this.pendingPoints()} points are still waiting to be written`,
    );
  }

  async query(query: SeriesQuery): Promise<SeriesResult> {
    validateSeriesQuery(query);
    const [result] = await this.http.select(seriesStatement(this.target, query));
    const points: { at: number; value: number }[] = [];
    for (const series of result?.series ?? []) {
      const t = column(series, 'time');
      const v = series.columns.findIndex((_, i) => i !== t);
      for (const row of series.values ?? []) {
        const at = row[t];
        const value = row[v];
        if (typeof at === 'number' && typeof value === 'number') points.push({ at, value });
      }
    }
    // One series unless the server splits by tag; sorting keeps the answer ascending either way.
    points.sort((a, b) => a.at - b.at);
    return { points: points.slice(0, query.limit), truncated: points.length > query.limit };
  }

  async availability(query: AvailabilityQuery): Promise<DeviceAvailability[]> {
    const { from, to } = query;
    const devices = [...new Set(query.devices)];
    const histories = new Map<string, PresenceHistory & { transitions: PresenceTransition[] }>();
    const historyOf = (device: string) => {
      let history = histories.get(device);
      if (!history) {
        history = { device, before: null, transitions: [] };
        histories.set(device, history);
      }
      return history;
    };
    for (let i = 0; i < devices.length; i += DEVICES_PER_QUERY) {
      const chunk = devices.slice(i, i + DEVICES_PER_QUERY);
      const [before, during] = await this.http.select(
        `${presenceBeforeStatement(this.target, chunk, from)}; ${presenceTransitionsStatement(this.target, chunk, from, to)}`,
      );
      for (const series of before?.series ?? []) {
        const device = series.tags?.device;
        const value = series.values?.[0]?.[column(series, 'last')];
        if (device !== undefined && typeof value === 'number') historyOf(device).before = value !== 0;
      }
      for (const series of during?.series ?? []) {
        const device = series.tags?.device;
        if (device === undefined) continue;
        const t = column(series, 'time');
        const v = column(series, 'online');
        const { transitions } = historyOf(device);
        for (const row of series.values ?? []) {
          const at = row[t];
          const online = row[v];
          if (typeof at === 'number' && typeof online === 'number')
            transitions.push({ at, online: online !== 0 });
        }
        transitions.sort((a, b) => a.at - b.at);
      }
    }
    return query.devices.map((device) =>
      availabilityOf(histories.get(device) ?? { device, before: null, transitions: [] }, from, to),
    );
  }

  stats(): TelemetryStats {
    return {
      backend: this.backend,
      written: this.written,
      buffered: this.pendingPoints(),
      retried: this.retried,
      dropped: this.dropped,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      failingSince: this.failingSince,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const { requestTimeoutMs } = this.settings;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.flush(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${requestTimeoutMs} ms`)),
            requestTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      this.log.warn(
        { reason: reasonOf(err), points: this.pendingPoints() },
        'could not flush history at close',
      );
    } finally {
      clearTimeout(timer);
    }
    this.writesClosed = true;
    await this.writeApi.close().catch((err: unknown) => {
      // writeFailed has counted and logged the final batch already.
      this.log.debug({ reason: reasonOf(err) }, 'the last history batch failed at close');
    });
    await this.transport.idle(requestTimeoutMs + 1000);
    // The retry buffer re-arms its timer when a retry finishes after close; dispose clears it
    // so a closed store holds no timers.
    this.writeApi.dispose();
    const lost = this.pendingPoints();
    if (lost > 0) {
      this.dropped += lost;
      this.log.error({ points: lost, lastError: this.lastError }, 'history points lost at close');
    }
    this.releaseClientLog();
  }

  private writeOptions(): Partial<WriteOptions> {
    const s = this.settings;
    return {
      batchSize: s.batchSize,
      flushInterval: s.flushIntervalMs,
      maxBufferLines: s.maxBufferPoints,
      maxRetries: UNLIMITED_RETRIES,
      maxRetryTime: s.maxRetryTimeMs,
      minRetryDelay: s.minRetryDelayMs,
      maxRetryDelay: s.maxRetryDelayMs,
      retryJitter: Math.min(200, s.minRetryDelayMs),
      exponentialBase: 2,
      writeSuccess: (lines) => this.onWritten(lines.length),
      writeFailed: (error, lines, attempt, expires) => this.onFailed(error, lines.length, attempt, expires),
      writeRetrySkipped: ({ lines }) => this.onSkipped(lines.length),
    };
  }

  private onWritten(lines: number): void {
    this.written += lines;
    if (this.failingSince !== null) {
      this.log.info(
        {
          failures: this.failuresInBurst,
          downMs: Date.now() - this.failingSince,
          buffered: this.pendingPoints(),
        },
        'history writes to InfluxDB recovered',
      );
      this.failingSince = null;
      this.failuresInBurst = 0;
    }
  }

  /**
   * Mirrors the WriteApi's retry rule (`!closed && retries left && (not an HttpError || status
   * >= 429)`) to count what will be retried. A failure that will not be retried is counted here
   * and its outcome taken over (a rejected promise), so the WriteApi does not queue it again.
   */
  private onFailed(error: Error, lines: number, attempt: number, expires: number): Promise<void> | undefined {
    this.noteError(reasonOf(error));
    const expired = expires <= Date.now();
    if (this.isTransient(error) && !this.writesClosed && !expired && attempt <= UNLIMITED_RETRIES) {
      this.retried += lines;
      this.failuresInBurst++;
      const now = Date.now();
      if (this.failingSince === null) {
        this.failingSince = now;
        this.failureWarnedAt = now;
        this.log.warn(
          { reason: reasonOf(error), points: lines, buffered: this.pendingPoints() },
          'history writes to InfluxDB failing; retrying with backoff',
        );
      } else if (now - this.failureWarnedAt >= OUTAGE_REMINDER_MS) {
        this.failureWarnedAt = now;
        this.log.warn(
          {
            reason: reasonOf(error),
            failingForMs: now - this.failingSince,
            failures: this.failuresInBurst,
            buffered: this.pendingPoints(),
            dropped: this.dropped,
          },
          'history writes to InfluxDB still failing',
        );
      } else {
        this.log.debug({ reason: reasonOf(error), attempt, points: lines }, 'history write retry failed');
      }
      return undefined;
    }
    const refused = error instanceof HttpError ? linesRefused(error, lines) : lines;
    this.written += lines - refused;
    this.dropped += refused;
    const why = expired
      ? 'retried for longer than maxRetryTimeMs'
      : this.writesClosed
        ? 'the store is closing'
        : 'refused by InfluxDB';
    this.log.error(
      { reason: reasonOf(error), points: refused, of: lines, attempt },
      `history points dropped: ${why}`,
    );
    return Promise.reject(error);
  }

  private onSkipped(lines: number): void {
    this.dropped += lines;
    this.noteError(`retry buffer full (${this.settings.maxBufferPoints} points): oldest points dropped`);
    this.log.error(
      { points: lines, maxBufferPoints: this.settings.maxBufferPoints },
      'history retry buffer full: oldest points dropped',
    );
  }

  private isTransient(error: unknown): boolean {
    return !(error instanceof HttpError) || error.statusCode >= 429;
  }

  /**
   * CREATE DATABASE before the first write. Unreachable: the write attempt fails and is retried.
   * Refused (a user without admin rights): the database may well exist, so writes go ahead.
   */
  private async createDatabase(): Promise<void> {
    try {
      await this.http.command(createDatabaseStatement(this.target.db));
    } catch (err) {
      if (!(err instanceof InfluxRequestError)) throw err;
      this.log.warn(
        { database: this.target.db, reason: err.message },
        'InfluxDB refused CREATE DATABASE; writing to the database as it is (set createDatabase off to skip)',
      );
    }
  }

  private noteUnstorable(points: number): void {
    this.dropped += points;
    this.noteError('points with no storable field or time');
    const now = Date.now();
    if (now - this.unstorableLoggedAt >= 60_000) {
      this.unstorableLoggedAt = now;
      this.log.warn({ points }, 'history points with no storable field or time were dropped');
    }
  }

  private noteError(message: string): void {
    this.lastError = message;
    this.lastErrorAt = Date.now();
  }

  private pendingPoints(): number {
    return Math.max(0, this.accepted - this.written - this.dropped);
  }
}
