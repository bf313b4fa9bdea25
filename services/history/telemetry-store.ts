import type { AGGREGATES } from '../../contracts/history.js';
import { InvalidRequestError, ServiceUnavailableError } from '../errors.js';
import type { DeviceKind, FieldName, Measurement } from './measurements.js';

export interface TelemetryTags {
  /** Display names: InfluxDB users group and filter on them in their own dashboards. */
  commune: string;
  village: string;
  device: string;
  kind: DeviceKind;
}

export interface TelemetryPoint<M extends Measurement = Measurement> {
  measurement: M;
  tags: TelemetryTags;
  /** Absent or undefined fields are simply not written (InfluxDB has no nulls). */
  fields: Partial<Record<FieldName<M>, number | string | boolean | undefined>>;
  /** Epoch milliseconds; every backend stores millisecond precision. */
  at: number;
}

export type Aggregate = (typeof AGGREGATES)[number];

export interface SeriesWindow {
  /** Bucket length in milliseconds. */
  ms: number;
  /**
   * Buckets start at epoch + offset + k·ms (InfluxQL's `GROUP BY time(ms, offset)`), so a day can
   * start at local midnight: Asia/Ho_Chi_Minh is UTC+7 all year, so its days start at 17:00 UTC,
   * an offset of 17 h.
   */
  offsetMs: number;
  agg: Aggregate;
}

export interface SeriesQuery {
  measurement: Measurement;
  device: string;
  field: string;
  /** Inclusive. */
  from: number;
  /** Exclusive. */
  to: number;
  /** Without a window the raw points come back. */
  window?: SeriesWindow;
  /** At most this many points; `truncated` says whether more exist. */
  limit: number;
}

export interface SeriesPoint {
  /** The point's time, or its bucket's start. */
  at: number;
  value: number;
}

export interface SeriesResult {
  /** Ascending by time; empty buckets are left out. */
  points: SeriesPoint[];
  truncated: boolean;
}

export interface AvailabilityQuery {
  devices: readonly string[];
  from: number;
  to: number;
}

export interface DeviceAvailability {
  device: string;
  onlineMs: number;
  offlineMs: number;
  /** Time before the device's first known transition in the range's history. */
  unknownMs: number;
}

export interface TelemetryStats {
  backend: TelemetryBackend;
  /** Points the store has durably written. */
  written: number;
  /** Points accepted but not yet written (waiting for a batch, in flight, or waiting to retry). */
  buffered: number;
  /** Points whose write failed and that were queued for another attempt (each attempt counts). */
  retried: number;
  /** Points given up on: buffer bound exceeded (oldest first), rejected by the server, or lost at close. */
  dropped: number;
  lastError: string | null;
  lastErrorAt: number | null;
  /** Since when writes have been failing; null while they succeed (lastError stays for the record). */
  failingSince: number | null;
}

export type TelemetryBackend = 'embedded' | 'influxdb-v1' | 'influxdb-v2';

/**
 * Heartbeat and health history. `write` never blocks or throws for I/O: points are buffered and
 * written in batches off the message path; outages are retried and counted, never silent.
 */
export interface TelemetryStore {
  readonly backend: TelemetryBackend;
  start(): Promise<void>;
  write(points: readonly TelemetryPoint[]): void;
  query(query: SeriesQuery): Promise<SeriesResult>;
  availability(query: AvailabilityQuery): Promise<DeviceAvailability[]>;
  /** Writes everything buffered now; rejects if the backend is unreachable (points stay buffered). */
  flush(): Promise<void>;
  stats(): TelemetryStats;
  /** Flushes what it can, then releases everything; points it could not write are counted dropped. */
  close(): Promise<void>;
}

/** A query the store cannot answer (unknown field, too many buckets); the API answers 400 naming the field. */
export class TelemetryQueryError extends InvalidRequestError {
  constructor(message: string, field: string) {
    super(message, { field });
  }
}

/** The history backend did not answer a read (InfluxDB down); the API answers 503. */
export class TelemetryUnavailableError extends ServiceUnavailableError {
  constructor(backend: TelemetryBackend, cause: string) {
    super(`the history store (${backend}) is not answering: ${cause}`, 'history_unavailable', { backend });
  }
}
