import type Database from 'better-sqlite3';
import type { PresenceHistory, PresenceTransition } from './availability.js';
import { aggregateOf, mergePartial, type WindowPartial } from './embedded-aggregates.js';
import {
  HOUR_MS,
  isDownsampled,
  quote,
  type RollupPart,
  rawTable,
  rollupColumn,
  rollupTable,
} from './embedded-schema.js';
import type { Measurement } from './measurements.js';
import { bucketStart } from './series-query.js';
import type { Aggregate, SeriesPoint, SeriesQuery, SeriesResult, SeriesWindow } from './telemetry-store.js';

/** Prepares a statement once per connection; reads and maintenance run the same few SQL texts. */
export type Prepare = (sql: string) => Database.Statement;

/**
 * Every series of the device, since a changed tag (a village rename) starts a new one. Oldest
 * first: in the hour of a rename both series' rollups stand at the same time, and merging in
 * this order makes the old series' value the hour's first and the new one's its last.
 */
export function seriesOfDevice(prepare: Prepare, measurement: Measurement, device: string): number[] {
  return prepare('SELECT id FROM series WHERE measurement = ? AND device = ? ORDER BY id')
    .pluck()
    .all(measurement, device) as number[];
}

/** Raw points, ascending; each series is read in key order, so only the merge sorts. */
export function rawPoints(prepare: Prepare, query: SeriesQuery, series: readonly number[]): SeriesResult {
  const field = quote(query.field);
  const select = prepare(
    `SELECT ts, ${field} FROM ${rawTable(query.measurement)}
     WHERE series = ? AND ts >= ? AND ts < ? AND ${field} IS NOT NULL ORDER BY ts LIMIT ?`,
  ).raw(true);
  const points: SeriesPoint[] = [];
  for (const id of series) {
    for (const [at, value] of select.all(id, query.from, query.to, query.limit + 1) as [number, number][]) {
      points.push({ at, value });
    }
  }
  if (series.length > 1) points.sort((a, b) => a.at - b.at);
  return { points: points.slice(0, query.limit), truncated: points.length > query.limit };
}

/**
 * Windowed aggregates. Raw rows older than the raw retention have been folded into hourly
 * rollups, which can only answer windows made of whole hours; for any other window that older
 * data is simply not available. The two sources never hold the same point, so a window that
 * straddles the boundary merges their partial aggregates. A rollup stands at its hour's start
 * for the from/to filter, as a downsampled point does in InfluxDB.
 */
export function windowedPoints(
  prepare: Prepare,
  query: SeriesQuery,
  window: SeriesWindow,
  series: readonly number[],
): SeriesResult {
  const windows = new Map<number, WindowPartial>();
  if (isDownsampled(query.measurement) && window.ms % HOUR_MS === 0 && window.offsetMs % HOUR_MS === 0) {
    addRollups(prepare, query, window, series, windows);
  }
  addRaw(prepare, query, window, series, windows);
  const starts = [...windows.keys()].sort((a, b) => a - b);
  const points = starts.slice(0, query.limit).map((at) => {
    const w = windows.get(at) as WindowPartial;
    return { at, value: aggregateOf(w, window.agg) };
  });
  return { points, truncated: starts.length > query.limit };
}

function addRollups(
  prepare: Prepare,
  query: SeriesQuery,
  window: SeriesWindow,
  series: readonly number[],
  windows: Map<number, WindowPartial>,
): void {
  const column = (part: RollupPart) => rollupColumn(query.field, part);
  const select = prepare(
    `SELECT bucket, ${column('count')}, ${column('sum')}, ${column('min')}, ${column('max')},
       ${column('first')}, ${column('last')}
     FROM ${rollupTable(query.measurement)}
     WHERE series = ? AND bucket >= ? AND bucket < ? AND ${column('count')} > 0 ORDER BY bucket`,
  ).raw(true);
  for (const id of series) {
    const rows = select.all(id, query.from, query.to) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ][];
    for (const [hour, count, sum, min, max, first, last] of rows) {
      mergePartial(windows, bucketStart(hour, window.ms, window.offsetMs), {
        count,
        sum,
        min,
        max,
        firstAt: hour,
        first,
        lastAt: hour,
        last,
      });
    }
  }
}

/**
 * What the SQL computes per window for each aggregate: the rest costs time on every row. A bare
 * column beside a single min() or max() comes from the row holding that extreme (a documented
 * SQLite rule), which gives first and last in one pass.
 */
const RAW_AGGREGATES: Record<Aggregate, (field: string) => string> = {
  mean: (f) => `sum(${f}), NULL`,
  sum: (f) => `sum(${f}), NULL`,
  min: (f) => `min(${f}), NULL`,
  max: (f) => `max(${f}), NULL`,
  count: () => 'NULL, NULL',
  first: (f) => `min(ts), ${f}`,
  last: (f) => `max(ts), ${f}`,
};

function addRaw(
  prepare: Prepare,
  query: SeriesQuery,
  window: SeriesWindow,
  series: readonly number[],
  windows: Map<number, WindowPartial>,
): void {
  const field = quote(query.field);
  // The same arithmetic as bucketStart, in doubles, so SQL and JS agree on every window start.
  const select = prepare(
    `SELECT floor((ts - @offset) / CAST(@ms AS REAL)) * @ms + @offset AS w, count(${field}),
       ${RAW_AGGREGATES[window.agg](field)}
     FROM ${rawTable(query.measurement)}
     WHERE series = @series AND ts >= @from AND ts < @to AND ${field} IS NOT NULL
     GROUP BY w`,
  ).raw(true);
  for (const id of series) {
    const rows = select.all({
      series: id,
      offset: window.offsetMs,
      ms: window.ms,
      from: query.from,
      to: query.to,
    }) as [number, number, number, number][];
    for (const [start, count, a, b] of rows) {
      // Only the members the aggregate reads are meaningful; the others merely hold a number.
      const at = window.agg === 'first' || window.agg === 'last' ? a : start;
      mergePartial(windows, start, {
        count,
        sum: a,
        min: a,
        max: a,
        firstAt: at,
        first: b,
        lastAt: at,
        last: b,
      });
    }
  }
}

/**
 * Each device's presence history over [from, to) in two queries whatever the number of
 * devices: the last state before `from` (over all the device's series), then the transitions.
 */
export function presenceHistories(
  prepare: Prepare,
  devices: readonly string[],
  from: number,
  to: number,
): Map<string, PresenceHistory> {
  const table = rawTable('presence');
  const histories = new Map<
    string,
    PresenceHistory & { beforeAt: number; transitions: PresenceTransition[] }
  >();
  for (const device of devices)
    histories.set(device, { device, before: null, beforeAt: -Infinity, transitions: [] });
  const params = { devices: JSON.stringify(devices), from, to };
  const ofDevices = `s.measurement = 'presence' AND s.device IN (SELECT value FROM json_each(@devices))`;
  const before = prepare(
    `SELECT s.device, r.ts, r.online FROM series AS s
     JOIN ${table} AS r ON r.series = s.id AND r.ts = (
       SELECT p.ts FROM ${table} AS p
       WHERE p.series = s.id AND p.ts < @from AND p.online IS NOT NULL ORDER BY p.ts DESC LIMIT 1)
     WHERE ${ofDevices}`,
  ).raw(true);
  for (const [device, at, online] of before.all(params) as [string, number, number][]) {
    const h = histories.get(device);
    if (h && at > h.beforeAt) {
      h.beforeAt = at;
      h.before = online !== 0;
    }
  }
  const transitions = prepare(
    `SELECT s.device, r.ts, r.online FROM series AS s JOIN ${table} AS r ON r.series = s.id
     WHERE ${ofDevices} AND r.ts >= @from AND r.ts < @to AND r.online IS NOT NULL ORDER BY r.ts`,
  ).raw(true);
  for (const [device, at, online] of transitions.all(params) as [string, number, number][]) {
    histories.get(device)?.transitions.push({ at, online: online !== 0 });
  }
  return histories;
}
