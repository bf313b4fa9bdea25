import { Point } from '@influxdata/influxdb-client';
import { MEASUREMENTS, type MeasurementSpec } from './measurements.js';
import type { TelemetryPoint } from './telemetry-store.js';

const TAG_KEYS = ['commune', 'village', 'device', 'kind'] as const;
/** Beyond this a double no longer fits InfluxDB's int64 (Point.intField throws). */
const MAX_INT64 = 9.2e18;

/**
 * Makes a display name safe as a tag value. The client escapes commas, spaces and equals signs
 * but not backslashes, and InfluxDB's parser (1.x; 2.x shares it) keeps `\\` in a tag value as
 * two characters, so a backslash run right before one of those characters, or at the end, would
 * swallow the escape and break the line. Those runs are dropped; line breaks and tabs become
 * spaces (the client would store them as the two characters `\n`).
 */
export function sanitizeTagValue(value: string): string {
  return value
    .replace(/[\r\n\t]/g, ' ')
    .replace(/\\+(?=[ ,=]|$)/g, '')
    .trim();
}

/** Writes milliseconds as they are: the WriteApi is opened with precision `ms`. */
const msPrecision = { convertTime: (at: string | number | Date | undefined) => String(at) };

/**
 * One line of line protocol for a point, or null when nothing of it can be stored (unknown
 * measurement, no usable field, no valid time). Field types follow the schema, not the value:
 * integers always carry the `i` suffix and floats never do, because InfluxDB fixes a field's
 * type on first write and rejects later writes of the other type.
 */
export function toLineProtocol(point: TelemetryPoint): string | null {
  const spec = (MEASUREMENTS as Record<string, MeasurementSpec>)[point.measurement];
  if (!spec || !Number.isFinite(point.at)) return null;
  const line = new Point(point.measurement).timestamp(Math.round(point.at));
  for (const key of TAG_KEYS) {
    const raw = point.tags[key];
    const value = typeof raw === 'string' ? sanitizeTagValue(raw) : '';
    // Point leaves empty tag values out, as line protocol requires.
    line.tag(key, value);
  }
  let fields = 0;
  for (const [name, value] of Object.entries(point.fields as Record<string, unknown>)) {
    const type = spec.fields[name];
    if (!type || value === undefined || value === null) continue;
    if (type === 'string') {
      line.stringField(name, String(value));
    } else {
      const n = typeof value === 'boolean' ? (value ? 1 : 0) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) continue;
      if (type === 'integer') {
        if (Math.abs(n) >= MAX_INT64) continue;
        line.intField(name, Math.round(n));
      } else line.floatField(name, n);
    }
    fields++;
  }
  if (fields === 0) return null;
  return line.toLineProtocol(msPrecision) ?? null;
}
