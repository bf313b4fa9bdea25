/*
 * A heartbeat (protocol v1, sc/v1/<id>/heartbeat) from a cluster with nothing wrong, as the suites'
 * devices and the benchmarks' load generator publish it. Free of vitest and of the platform: the
 * load generator runs it in a child process of its own.
 */

/** The fields a sound cluster reports: 4G, amplifier on and idle, both speakers fine. */
const HEALTHY = {
  rssiDbm: -71,
  net: '4g',
  volume: 70,
  power: true,
  playing: false,
  speakers: [
    { idx: 1, ok: true },
    { idx: 2, ok: true },
  ],
  tempC: 36.5,
  supplyV: 12.6,
};

/** A healthy cluster's heartbeat payload; `overrides` replace or add fields. */
export function heartbeatPayload(
  counters: { ts: number; seq: number; uptimeS: number },
  overrides: Record<string, unknown> = {},
): string {
  return JSON.stringify({ ...counters, ...HEALTHY, ...overrides });
}
