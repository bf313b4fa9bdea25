/** An instant (epoch ms) as an ISO 8601 UTC string, as the API and the stores write times. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The same, keeping "not yet" (null) as null. */
export function isoTimeOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A device clock further off than this is not believed for the time of what it reports. */
export const MAX_DEVICE_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * When a device says something happened: its own time, unless its clock is further off than
 * `maxSkewMs` from when the report arrived, in which case the arrival. Late reports (sent after a
 * reconnect) are given a wider window by their callers.
 */
export function deviceTime(
  reported: number,
  receivedAt: number,
  maxSkewMs = MAX_DEVICE_CLOCK_SKEW_MS,
): number {
  return Math.abs(reported - receivedAt) <= maxSkewMs ? reported : receivedAt;
}
