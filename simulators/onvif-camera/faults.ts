/** Faults a technician can inject into a simulated camera to rehearse what the platform shows. */
export const CAMERA_FAULT_KINDS = [
  'offline',
  'slow',
  'wrong-credentials',
  'clock-drift',
  'snapshot-fail',
  'stream-down',
  'reboot',
] as const;
export type CameraFaultKind = (typeof CAMERA_FAULT_KINDS)[number];

export type CameraFault =
  | { kind: 'offline' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'wrong-credentials' }
  | { kind: 'clock-drift'; driftS: number }
  /** `error`: HTTP 500; `corrupt`: 200 image/jpeg whose body is not a JPEG. */
  | { kind: 'snapshot-fail'; mode: 'error' | 'corrupt' }
  | { kind: 'stream-down' }
  /** Transient: offline for downS seconds of the camera's clock, then back with the same identity. */
  | { kind: 'reboot'; downS: number };

export const DEFAULT_SLOW_MS = 3_000;
export const DEFAULT_DRIFT_S = 600;
export const DEFAULT_REBOOT_S = 60;

export const CAMERA_FAULT_SUMMARIES: Record<CameraFaultKind, string> = {
  offline: 'stops answering: HTTP, RTSP and discovery listeners close until cleared',
  slow: 'every answer (SOAP, snapshot, RTSP, discovery) is delayed by [ms] (default 3000)',
  'wrong-credentials': 'the camera password was changed on site: every authenticated call fails',
  'clock-drift': 'the camera clock is off by [s] seconds (default 600, may be negative)',
  'snapshot-fail': 'snapshots fail: [error] HTTP 500 (default) or [corrupt] a body that is not a JPEG',
  'stream-down': 'the RTSP port refuses connections; ONVIF still answers',
  reboot: 'offline for [s] seconds (default 60), then back on the same ports with the same identity',
};

export class CameraFaultSpecError extends Error {
  override readonly name = 'CameraFaultSpecError';
}

export function isCameraFaultKind(value: string): value is CameraFaultKind {
  return (CAMERA_FAULT_KINDS as readonly string[]).includes(value);
}

/** Builds a fault from its name and optional argument as typed on the command line. */
export function parseCameraFault(kind: string, arg?: string): CameraFault {
  if (!isCameraFaultKind(kind)) {
    throw new CameraFaultSpecError(
      `unknown fault "${kind}"; expected one of ${CAMERA_FAULT_KINDS.join(', ')}`,
    );
  }
  switch (kind) {
    case 'slow':
      return {
        kind,
        delayMs: arg === undefined ? DEFAULT_SLOW_MS : parseInteger(arg, 'delay (ms)', 1, 3_600_000),
      };
    case 'clock-drift':
      return {
        kind,
        driftS: arg === undefined ? DEFAULT_DRIFT_S : parseInteger(arg, 'drift (s)', -31_536_000, 31_536_000),
      };
    case 'snapshot-fail':
      if (arg === undefined || arg === 'error') return { kind, mode: 'error' };
      if (arg === 'corrupt') return { kind, mode: 'corrupt' };
      throw new CameraFaultSpecError(`snapshot-fail takes "error" or "corrupt" (got "${arg}")`);
    case 'reboot':
      return {
        kind,
        downS: arg === undefined ? DEFAULT_REBOOT_S : parseInteger(arg, 'downtime (s)', 1, 86_400),
      };
    default:
      if (arg !== undefined)
        throw new CameraFaultSpecError(`fault "${kind}" takes no argument (got "${arg}")`);
      return { kind };
  }
}

/** Human form, also the CLI's `--fault` syntax after the target. */
export function describeCameraFault(fault: CameraFault): string {
  switch (fault.kind) {
    case 'slow':
      return `slow:${fault.delayMs}`;
    case 'clock-drift':
      return `clock-drift:${fault.driftS}`;
    case 'snapshot-fail':
      return `snapshot-fail:${fault.mode}`;
    case 'reboot':
      return `reboot:${fault.downS}`;
    default:
      return fault.kind;
  }
}

function parseInteger(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new CameraFaultSpecError(`${what} must be an integer from ${min} to ${max} (got "${text}")`);
  }
  return value;
}
