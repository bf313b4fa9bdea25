/**
 * The history schema, shared by every backend (docs/history.md documents it for Grafana users).
 * Tags on every point: `commune` and `village` (display names, so dashboards read naturally),
 * `device` (the device id) and `kind`. Field types are fixed because InfluxDB fixes a field's
 * type per shard on first write: integers always go out with the `i` suffix, floats never do.
 */
export const MEASUREMENTS = {
  /** One point per accepted speaker-cluster heartbeat. */
  heartbeat: {
    downsample: true,
    fields: {
      signal: 'float',
      volume: 'integer',
      uptime: 'float',
      temperature: 'float',
      supply_voltage: 'float',
      speakers_ok: 'integer',
      speakers_total: 'integer',
      playing: 'integer',
      power: 'integer',
    },
  },
  /** One point per camera health poll (the camera work writes these). */
  camera_health: {
    downsample: true,
    fields: {
      state: 'integer',
      reachable: 'integer',
      onvif_latency_ms: 'float',
      auth_ok: 'integer',
      clock_drift_s: 'float',
      stream_ok: 'integer',
      snapshot_ok: 'integer',
      snapshot_latency_ms: 'float',
      snapshot_bytes: 'integer',
    },
  },
  /** One point per online/offline transition; availability reports are computed from these. */
  presence: {
    downsample: false,
    fields: {
      online: 'integer',
      reason: 'string',
    },
  },
} as const satisfies Record<string, MeasurementSpec>;

export type FieldType = 'float' | 'integer' | 'string';

export interface MeasurementSpec {
  /** Raw points age into hourly aggregates (embedded store); sparse measurements are kept raw. */
  downsample: boolean;
  fields: Record<string, FieldType>;
}

export type Measurement = keyof typeof MEASUREMENTS;
export type FieldName<M extends Measurement> = keyof (typeof MEASUREMENTS)[M]['fields'] & string;
export type NumericFieldName<M extends Measurement> = {
  [F in FieldName<M>]: (typeof MEASUREMENTS)[M]['fields'][F] extends 'string' ? never : F;
}[FieldName<M>];

export const MEASUREMENT_NAMES = Object.keys(MEASUREMENTS) as Measurement[];

export function fieldsOf(measurement: Measurement): [string, FieldType][] {
  return Object.entries(MEASUREMENTS[measurement].fields);
}

export function numericFieldsOf(measurement: Measurement): string[] {
  return fieldsOf(measurement)
    .filter(([, type]) => type !== 'string')
    .map(([name]) => name);
}

export const DEVICE_KINDS = ['speaker-cluster', 'camera'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
