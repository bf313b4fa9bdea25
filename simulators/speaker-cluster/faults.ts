/** Faults a technician can inject into a simulated cluster to rehearse what the platform shows. */
export const FAULT_KINDS = [
  'drop',
  'power-cut',
  'heartbeat-stop',
  'weak-signal',
  'speaker-fault',
  'slow-acks',
  'no-acks',
  'malformed',
  'overheat',
  'download-fail',
  'playback-fail',
  'firmware-fail',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type Fault =
  | { kind: 'speaker-fault'; speaker: number }
  | { kind: 'slow-acks'; delayMs: number }
  /** `remaining`: fail only this many more downloads, then the fault clears itself; absent: all. */
  | { kind: 'download-fail'; remaining?: number }
  | { kind: 'playback-fail'; afterMs: number }
  | { kind: Exclude<FaultKind, 'speaker-fault' | 'slow-acks' | 'download-fail' | 'playback-fail'> };

export const DEFAULT_FAULT_SPEAKER = 1;
export const DEFAULT_SLOW_ACK_MS = 5_000;
export const DEFAULT_PLAYBACK_FAIL_MS = 2_000;
/** The fault code a broken speaker line reports in heartbeats and fault events. */
export const SPEAKER_FAULT_CODE = 'open-circuit';
/**
 * The ack error and `playback-failed` code of a `playback-fail` fault. The protocol's event code is
 * the ack error, from its fixed list (docs/protocol.md section 8): a playback that breaks is
 * `internal`, with the detail (`playback-error: …`) in the event message.
 */
export const PLAYBACK_FAIL_CODE = 'internal';

export const FAULT_SUMMARIES: Record<FaultKind, string> = {
  drop: 'leaves the broker with a clean DISCONNECT, so no last will; stays away until cleared',
  'power-cut':
    'loses power: socket dies without DISCONNECT, the broker publishes the will; boots when cleared',
  'heartbeat-stop': 'stays connected but stops heartbeating (hung main loop)',
  'weak-signal': 'RSSI drops to -105..-110 dBm',
  'speaker-fault': 'speaker [n] (default 1) reports open-circuit; fault event now, fault-cleared on clear',
  'slow-acks': 'every ack is delayed by [ms] (default 5000)',
  'no-acks': 'commands are executed but never acked',
  malformed:
    'heartbeats are replaced by malformed payloads (bad JSON, wrong types, missing fields, oversized)',
  overheat: 'temperature rises to about 80 °C',
  'download-fail':
    'media downloads fail with fetch-failed (no request is made); [n]: only the next n downloads',
  'playback-fail':
    'playback starts, then breaks after [ms] (default 2000): playback-failed and ack failed, code internal',
  'firmware-fail':
    'firmware updates download and verify, then fail to install and roll back (ack failed install-failed)',
};

export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

/** Builds a fault from its name and optional argument as typed on the command line. */
export function parseFault(kind: string, arg?: string): Fault {
  if (!isFaultKind(kind)) {
    throw new FaultSpecError(`unknown fault "${kind}"; expected one of ${FAULT_KINDS.join(', ')}`);
  }
  switch (kind) {
    case 'speaker-fault':
      return {
        kind,
        speaker: arg === undefined ? DEFAULT_FAULT_SPEAKER : parseInteger(arg, 'speaker index', 1, 16),
      };
    case 'slow-acks':
      return {
        kind,
        delayMs: arg === undefined ? DEFAULT_SLOW_ACK_MS : parseInteger(arg, 'ack delay (ms)', 1, 3_600_000),
      };
    case 'download-fail':
      return arg === undefined
        ? { kind }
        : { kind, remaining: parseInteger(arg, 'number of downloads', 1, 1_000_000) };
    case 'playback-fail':
      return {
        kind,
        afterMs:
          arg === undefined
            ? DEFAULT_PLAYBACK_FAIL_MS
            : parseInteger(arg, 'playback time (ms)', 1, 3_600_000),
      };
    default:
      if (arg !== undefined) throw new FaultSpecError(`fault "${kind}" takes no argument (got "${arg}")`);
      return { kind };
  }
}

/** The key a fault is stored under: one per kind, except one per faulty speaker. */
export function faultKey(fault: Fault): string {
  return fault.kind === 'speaker-fault' ? `speaker-fault:${fault.speaker}` : fault.kind;
}

/** Human form, e.g. `speaker-fault:2`, `slow-acks:3000` or `download-fail:2` (downloads left to fail); also the CLI's `--fault` syntax after the target. */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'speaker-fault':
      return `speaker-fault:${fault.speaker}`;
    case 'slow-acks':
      return `slow-acks:${fault.delayMs}`;
    case 'download-fail':
      return fault.remaining === undefined ? 'download-fail' : `download-fail:${fault.remaining}`;
    case 'playback-fail':
      return `playback-fail:${fault.afterMs}`;
    default:
      return fault.kind;
  }
}

function parseInteger(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new FaultSpecError(`${what} must be an integer from ${min} to ${max} (got "${text}")`);
  }
  return value;
}
