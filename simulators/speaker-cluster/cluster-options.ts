import type { Logger } from 'pino';
import type { Clock, DeviceId } from '../../devices/index.js';
import { DeviceIdSchema, systemClock } from '../../devices/index.js';
import { seedFromString } from '../shared/prng.js';
import type { MediaFetcher } from './media-fetcher.js';
import { DEFAULT_MEDIA_TIMEOUT_MS, httpMediaFetch } from './media-fetcher.js';

export interface SimulatedClusterOptions {
  deviceId: DeviceId;
  /** The device's MQTT password, as issued by the platform. */
  secret: string;
  /** mqtt://, mqtts://, ws:// or wss:// address of the broker. */
  url: string;
  logger: Logger;
  clock?: Clock;
  /** Speaker outputs, 1..16 (default 2). */
  speakers?: number;
  /** Seconds between heartbeats (default 30); a `config` command changes it at run time. */
  heartbeatIntervalS?: number;
  fw?: string;
  model?: string;
  /** Master volume at first boot, 0..100 (default 70). */
  volume?: number;
  /** Seeds the telemetry noise (default: derived from the device id). */
  seed?: number;
  /** MQTT keepalive in seconds (default 60). */
  keepaliveS?: number;
  /**
   * First wait before reconnecting after a connection loss (default 1000 ms); it doubles per failed
   * attempt up to 60 s, with ±20 % jitter (docs/protocol.md section 4).
   */
  reconnectInitialMs?: number;
  /** How long a `reboot` command (or the reboot into new firmware) keeps the cluster off the network (default 5000 ms). */
  rebootMs?: number;
  /** How long writing a firmware image takes before the reboot (default 2000 ms). */
  installMs?: number;
  /** How long a selftest measures the amplifier and speaker lines (default 1000 ms; with a tone, twice that). */
  selftestMs?: number;
  /** Size of the oversized payload in the `malformed` rotation; without it that payload is skipped. */
  oversizeBytes?: number;
  /**
   * The step that makes a `media` source ready. The default downloads `source.url` over HTTP and
   * checks its size and SHA-256. Streams are always read over HTTP and decoded (StreamPlayer).
   */
  fetchMedia?: MediaFetcher;
  /**
   * A media fetch that has not finished after this long fails with fetch-failed, and so does a
   * stream without audio this long after it was opened (default 30000 ms).
   */
  mediaTimeoutMs?: number;
  /**
   * Playing times are divided by this factor (default 1): 60 plays a one-minute bulletin in one
   * second, for demos and rehearsals. startAt and endAt are instants and are not scaled.
   */
  timeScale?: number;
}

export type ResolvedClusterOptions = Required<Omit<SimulatedClusterOptions, 'oversizeBytes'>> & {
  oversizeBytes: number | undefined;
};

export const CLUSTER_DEFAULTS = {
  speakers: 2,
  heartbeatIntervalS: 30,
  fw: 'sim-1.0.0',
  model: 'SC-SIM',
  volume: 70,
  keepaliveS: 60,
  reconnectInitialMs: 1_000,
  rebootMs: 5_000,
  installMs: 2_000,
  selftestMs: 1_000,
  mediaTimeoutMs: DEFAULT_MEDIA_TIMEOUT_MS,
  timeScale: 1,
} as const;

/** The range of SimulatedClusterOptions.timeScale. */
export const TIME_SCALE_RANGE = { min: 0.001, max: 100_000 } as const;

/** Merges defaults and rejects values no real cluster could have. */
export function resolveClusterOptions(options: SimulatedClusterOptions): ResolvedClusterOptions {
  const resolved: ResolvedClusterOptions = {
    ...CLUSTER_DEFAULTS,
    clock: systemClock,
    seed: seedFromString(options.deviceId),
    fetchMedia: httpMediaFetch,
    ...stripUndefined(options),
    deviceId: options.deviceId,
    secret: options.secret,
    url: options.url,
    logger: options.logger,
    oversizeBytes: options.oversizeBytes,
  };
  DeviceIdSchema.parse(resolved.deviceId);
  checkInteger('speakers', resolved.speakers, 1, 16);
  checkInteger('volume', resolved.volume, 0, 100);
  checkNumber('heartbeatIntervalS', resolved.heartbeatIntervalS, 0.001, 3600);
  checkInteger('keepaliveS', resolved.keepaliveS, 0, 65_535);
  checkInteger('reconnectInitialMs', resolved.reconnectInitialMs, 1, 60_000);
  checkInteger('rebootMs', resolved.rebootMs, 0, 3_600_000);
  checkInteger('installMs', resolved.installMs, 0, 3_600_000);
  checkInteger('selftestMs', resolved.selftestMs, 0, 600_000);
  checkInteger('mediaTimeoutMs', resolved.mediaTimeoutMs, 1, 3_600_000);
  checkNumber('timeScale', resolved.timeScale, TIME_SCALE_RANGE.min, TIME_SCALE_RANGE.max);
  if (resolved.oversizeBytes !== undefined)
    checkInteger('oversizeBytes', resolved.oversizeBytes, 1, 256 * 1024 * 1024);
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value)) throw new RangeError(`${name} must be an integer (got ${value})`);
  checkNumber(name, value, min, max);
}

function checkNumber(name: string, value: number, min: number, max: number): void {
  if (!(value >= min && value <= max))
    throw new RangeError(`${name} must be from ${min} to ${max} (got ${value})`);
}
