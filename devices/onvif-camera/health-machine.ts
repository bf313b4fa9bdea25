/**
 * Camera health, free of timers and I/O: one poll result in, the new health out.
 *
 * Police act on these states, so the rules lean against false alarms: a single dropped or slow
 * poll never changes anything, and every state that means "not working" is entered and left only
 * after a run of agreeing polls. Times are backdated to the first poll of the deciding run so that
 * "down since" is the honest answer, not the moment the debounce happened to finish.
 */

export type CameraHealthState = 'unknown' | 'ok' | 'degraded' | 'offline' | 'auth_failed';

export type CameraHealthReasonCode =
  | 'first-poll'
  | 'healthy'
  | 'unreachable'
  | 'auth-rejected'
  | 'clock-drift'
  /** The camera shows local time but calls it UTC: its time zone is misconfigured. */
  | 'time-zone'
  /** An https camera presents another certificate than the one trusted on first use. */
  | 'certificate-changed'
  | 'stream-down'
  | 'snapshot-failed'
  | 'slow';

export interface CameraHealthReason {
  code: CameraHealthReasonCode;
  /** For a person: which call failed, by how much, with what error. */
  detail: string;
}

/** What one poll of a camera saw; `probeCamera` produces it. */
export interface CameraPollSignals {
  /** The device service answered at the HTTP level (any status). */
  reachable: boolean;
  /**
   * The device service answered as an ONVIF service: a SOAP answer (a fault included) or an HTTP
   * authentication challenge, to GetSystemDateAndTime or the first call that followed it.
   */
  onvifOk: boolean;
  onvifLatencyMs: number | null;
  /** null when the poll stopped before an authenticated call could be made. */
  authOk: boolean | null;
  /** Camera clock minus platform clock, in seconds (positive: the camera runs ahead). */
  clockDriftS: number | null;
  /**
   * The part of clockDriftS that is a time-zone misconfiguration (local time reported as UTC),
   * a whole number of quarter hours; null or absent when the offset is plain drift.
   */
  timeZoneErrorS?: number | null;
  /** An https camera presented a certificate other than the one trusted on first use. */
  certificateChanged?: boolean;
  streamUriPresent: boolean;
  /** RTSP DESCRIBE on the stream URI answered 200. */
  rtspOk: boolean;
  /** Why the stream check failed, named: "stream path not found (RTSP 404)". */
  streamError?: string;
  /** A complete JPEG (SOI … EOI) of a plausible size came back. */
  snapshotOk: boolean;
  snapshotBytes: number | null;
  snapshotLatencyMs: number | null;
  /** Why the snapshot failed, named: "HTTP 401 (snapshot login refused)". */
  snapshotError?: string;
  /** The first error met, for the reason detail. */
  error?: string;
}

export interface CameraHealthConfig {
  /** Consecutive unreachable polls before offline. */
  failuresBeforeOffline: number;
  /** Consecutive credential rejections before auth_failed. */
  authFailuresBeforeAuthFailed: number;
  /** Consecutive good polls that confirm recovery from offline or auth_failed. */
  successesBeforeRecovery: number;
  /** Consecutive polls agreeing on ok/degraded before switching between the two. */
  pollsBeforeDegradedChange: number;
  clockDriftWarnS: number;
  onvifSlowMs: number;
  snapshotSlowMs: number;
}

export const defaultCameraHealthConfig: CameraHealthConfig = {
  failuresBeforeOffline: 3,
  authFailuresBeforeAuthFailed: 2,
  successesBeforeRecovery: 2,
  pollsBeforeDegradedChange: 2,
  // The UsernameToken freshness window many cameras enforce is about 5 s; beyond it a camera that
  // does not compensate rejects clients, and its recording timestamps are no longer evidence.
  clockDriftWarnS: 5,
  onvifSlowMs: 2000,
  snapshotSlowMs: 5000,
};

/** Clamps a partial config onto the defaults so a zero or negative count cannot disable debouncing. */
export function cameraHealthConfig(partial: Partial<CameraHealthConfig> = {}): CameraHealthConfig {
  const merged = { ...defaultCameraHealthConfig, ...partial };
  const count = (n: number) => Math.max(1, Math.floor(n));
  return {
    ...merged,
    failuresBeforeOffline: count(merged.failuresBeforeOffline),
    authFailuresBeforeAuthFailed: count(merged.authFailuresBeforeAuthFailed),
    successesBeforeRecovery: count(merged.successesBeforeRecovery),
    pollsBeforeDegradedChange: count(merged.pollsBeforeDegradedChange),
  };
}

/** How a single poll reads on its own, before debouncing. */
export type PollVerdict =
  | { kind: 'unreachable'; reason: CameraHealthReason }
  | { kind: 'auth-rejected'; reason: CameraHealthReason }
  | { kind: 'degraded'; reason: CameraHealthReason }
  | { kind: 'ok'; reason: CameraHealthReason };

type VerdictKind = PollVerdict['kind'];

/** A period during which the camera was not usable: offline, or refusing the platform's credentials. */
export interface CameraIncident {
  kind: 'offline' | 'auth_failed';
  /** The first failed poll of the run that led to it. */
  start: number;
  /** The first good poll of the run that ended it; null while open. */
  end: number | null;
  reason: CameraHealthReason;
}

export interface CameraHealth {
  state: CameraHealthState;
  since: number;
  reason: CameraHealthReason;
  /** The current run of polls with the same verdict kind, which drives every debounce. */
  run: { kind: VerdictKind; count: number; start: number } | null;
  openIncident: CameraIncident | null;
}

export interface CameraHealthStep {
  health: CameraHealth;
  changed: boolean;
  transition: {
    from: CameraHealthState;
    to: CameraHealthState;
    at: number;
    reason: CameraHealthReason;
  } | null;
  /** Incidents opened and closed by this poll, for the history store and the alerting. */
  opened: CameraIncident | null;
  closed: CameraIncident | null;
}

export function initialCameraHealth(now: number): CameraHealth {
  return {
    state: 'unknown',
    since: now,
    reason: { code: 'first-poll', detail: 'not polled yet' },
    run: null,
    openIncident: null,
  };
}

/** Reads one poll on its own. Degradations are listed most serious first; the first one names the reason. */
export function classifyPoll(signals: CameraPollSignals, config: CameraHealthConfig): PollVerdict {
  const error = signals.error ? `: ${signals.error}` : '';
  if (!signals.reachable) {
    return {
      kind: 'unreachable',
      reason: { code: 'unreachable', detail: `no answer from the camera${error}` },
    };
  }
  // The platform refuses to talk (and to send the password) to a camera that is not the one it
  // trusted: like a refused login, the camera answers but cannot be used until someone looks.
  if (signals.certificateChanged) {
    return {
      kind: 'auth-rejected',
      reason: { code: 'certificate-changed', detail: signals.error ?? 'certificate changed' },
    };
  }
  if (!signals.onvifOk) {
    return {
      kind: 'unreachable',
      reason: { code: 'unreachable', detail: `ONVIF service not answering${error}` },
    };
  }
  if (signals.authOk === false) {
    return {
      kind: 'auth-rejected',
      reason: { code: 'auth-rejected', detail: `the camera refuses the platform's credentials${error}` },
    };
  }
  const problems: CameraHealthReason[] = [];
  if (!signals.streamUriPresent) {
    problems.push({
      code: 'stream-down',
      detail: `no stream URI${signals.streamError ? `: ${signals.streamError}` : ''}`,
    });
  } else if (!signals.rtspOk) {
    problems.push({ code: 'stream-down', detail: signals.streamError ?? 'RTSP server not answering' });
  }
  if (!signals.snapshotOk) {
    problems.push({
      code: 'snapshot-failed',
      detail: signals.snapshotError
        ? `snapshot: ${signals.snapshotError}`
        : `snapshot missing or not a complete JPEG${signals.snapshotBytes !== null ? ` (${signals.snapshotBytes} bytes)` : ''}`,
    });
  }
  const zoneErrorS = signals.timeZoneErrorS ?? null;
  if (zoneErrorS !== null) {
    const hours = zoneErrorS / 3600;
    problems.push({
      code: 'time-zone',
      detail: `clock set to local time as UTC (time zone misconfigured): UTC reads ${hours > 0 ? '+' : ''}${hours} h`,
    });
  }
  // Drift is what is left once a time-zone error is taken out.
  const driftS = signals.clockDriftS === null ? null : signals.clockDriftS - (zoneErrorS ?? 0);
  if (driftS !== null && Math.abs(driftS) >= config.clockDriftWarnS) {
    problems.push({ code: 'clock-drift', detail: `camera clock off by ${driftS.toFixed(0)} s` });
  }
  if (signals.onvifLatencyMs !== null && signals.onvifLatencyMs > config.onvifSlowMs) {
    problems.push({ code: 'slow', detail: `ONVIF answered in ${signals.onvifLatencyMs} ms` });
  }
  if (signals.snapshotLatencyMs !== null && signals.snapshotLatencyMs > config.snapshotSlowMs) {
    problems.push({ code: 'slow', detail: `snapshot took ${signals.snapshotLatencyMs} ms` });
  }
  const [first] = problems;
  if (!first) return { kind: 'ok', reason: { code: 'healthy', detail: 'all checks passed' } };
  return { kind: 'degraded', reason: { code: first.code, detail: problems.map((p) => p.detail).join('; ') } };
}

/**
 * Applies one poll taken at `now`.
 *
 * - unreachable: `failuresBeforeOffline` in a row → offline, since the first of them;
 * - auth rejected (the camera answers, so it is not offline): `authFailuresBeforeAuthFailed` in a
 *   row → auth_failed;
 * - leaving offline or auth_failed takes `successesBeforeRecovery` good polls in a row;
 * - between ok and degraded, `pollsBeforeDegradedChange` agreeing polls, so one slow answer (a
 *   single TCP retransmission) is not a degradation and one fast answer is not a recovery.
 * A poll that breaks a run restarts counting, so flapping never walks a camera through states.
 */
export function stepCameraHealth(
  current: CameraHealth | undefined,
  signals: CameraPollSignals,
  now: number,
  config: CameraHealthConfig = defaultCameraHealthConfig,
): CameraHealthStep {
  const prev = current ?? initialCameraHealth(now);
  const verdict = classifyPoll(signals, config);
  // While recovering, ok and degraded polls are both good and extend one run; elsewhere a run is
  // polls of one kind.
  const recovering = prev.state === 'offline' || prev.state === 'auth_failed';
  const isGood = (kind: VerdictKind) => kind === 'ok' || kind === 'degraded';
  const continues =
    prev.run !== null &&
    (prev.run.kind === verdict.kind || (recovering && isGood(prev.run.kind) && isGood(verdict.kind)));
  const run =
    continues && prev.run
      ? { kind: verdict.kind, count: prev.run.count + 1, start: prev.run.start }
      : { kind: verdict.kind, count: 1, start: now };
  const stay = (reason = prev.reason): CameraHealthStep => ({
    health: { ...prev, reason, run },
    changed: false,
    transition: null,
    opened: null,
    closed: null,
  });
  const enter = (state: CameraHealthState, since: number): CameraHealthStep => {
    let closed: CameraIncident | null = null;
    let opened: CameraIncident | null = null;
    let openIncident = prev.openIncident;
    if (openIncident) {
      closed = { ...openIncident, end: since };
      openIncident = null;
    }
    if (state === 'offline' || state === 'auth_failed') {
      opened = { kind: state, start: since, end: null, reason: verdict.reason };
      openIncident = opened;
    }
    return {
      health: { state, since, reason: verdict.reason, run, openIncident },
      changed: true,
      transition: { from: prev.state, to: state, at: now, reason: verdict.reason },
      opened,
      closed,
    };
  };

  switch (verdict.kind) {
    case 'unreachable':
      if (prev.state === 'offline') return stay(verdict.reason);
      return run.count >= config.failuresBeforeOffline ? enter('offline', run.start) : stay();
    case 'auth-rejected':
      if (prev.state === 'auth_failed') return stay(verdict.reason);
      return run.count >= config.authFailuresBeforeAuthFailed ? enter('auth_failed', run.start) : stay();
    case 'ok':
    case 'degraded': {
      const target = verdict.kind;
      switch (prev.state) {
        case 'unknown':
          // Nothing to debounce against: the first answer is the best knowledge there is.
          return enter(target, now);
        case 'offline':
        case 'auth_failed':
          return run.count >= config.successesBeforeRecovery ? enter(target, run.start) : stay();
        case 'ok':
        case 'degraded':
          if (prev.state === target) return target === 'degraded' ? stay(verdict.reason) : stay();
          return run.count >= config.pollsBeforeDegradedChange ? enter(target, run.start) : stay();
      }
    }
  }
}
