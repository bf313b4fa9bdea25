import type { Prepare } from './embedded-reads.js';
import {
  HOUR_MS,
  numericFields,
  quote,
  ROLLUP_PARTS,
  type RollupPart,
  rawTable,
  rollupColumn,
  rollupTable,
} from './embedded-schema.js';
import type { Measurement } from './measurements.js';

interface FieldHour {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  first: number | null;
  last: number | null;
}

const emptyHour = (): FieldHour => ({ count: 0, sum: 0, min: null, max: null, first: null, last: null });

function seriesOf(prepare: Prepare, measurement: Measurement): number[] {
  return prepare('SELECT id FROM series WHERE measurement = ?').pluck().all(measurement) as number[];
}

/**
 * Folds every raw row before `cutoff` (an hour boundary) into hourly rollups and deletes those
 * rows; returns how many it folded. An hour that already has a rollup (a clock set back) is
 * merged into it, so running this twice never loses or double-counts a point.
 */
export function rollUp(prepare: Prepare, measurement: Measurement, cutoff: number): number {
  const fields = numericFields(measurement).map(([name]) => name);
  const table = rawTable(measurement);
  const select = prepare(
    `SELECT ts, ${fields.map(quote).join(', ')} FROM ${table} WHERE series = ? AND ts < ? ORDER BY ts`,
  ).raw(true);
  const columns = fields.flatMap((f) => ROLLUP_PARTS.map((part) => rollupColumn(f, part)));
  const merges = fields.flatMap((f) => {
    const c = (part: RollupPart) => rollupColumn(f, part);
    return [
      `${c('min')} = coalesce(min(${c('min')}, excluded.${c('min')}), ${c('min')}, excluded.${c('min')})`,
      `${c('max')} = coalesce(max(${c('max')}, excluded.${c('max')}), ${c('max')}, excluded.${c('max')})`,
      `${c('sum')} = coalesce(${c('sum')} + excluded.${c('sum')}, ${c('sum')}, excluded.${c('sum')})`,
      `${c('count')} = coalesce(${c('count')}, 0) + excluded.${c('count')}`,
      `${c('first')} = coalesce(${c('first')}, excluded.${c('first')})`,
      `${c('last')} = coalesce(excluded.${c('last')}, ${c('last')})`,
    ];
  });
  const upsert = prepare(
    `INSERT INTO ${rollupTable(measurement)} (series, bucket, ${columns.join(', ')})
     VALUES (?, ?, ${columns.map(() => '?').join(', ')})
     ON CONFLICT (series, bucket) DO UPDATE SET ${merges.join(', ')}`,
  );
  const remove = prepare(`DELETE FROM ${table} WHERE series = ? AND ts < ?`);

  let folded = 0;
  for (const series of seriesOf(prepare, measurement)) {
    // Hours are gathered before writing: the connection cannot write while a read is iterating.
    const hours: [number, FieldHour[]][] = [];
    let current: [number, FieldHour[]] | undefined;
    for (const row of select.iterate(series, cutoff) as IterableIterator<number[]>) {
      const ts = row[0] as number;
      const hour = Math.floor(ts / HOUR_MS) * HOUR_MS;
      if (current?.[0] !== hour) {
        current = [hour, fields.map(emptyHour)];
        hours.push(current);
      }
      current[1].forEach((acc, i) => {
        const value = row[i + 1];
        if (value === null || value === undefined) return;
        acc.count++;
        acc.sum += value;
        if (acc.min === null || value < acc.min) acc.min = value;
        if (acc.max === null || value > acc.max) acc.max = value;
        acc.first ??= value;
        acc.last = value;
      });
      folded++;
    }
    for (const [hour, accs] of hours) {
      if (accs.every((acc) => acc.count === 0)) continue;
      upsert.run(
        series,
        hour,
        ...accs.flatMap((a) => [a.min, a.max, a.count === 0 ? null : a.sum, a.count, a.first, a.last]),
      );
    }
    if (hours.length > 0) remove.run(series, cutoff);
  }
  return folded;
}

/** Deletes rows keyed before `cutoff` from a raw or rollup table; returns how many. */
export function expire(prepare: Prepare, measurement: Measurement, rollups: boolean, cutoff: number): number {
  const remove = rollups
    ? prepare(`DELETE FROM ${rollupTable(measurement)} WHERE series = ? AND bucket < ?`)
    : prepare(`DELETE FROM ${rawTable(measurement)} WHERE series = ? AND ts < ?`);
  let removed = 0;
  for (const series of seriesOf(prepare, measurement)) removed += remove.run(series, cutoff).changes;
  return removed;
}
