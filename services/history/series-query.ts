import { MEASUREMENTS, numericFieldsOf } from './measurements.js';
import { type SeriesQuery, TelemetryQueryError } from './telemetry-store.js';

/** A chart never needs more buckets than this; a larger request asks for a wider window. */
export const MAX_BUCKETS = 10_000;
/** Raw points per request; beyond it the caller pages on with `from` = last point + 1 ms. */
export const MAX_RAW_POINTS = 10_000;

/** Checks a series query against the schema and the bounds every backend shares. */
export function validateSeriesQuery(query: SeriesQuery): void {
  const spec = MEASUREMENTS[query.measurement] as { fields: Record<string, string> } | undefined;
  if (!spec) throw new TelemetryQueryError(`unknown measurement "${query.measurement}"`, 'measurement');
  const type = spec.fields[query.field];
  if (!type || type === 'string') {
    throw new TelemetryQueryError(
      `"${query.field}" is not a numeric field of ${query.measurement}; choose one of ${numericFieldsOf(query.measurement).join(', ')}`,
      'field',
    );
  }
  if (!(query.to > query.from)) throw new TelemetryQueryError('"to" must be after "from"', 'to');
  if (query.window) {
    if (!(query.window.ms >= 1000))
      throw new TelemetryQueryError('the window must be at least 1 s', 'window');
    const buckets = Math.ceil((query.to - query.from) / query.window.ms);
    if (buckets > MAX_BUCKETS) {
      throw new TelemetryQueryError(
        `${buckets} windows requested, at most ${MAX_BUCKETS}: choose a wider window or a shorter range`,
        'window',
      );
    }
  }
  if (!(query.limit >= 1 && query.limit <= Math.max(MAX_RAW_POINTS, MAX_BUCKETS))) {
    throw new TelemetryQueryError(`limit must be between 1 and ${MAX_RAW_POINTS}`, 'limit');
  }
}

/** The start of the bucket holding `at`, aligned like InfluxQL's `GROUP BY time(ms, offset)`. */
export function bucketStart(at: number, ms: number, offsetMs: number): number {
  return Math.floor((at - offsetMs) / ms) * ms + offsetMs;
}

/** Parses a window such as `30s`, `5m`, `1h` or `1d` into milliseconds. */
export function parseWindow(text: string): number | null {
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(text);
  if (!match) return null;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
