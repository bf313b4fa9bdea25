/**
 * Faults a technician can inject into a simulated camera to rehearse what the platform shows, and
 * quirks of real firmware met in the field (docs/simulators.md): each one a way a working camera
 * can differ from the ONVIF book.
 */
export const CAMERA_FAULT_KINDS = [
  'offline',
  'slow',
  'wrong-credentials',
  'clock-drift',
  'snapshot-fail',
  'stream-down',
  'reboot',
  'digest-soap',
  'no-system-time',
  'auth-fault',
  'lockout',
  'local-time-as-utc',
  'local-time-only',
  'media2-only',
  'stream-path-gone',
  'snapshot-basic',
  'snapshot-user',
  'https',
  'new-certificate',
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
  | { kind: 'reboot'; downS: number }
  /** SOAP only behind HTTP Digest, GetSystemDateAndTime included (Hikvision ≥ 5.7.13, Vivotek). */
  | { kind: 'digest-soap' }
  /** GetSystemDateAndTime is not implemented. */
  | { kind: 'no-system-time' }
  /** How a refused WS-Security login is answered. */
  | { kind: 'auth-fault'; style: AuthFaultStyle }
  /** After `attempts` failed logins from one address, every login from it is refused for lockS. */
  | { kind: 'lockout'; attempts: number; lockS: number }
  /** The clock shows local time but the time zone says UTC: UTCDateTime is 7 h ahead. */
  | { kind: 'local-time-as-utc' }
  /** GetSystemDateAndTime carries LocalDateTime and the time zone, no UTCDateTime. */
  | { kind: 'local-time-only' }
  /** H.265 / Profile T: profiles, stream and snapshot URIs only from Media2 (ver20). */
  | { kind: 'media2-only' }
  /** GetStreamUri names a path the RTSP server no longer serves (DESCRIBE answers 404). */
  | { kind: 'stream-path-gone' }
  /** The snapshot asks for HTTP Basic instead of Digest. */
  | { kind: 'snapshot-basic' }
  /** The snapshot wants its own account (the camera's web user), not the ONVIF one. */
  | { kind: 'snapshot-user'; username: string; password: string }
  /** Services over https with a self-signed certificate. */
  | { kind: 'https' }
  /** With https: another self-signed certificate, as after a factory reset or a swapped unit. */
  | { kind: 'new-certificate' };

/** WS-Security 1.0 §12 faults as gSOAP-based firmware sends them, ONVIF's own, or a bare HTTP status. */
export const AUTH_FAULT_STYLES = [
  'not-authorized',
  'failed-authentication',
  'invalid-security',
  'failed-check',
  'http-401',
  'http-403',
] as const;
export type AuthFaultStyle = (typeof AUTH_FAULT_STYLES)[number];

export const DEFAULT_SLOW_MS = 3_000;
export const DEFAULT_DRIFT_S = 600;
export const DEFAULT_REBOOT_S = 60;
export const DEFAULT_LOCKOUT_ATTEMPTS = 5;
/** Hikvision's "illegal login lock" lasts 30 minutes. */
export const DEFAULT_LOCKOUT_S = 1800;
export const DEFAULT_SNAPSHOT_USER = { username: 'viewer', password: 'viewer123' } as const;

export const CAMERA_FAULT_SUMMARIES: Record<CameraFaultKind, string> = {
  offline: 'stops answering: HTTP, RTSP and discovery listeners close until cleared',
  slow: 'every answer (SOAP, snapshot, RTSP, discovery) is delayed by [ms] (default 3000)',
  'wrong-credentials': 'the camera password was changed on site: every authenticated call fails',
  'clock-drift': 'the camera clock is off by [s] seconds (default 600, may be negative)',
  'snapshot-fail': 'snapshots fail: [error] HTTP 500 (default) or [corrupt] a body that is not a JPEG',
  'stream-down': 'the RTSP port refuses connections; ONVIF still answers',
  reboot: 'offline for [s] seconds (default 60), then back on the same ports with the same identity',
  'digest-soap': 'SOAP only behind HTTP Digest (401 without it), GetSystemDateAndTime included',
  'no-system-time': 'GetSystemDateAndTime is not implemented (ter:ActionNotSupported)',
  'auth-fault': `a refused login is answered as [${AUTH_FAULT_STYLES.join('|')}] (default not-authorized)`,
  lockout:
    'after [n] failed logins (default 5) from an address, refuses it even the right password for [n/s] s (default 1800)',
  'local-time-as-utc': 'the clock shows local time but is set as UTC: UTCDateTime runs 7 h ahead',
  'local-time-only': 'GetSystemDateAndTime sends LocalDateTime and TZ ICT-7 only, no UTCDateTime',
  'media2-only': 'H.265/Profile T: profiles and URIs only from Media2 (ver20); Media (ver10) not offered',
  'stream-path-gone': 'GetStreamUri names a path the RTSP server no longer serves (DESCRIBE 404)',
  'snapshot-basic': 'the snapshot asks for HTTP Basic instead of Digest',
  'snapshot-user': 'the snapshot wants its own account [user/password] (default viewer/viewer123)',
  https: 'services over https with a self-signed certificate (on the same port)',
  'new-certificate': 'with https: presents another self-signed certificate (factory reset, swapped unit)',
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
    case 'auth-fault': {
      const style = arg ?? 'not-authorized';
      if (!(AUTH_FAULT_STYLES as readonly string[]).includes(style)) {
        throw new CameraFaultSpecError(
          `auth-fault takes one of ${AUTH_FAULT_STYLES.join(', ')} (got "${style}")`,
        );
      }
      return { kind, style: style as AuthFaultStyle };
    }
    case 'lockout': {
      const [attempts, lockS] = (arg ?? '').split('/');
      return {
        kind,
        attempts: attempts ? parseInteger(attempts, 'attempts', 1, 100) : DEFAULT_LOCKOUT_ATTEMPTS,
        lockS: lockS ? parseInteger(lockS, 'lock (s)', 1, 86_400) : DEFAULT_LOCKOUT_S,
      };
    }
    case 'snapshot-user': {
      if (arg === undefined) return { kind, ...DEFAULT_SNAPSHOT_USER };
      const slash = arg.indexOf('/');
      if (slash <= 0 || slash === arg.length - 1) {
        throw new CameraFaultSpecError(`snapshot-user takes <user>/<password> (got "${arg}")`);
      }
      return { kind, username: arg.slice(0, slash), password: arg.slice(slash + 1) };
    }
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
    case 'auth-fault':
      return `auth-fault:${fault.style}`;
    case 'lockout':
      return `lockout:${fault.attempts}/${fault.lockS}`;
    case 'snapshot-user':
      // The password stays out of status lines and logs.
      return `snapshot-user:${fault.username}/***`;
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
