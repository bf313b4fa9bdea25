import type { Aggregate, SeriesQuery } from './telemetry-store.js';

/**
 * InfluxQL text for the history reads. Every name and value that reaches a statement goes through
 * `quoteIdent` or `quoteString`; nothing is interpolated raw. InfluxQL's scanner accepts only the
 * escapes \\ \' \" and \n inside quotes and rejects a raw line break, so those are all we produce.
 */

/** A database, optionally with a retention policy (`db/rp`, the form 2.x DBRP mappings also use). */
export interface InfluxTarget {
  db: string;
  rp: string | null;
}

export function parseTarget(database: string): InfluxTarget {
  const slash = database.indexOf('/');
  if (slash < 0) return { db: database, rp: null };
  const rp = database.slice(slash + 1);
  return { db: database.slice(0, slash), rp: rp === '' ? null : rp };
}

function escapeQuoted(value: string, quote: '"' | "'"): string {
  let out = '';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else out += ch;
  }
  return out;
}

/** A double-quoted identifier (database, retention policy, measurement, tag or field key). */
export function quoteIdent(name: string): string {
  return `"${escapeQuoted(name, '"')}"`;
}

/** A single-quoted string literal, for tag values in WHERE clauses. */
export function quoteString(value: string): string {
  return `'${escapeQuoted(value, "'")}'`;
}

/**
 * An epoch-milliseconds time literal. InfluxQL durations are integers, so a fractional bound is
 * rounded up: `time >= 1.5` and `time >= 2` select the same millisecond-precision points, as do
 * `time < 1.5` and `time < 2`.
 */
export function timeLiteral(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  return `${Math.ceil(ms)}ms`;
}

/** A positive whole-millisecond duration literal. */
export function durationLiteral(ms: number): string {
  const whole = Math.round(ms);
  if (!Number.isFinite(whole) || whole < 1) throw new RangeError(`not a duration: ${ms}`);
  return `${whole}ms`;
}

/** `"rp"."measurement"`, or just the measurement when the database's default policy is meant. */
export function source(target: InfluxTarget, measurement: string): string {
  return target.rp === null ? quoteIdent(measurement) : `${quoteIdent(target.rp)}.${quoteIdent(measurement)}`;
}

function timeRange(from: number, to: number): string {
  return `time >= ${timeLiteral(from)} AND time < ${timeLiteral(to)}`;
}

const AGGREGATE_FUNCTIONS: Record<Aggregate, string> = {
  mean: 'mean',
  min: 'min',
  max: 'max',
  first: 'first',
  last: 'last',
  count: 'count',
  sum: 'sum',
};

/**
 * One device's field over [from, to). Without tag grouping InfluxQL merges every series of the
 * device (its village tag may have changed) into one time-ordered series. One row more than the
 * limit is asked for, so the caller can tell whether the answer was cut.
 */
export function seriesStatement(target: InfluxTarget, query: SeriesQuery): string {
  const where = `WHERE ${quoteIdent('device')} = ${quoteString(query.device)} AND ${timeRange(query.from, query.to)}`;
  const from = source(target, query.measurement);
  const field = quoteIdent(query.field);
  const limit = Math.floor(query.limit) + 1;
  if (!query.window) return `SELECT ${field} FROM ${from} ${where} ORDER BY time ASC LIMIT ${limit}`;
  const { ms, offsetMs, agg } = query.window;
  const fn = AGGREGATE_FUNCTIONS[agg];
  if (!fn) throw new RangeError(`unknown aggregate ${agg}`);
  const interval = Math.round(ms);
  // InfluxQL takes any offset, but a normalised one reads better in the server's query log.
  const offset = ((Math.round(offsetMs) % interval) + interval) % interval;
  return (
    `SELECT ${fn}(${field}) FROM ${from} ${where} ` +
    `GROUP BY time(${durationLiteral(interval)}, ${offset}ms) fill(none) LIMIT ${limit}`
  );
}

function anyDevice(devices: readonly string[]): string {
  return `(${devices.map((d) => `${quoteIdent('device')} = ${quoteString(d)}`).join(' OR ')})`;
}

/** Each device's last presence state strictly before `before`, one series per device. */
export function presenceBeforeStatement(
  target: InfluxTarget,
  devices: readonly string[],
  before: number,
): string {
  return (
    `SELECT last(${quoteIdent('online')}) FROM ${source(target, 'presence')} ` +
    `WHERE time < ${timeLiteral(before)} AND ${anyDevice(devices)} GROUP BY ${quoteIdent('device')}`
  );
}

/** Every presence transition in [from, to), one time-ordered series per device. */
export function presenceTransitionsStatement(
  target: InfluxTarget,
  devices: readonly string[],
  from: number,
  to: number,
): string {
  return (
    `SELECT ${quoteIdent('online')} FROM ${source(target, 'presence')} ` +
    `WHERE ${timeRange(from, to)} AND ${anyDevice(devices)} GROUP BY ${quoteIdent('device')}`
  );
}

export function createDatabaseStatement(db: string): string {
  return `CREATE DATABASE ${quoteIdent(db)}`;
}
