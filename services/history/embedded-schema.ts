import type Database from 'better-sqlite3';
import {
  type FieldType,
  fieldsOf,
  MEASUREMENT_NAMES,
  MEASUREMENTS,
  type Measurement,
} from './measurements.js';

export const HOUR_MS = 3_600_000;

/** Bumped only for changes `CREATE TABLE IF NOT EXISTS` and added columns cannot express. */
const SCHEMA_VERSION = 1;

/** Per numeric field, what an hourly rollup row keeps: enough to merge hours into any window. */
export const ROLLUP_PARTS = ['min', 'max', 'sum', 'count', 'first', 'last'] as const;
export type RollupPart = (typeof ROLLUP_PARTS)[number];

const SQL_TYPES: Record<FieldType, string> = { float: 'REAL', integer: 'INTEGER', string: 'TEXT' };

export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** One wide table per measurement: a row is a point, a column a field. */
export function rawTable(measurement: Measurement): string {
  return quote(measurement);
}

export function rollupTable(measurement: Measurement): string {
  return quote(`${measurement}_1h`);
}

export function rollupColumn(field: string, part: RollupPart): string {
  return quote(`${field}_${part}`);
}

export function isDownsampled(measurement: Measurement): boolean {
  return MEASUREMENTS[measurement].downsample;
}

/** The numeric fields of a measurement with their types; strings are not rolled up. */
export function numericFields(measurement: Measurement): [string, 'float' | 'integer'][] {
  return fieldsOf(measurement).filter(
    (entry): entry is [string, 'float' | 'integer'] => entry[1] !== 'string',
  );
}

interface TableSpec {
  name: string;
  key: 'ts' | 'bucket';
  columns: [name: string, type: string][];
}

function tables(): TableSpec[] {
  const specs: TableSpec[] = [];
  for (const measurement of MEASUREMENT_NAMES) {
    specs.push({
      name: measurement,
      key: 'ts',
      columns: fieldsOf(measurement).map(([field, type]) => [field, SQL_TYPES[type]]),
    });
    if (!isDownsampled(measurement)) continue;
    specs.push({
      name: `${measurement}_1h`,
      key: 'bucket',
      columns: numericFields(measurement).flatMap(([field, type]) =>
        ROLLUP_PARTS.map((part): [string, string] => [
          `${field}_${part}`,
          part === 'count' ? 'INTEGER' : SQL_TYPES[type],
        ]),
      ),
    });
  }
  return specs;
}

export class HistorySchemaTooNewError extends Error {
  constructor(found: number) {
    super(
      `the history file is at schema version ${found}, newer than this release knows (${SCHEMA_VERSION})`,
    );
    this.name = 'HistorySchemaTooNewError';
  }
}

/**
 * Brings the history file up to the schema generated from MEASUREMENTS. A field added to a
 * measurement becomes a new nullable column, so older rows simply have no value for it.
 */
export function ensureSchema(db: Database.Database): void {
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found > SCHEMA_VERSION) throw new HistorySchemaTooNewError(found);
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS series (
      id INTEGER PRIMARY KEY,
      measurement TEXT NOT NULL,
      commune TEXT NOT NULL,
      village TEXT NOT NULL,
      device TEXT NOT NULL,
      kind TEXT NOT NULL,
      UNIQUE (measurement, commune, village, device, kind))`);
    db.exec('CREATE INDEX IF NOT EXISTS series_by_device ON series (measurement, device)');
    for (const table of tables()) {
      const columns = table.columns.map(([name, type]) => `${quote(name)} ${type}`).join(', ');
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${quote(table.name)} (series INTEGER NOT NULL, ${table.key} INTEGER NOT NULL, ` +
          `${columns}, PRIMARY KEY (series, ${table.key})) WITHOUT ROWID`,
      );
      const existing = new Set(
        (db.pragma(`table_info(${quote(table.name)})`) as { name: string }[]).map((c) => c.name),
      );
      for (const [name, type] of table.columns) {
        if (!existing.has(name))
          db.exec(`ALTER TABLE ${quote(table.name)} ADD COLUMN ${quote(name)} ${type}`);
      }
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/**
 * A field value as stored: booleans as 0/1 and integers rounded, matching what the InfluxDB
 * backends write; anything that is not a finite number (NaN, a stray string) has no value.
 */
export function encodeField(type: FieldType, value: unknown): number | string | null {
  if (value === undefined || value === null) return null;
  if (type === 'string') return typeof value === 'string' ? value : String(value);
  const n = typeof value === 'boolean' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return null;
  return type === 'integer' ? Math.round(n) : n;
}
