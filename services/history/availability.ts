import type { DeviceAvailability } from './telemetry-store.js';

export interface PresenceTransition {
  at: number;
  online: boolean;
}

export interface PresenceHistory {
  device: string;
  /** The state in force at `from` (the last transition before it), or null when none is known. */
  before: boolean | null;
  /** Transitions inside [from, to), ascending. */
  transitions: readonly PresenceTransition[];
}

/**
 * Splits [from, to) into online, offline and unknown time from a device's transitions. Time
 * before the first known state is unknown rather than offline, so a device installed mid-range
 * is not reported as down for the days before it existed.
 */
export function availabilityOf(history: PresenceHistory, from: number, to: number): DeviceAvailability {
  const result: DeviceAvailability = { device: history.device, onlineMs: 0, offlineMs: 0, unknownMs: 0 };
  let state = history.before;
  let since = from;
  const close = (until: number) => {
    const span = Math.max(0, until - since);
    if (state === null) result.unknownMs += span;
    else if (state) result.onlineMs += span;
    else result.offlineMs += span;
  };
  for (const t of history.transitions) {
    if (t.at < from || t.at >= to) continue;
    close(t.at);
    state = t.online;
    since = t.at;
  }
  close(to);
  return result;
}

/** Uptime as a percentage of the time whose state is known, or null when none is. */
export function uptimePercent(a: { onlineMs: number; offlineMs: number }): number | null {
  const known = a.onlineMs + a.offlineMs;
  return known === 0 ? null : Math.round((a.onlineMs / known) * 10_000) / 100;
}
