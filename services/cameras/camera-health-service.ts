import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import {
  type CameraHealth,
  type CameraHealthConfig,
  type CameraHealthState,
  type CameraProbeResult,
  cameraHealthConfig,
  initialCameraHealth,
  probeCamera,
  stepCameraHealth,
} from '../../devices/onvif-camera/index.js';
import {
  defaultLoginBackoffConfig,
  type LoginBackoffConfig,
} from '../../devices/onvif-camera/login-backoff.js';
import { BurstLogger } from '../burst-logger.js';
import type { EventBus } from '../event-bus.js';
import type { TelemetryPoint, TelemetryStore, TelemetryTags } from '../history/telemetry-store.js';
import type { Page, Paged } from '../registry/registry-store.js';
import type { CameraHealthStore, IncidentRecord, StoredCameraStatus } from './camera-health-store.js';
import { CameraLoginGate, deviceOf, type PollCredentials } from './camera-login-gate.js';
import type { CameraCredentials, CameraStore } from './camera-store.js';

export interface CameraHealthServiceOptions {
  cameras: CameraStore;
  store: CameraHealthStore;
  events: EventBus;
  telemetry: TelemetryStore;
  clock: Clock;
  logger: Logger;
  /** Tags for the history points (commune and village names). */
  tagsOf(cameraId: string): TelemetryTags | Promise<TelemetryTags>;
  intervalMs: number;
  /** Cameras polled at once; a sweep of a thousand cameras must not open a thousand sockets. */
  concurrency: number;
  callTimeoutMs: number;
  health?: Partial<CameraHealthConfig>;
  /** Where cameras may be reached; every call of a poll is checked against it. */
  policy?: CameraAddressPolicy;
  /** How long to hold back credentials after a camera refused them (defaults: 1 min doubling to 1 h, 6 per hour). */
  loginBackoff?: Partial<LoginBackoffConfig>;
  /** The commune's offset from UTC in seconds (default Vietnam's 25,200), to spot local time sent as UTC. */
  utcOffsetS?: number;
  /** Sweeps run only while this is true: with several instances, only the poller lease's holder sweeps. */
  mayPoll?: () => boolean;
  /** Each poll's outcome, for the other instances (shared-camera-health.ts). */
  onRecorded?: (status: StoredCameraStatus) => void;
  /** A camera's trusted certificates changed (one trusted on first use, or all forgotten). */
  onCertificatesChanged?: (cameraId: string) => void;
}

/** The `state` field of camera_health points (docs/history.md). */
const STATE_CODE: Record<CameraHealthState, number> = {
  ok: 0,
  degraded: 1,
  offline: 2,
  auth_failed: 3,
  unknown: -1,
};

/** A camera is usable for uptime when it answers with our credentials, degraded or not. */
const usable = (state: CameraHealthState) => state === 'ok' || state === 'degraded';

type IncidentChange = Parameters<CameraHealthStore['save']>[1];
/** Incident changes kept per camera while its polls cannot be stored (a full disk). */
const MAX_UNSAVED = 100;

export interface CameraStatus {
  state: CameraHealthState;
  since: number;
  reason: string;
  detail: string;
  lastPollAt: number | null;
  lastOkAt: number | null;
  signals: StoredCameraStatus['signals'];
}

export interface SweepReport {
  cameras: number;
  startedAt: number;
  durationMs: number;
  states: Partial<Record<CameraHealthState, number>>;
}

/**
 * Polls every onboarded camera on an interval with bounded concurrency, feeds each poll through
 * the debouncing health machine, and records the outcome: state and incidents in SQLite, a
 * `camera_health` point per poll and a `presence` point per change in the history store, and a
 * `camera.health` event for live consoles.
 */
export class CameraHealthService {
  private readonly logger: Logger;
  private readonly config: CameraHealthConfig;
  private readonly live = new Map<string, StoredCameraStatus>();
  private readonly snapshots = new Map<string, { jpeg: Buffer; at: number }>();
  private timer: TimerHandle | null = null;
  private sweeping: Promise<SweepReport> | null = null;
  private abort = new AbortController();
  /** Incidents opened or closed by polls whose outcome could not be stored, per camera, in order. */
  private readonly unsaved = new Map<string, IncidentChange[]>();
  private saveFailures = 0;
  private lastSaveError: string | null = null;
  private lastSaveErrorAt: number | null = null;
  private readonly saveLog: BurstLogger;
  private readonly logins: CameraLoginGate;
  /** TLS certificates trusted on first use, per camera and `host:port`. */
  private trusted = new Map<string, Map<string, string>>();
  /** The device address each camera was last polled at: a new one forgets its certificates. */
  private readonly polledAt = new Map<string, string>();
  /** One poll at a time per device, so NVR channels see each other's refused logins. */
  private readonly deviceTurns = new Map<string, Promise<unknown>>();
  /** Certificates trusted (or forgotten), stored one after another in that order. */
  private trustWrites: Promise<void> = Promise.resolve();

  constructor(private readonly options: CameraHealthServiceOptions) {
    this.logger = options.logger.child({ component: 'cameras' });
    this.saveLog = new BurstLogger(this.logger, options.clock, 60_000);
    this.config = cameraHealthConfig(options.health);
    this.logins = new CameraLoginGate({
      store: options.store,
      clock: options.clock,
      logger: this.logger,
      config: { ...defaultLoginBackoffConfig, ...options.loginBackoff },
    });
  }

  /** Loads the stored health, backoffs and certificates, then polls on the interval. */
  async start(): Promise<void> {
    for (const status of await this.options.store.loadAll()) this.live.set(status.cameraId, status);
    await this.logins.load();
    this.trusted = await this.options.store.trustedCertificates();
    this.abort = new AbortController();
    // Every call of every concurrent probe listens for shutdown on this one signal.
    setMaxListeners(0, this.abort.signal);
    this.timer = this.options.clock.setInterval(() => {
      // A sweep still running when the next is due is not doubled: the next one waits its turn.
      if (this.sweeping || this.options.mayPoll?.() === false) return;
      this.sweep().catch((err) => this.logger.error({ err }, 'camera sweep failed'));
    }, this.options.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) this.options.clock.clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.sweeping?.catch(() => undefined);
    await Promise.all([this.logins.settled(), this.trustWrites]);
  }

  status(cameraId: string): CameraStatus {
    const s = this.live.get(cameraId);
    const health = s?.health ?? initialCameraHealth(this.options.clock.now());
    const xaddr = this.polledAt.get(cameraId);
    return {
      state: health.state,
      since: health.since,
      reason: health.reason.code,
      // While logins are held back, police read why and until when.
      detail: (xaddr !== undefined ? this.logins.detail(xaddr, health) : null) ?? health.reason.detail,
      lastPollAt: s?.lastPollAt ?? null,
      lastOkAt: s?.lastOkAt ?? null,
      signals: s?.signals ?? null,
    };
  }

  snapshot(cameraId: string): { jpeg: Buffer; at: number } | null {
    return this.snapshots.get(cameraId) ?? null;
  }

  incidents(cameraId: string, page: Page): Promise<Paged<IncidentRecord>> {
    return this.options.store.incidents(cameraId, page);
  }

  /**
   * A poll's outcome recorded by another instance (the poller lease's holder): what `status()`
   * answers here, and where this instance's health machine goes on from if it takes the lease over.
   * Stored and announced by the instance that polled.
   */
  adopt(status: StoredCameraStatus): void {
    const current = this.live.get(status.cameraId);
    if ((current?.lastPollAt ?? -1) > (status.lastPollAt ?? -1)) return;
    this.live.set(status.cameraId, status);
  }

  /** Drops what is kept of a removed camera. */
  forget(cameraId: string): void {
    this.live.delete(cameraId);
    this.snapshots.delete(cameraId);
    this.trusted.delete(cameraId);
    this.polledAt.delete(cameraId);
  }

  /**
   * Why credentials must not go to the device at `xaddr` now (its login backoff), or undefined.
   * Anything else that logs in to cameras asks first and reports back with `reportLogin`, so the
   * refused logins of the whole platform stay within one hourly bound per device.
   */
  loginHeldBack(xaddr: string): string | undefined {
    return this.logins.heldBack(xaddr);
  }

  /**
   * A login made outside a poll (an event subscription, a live view): refused ones count against
   * the same bound, an accepted one ends the wait.
   */
  reportLogin(xaddr: string, outcome: { refused: boolean; refusal?: string; refusedLogins?: number }): void {
    this.logins.afterPoll(xaddr, {
      refusedLogins: outcome.refused ? Math.max(1, outcome.refusedLogins ?? 1) : 0,
      authOk: !outcome.refused,
      loginSkipped: false,
      refusal: outcome.refusal ?? null,
    });
  }

  /** The TLS certificates trusted for a camera, SHA-256 by `host:port` (https cameras). */
  certificates(cameraId: string): Record<string, string> {
    return Object.fromEntries(this.trusted.get(cameraId) ?? []);
  }

  /** Certificates another client of the camera (the live view) saw first are trusted from now on. */
  trustSeen(cameraId: string, seen: Record<string, string>): void {
    if (Object.keys(seen).length > 0) this.trustNew(cameraId, seen);
  }

  /**
   * Forgets the certificates trusted for a camera (it was replaced, or its certificate renewed):
   * the next one it presents is trusted on first use. For a technician's "trust the new
   * certificate" action.
   */
  async forgetCertificates(cameraId: string): Promise<void> {
    this.trusted.delete(cameraId);
    // After any certificate of the camera still being stored, so none of them comes back.
    const forgotten = this.trustWrites.then(() => this.options.store.forgetCertificates(cameraId));
    this.trustWrites = forgotten.catch(() => undefined);
    await forgotten;
    this.options.onCertificatesChanged?.(cameraId);
  }

  /** Polls every camera once (at most `concurrency` at a time); resolves when all are done. */
  sweep(): Promise<SweepReport> {
    if (this.sweeping) return this.sweeping;
    const run = this.runSweep().finally(() => {
      this.sweeping = null;
    });
    this.sweeping = run;
    return run;
  }

  /**
   * Polls one camera now and records the result, as a sweep would. A technician asking for it
   * ends the login backoff's wait (not the hourly bound on refused logins).
   */
  poll(cameraId: string): Promise<CameraProbeResult> {
    return this.pollCamera(cameraId, true);
  }

  private async pollCamera(cameraId: string, manual: boolean): Promise<CameraProbeResult> {
    const credentials: PollCredentials & CameraCredentials = await this.options.cameras.credentials(cameraId);
    const device = deviceOf(credentials.xaddr);
    const turn = (this.deviceTurns.get(device) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.probeAndRecord(cameraId, credentials, manual));
    const tail = turn.finally(() => {
      if (this.deviceTurns.get(device) === tail) this.deviceTurns.delete(device);
    });
    this.deviceTurns.set(device, tail);
    return turn;
  }

  private async probeAndRecord(
    cameraId: string,
    credentials: PollCredentials & CameraCredentials,
    manual: boolean,
  ): Promise<CameraProbeResult> {
    const { cameras, clock, callTimeoutMs } = this.options;
    const { xaddr, username, password, profileToken, snapshotUsername, snapshotPassword } = credentials;
    if (this.polledAt.has(cameraId) && this.polledAt.get(cameraId) !== xaddr) {
      // Pointed at another device by a technician: its certificate is a new first use.
      await this.forgetCertificates(cameraId);
    }
    this.polledAt.set(cameraId, xaddr);
    const updatedAt = Date.parse((await cameras.find(cameraId))?.updatedAt ?? '');
    const skipLogin = this.logins.beforePoll(credentials, {
      manual,
      editedSince: (at) => updatedAt > at,
    });
    const result = await probeCamera(
      {
        deviceUrl: xaddr,
        username,
        password,
        // A channel of an NVR checks its own profile's stream and snapshot.
        profileToken,
        ...(snapshotUsername && snapshotPassword
          ? { snapshotCredentials: { username: snapshotUsername, password: snapshotPassword } }
          : {}),
      },
      {
        clock,
        callTimeoutMs,
        signal: this.abort.signal,
        skipLogin,
        trustedCertificates: this.trusted.get(cameraId),
        ...(this.options.utcOffsetS !== undefined ? { utcOffsetS: this.options.utcOffsetS } : {}),
        ...(this.options.policy ? { policy: this.options.policy } : {}),
      },
    );
    if (!this.abort.signal.aborted) {
      this.trustNew(cameraId, result.certificates);
      this.logins.afterPoll(xaddr, result);
      await this.record(cameraId, result);
    }
    return result;
  }

  /** Certificates seen for the first time are trusted from now on (trust on first use). */
  private trustNew(cameraId: string, seen: Record<string, string>): void {
    const trusted = this.trusted.get(cameraId) ?? new Map<string, string>();
    let added = false;
    for (const [origin, fingerprint] of Object.entries(seen)) {
      if (trusted.has(origin)) continue;
      trusted.set(origin, fingerprint);
      added = true;
      this.logger.info({ cameraId, origin, fingerprint }, 'camera certificate trusted on first use');
      const at = this.options.clock.now();
      // Kept in memory meanwhile, and stored in the order trusted; on a failed write the next poll
      // after a restart trusts it again.
      this.trustWrites = this.trustWrites
        .then(() => this.options.store.trustCertificate(cameraId, origin, fingerprint, at))
        .catch((err: unknown) =>
          this.logger.warn({ err, cameraId }, 'trusted camera certificate could not be stored'),
        );
    }
    this.trusted.set(cameraId, trusted);
    if (added) this.options.onCertificatesChanged?.(cameraId);
  }

  /** Polls whose outcome could not be stored (written later), and the last such error. */
  stats(): {
    unsavedCameras: number;
    saveFailures: number;
    lastSaveError: string | null;
    lastSaveErrorAt: number | null;
  } {
    return {
      unsavedCameras: this.unsaved.size,
      saveFailures: this.saveFailures,
      lastSaveError: this.lastSaveError,
      lastSaveErrorAt: this.lastSaveErrorAt,
    };
  }

  /** Stores a poll's outcome after any earlier ones of the camera that could not be stored. */
  private async save(status: StoredCameraStatus, incidents: IncidentChange): Promise<void> {
    const pending = [...(this.unsaved.get(status.cameraId) ?? []), incidents];
    try {
      while (pending.length > 0) {
        await this.options.store.save(status, pending[0] as IncidentChange);
        pending.shift();
      }
      this.unsaved.delete(status.cameraId);
    } catch (err) {
      this.unsaved.set(status.cameraId, pending.filter((p) => p.opened || p.closed).slice(-MAX_UNSAVED));
      this.saveFailures++;
      this.lastSaveError = err instanceof Error ? err.message : String(err);
      this.lastSaveErrorAt = this.options.clock.now();
      this.saveLog.warn(
        'save',
        { err, cameraId: status.cameraId },
        'camera poll could not be stored; kept for the next poll',
      );
    }
  }

  private async runSweep(): Promise<SweepReport> {
    const startedAt = this.options.clock.now();
    const wallStart = performance.now();
    const ids = await this.allCameraIds();
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !this.abort.signal.aborted) {
        const id = ids[next++] as string;
        try {
          await this.pollCamera(id, false);
        } catch (err) {
          // A camera removed mid-sweep, or a store error: the others still get their poll.
          this.logger.warn({ err, cameraId: id }, 'camera poll could not be recorded');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, ids.length) }, worker));
    const states: SweepReport['states'] = {};
    for (const id of ids) {
      const state = this.status(id).state;
      states[state] = (states[state] ?? 0) + 1;
    }
    const report = { cameras: ids.length, startedAt, durationMs: performance.now() - wallStart, states };
    this.logger.debug(report, 'camera sweep done');
    return report;
  }

  /** Every camera's id; reading them all refreshes the cameras' directory too. */
  private async allCameraIds(): Promise<string[]> {
    return (await this.options.cameras.refreshDirectory()).map((c) => c.id);
  }

  private async record(cameraId: string, result: CameraProbeResult): Promise<void> {
    const { clock, events, telemetry } = this.options;
    const now = clock.now();
    const previous = this.live.get(cameraId);
    // A poll held back from logging in says only that the camera answers: it leaves the health
    // as it was. Not answering, or a changed certificate, still counts.
    const heldBack = result.loginSkipped && result.reachable && !result.certificateChanged;
    const step = heldBack
      ? {
          health: previous?.health ?? initialCameraHealth(now),
          changed: false,
          transition: null,
          opened: null,
          closed: null,
        }
      : stepCameraHealth(previous?.health as CameraHealth | undefined, result, now, this.config);
    const signals = heldBack
      ? (previous?.signals ?? null)
      : {
          reachable: result.reachable,
          onvifOk: result.onvifOk,
          onvifLatencyMs: result.onvifLatencyMs,
          authOk: result.authOk,
          clockDriftS: result.clockDriftS,
          timeZoneErrorS: result.timeZoneErrorS ?? null,
          ...(result.certificateChanged ? { certificateChanged: true } : {}),
          streamUriPresent: result.streamUriPresent,
          rtspOk: result.rtspOk,
          ...(result.streamError ? { streamError: result.streamError } : {}),
          snapshotOk: result.snapshotOk,
          snapshotBytes: result.snapshotBytes,
          snapshotLatencyMs: result.snapshotLatencyMs,
          ...(result.snapshotError ? { snapshotError: result.snapshotError } : {}),
          ...(result.error ? { error: result.error } : {}),
        };
    const status: StoredCameraStatus = {
      cameraId,
      health: step.health,
      lastPollAt: now,
      lastOkAt: usable(step.health.state) && !heldBack ? now : (previous?.lastOkAt ?? null),
      signals,
    };
    // What the camera is doing is known now, stored or not: police see it either way, and the
    // incidents a failed write would lose are kept to be written with the next poll.
    this.live.set(cameraId, status);
    await this.save(status, { opened: step.opened, closed: step.closed });
    this.options.onRecorded?.(status);
    if (result.snapshotOk && result.snapshot)
      this.snapshots.set(cameraId, { jpeg: result.snapshot, at: now });

    const tags = await this.options.tagsOf(cameraId);
    const points: TelemetryPoint[] = [
      {
        measurement: 'camera_health',
        tags,
        at: now,
        // A held-back poll checked nothing past the answer, so it records nothing past it.
        fields: heldBack
          ? { state: STATE_CODE[step.health.state], reachable: true }
          : {
              state: STATE_CODE[step.health.state],
              reachable: result.reachable,
              onvif_latency_ms: result.onvifLatencyMs ?? undefined,
              auth_ok: result.authOk ?? undefined,
              clock_drift_s: result.clockDriftS ?? undefined,
              stream_ok: result.rtspOk,
              snapshot_ok: result.snapshotOk,
              snapshot_latency_ms: result.snapshotLatencyMs ?? undefined,
              snapshot_bytes: result.snapshotBytes ?? undefined,
            },
      },
    ];
    const t = step.transition;
    if (t && (t.from === 'unknown' || usable(t.from) !== usable(t.to))) {
      points.push({
        measurement: 'presence',
        tags,
        at: step.health.since,
        fields: { online: usable(t.to), reason: t.reason.code },
      });
    }
    telemetry.write(points);
    if (t) {
      this.logger.info(
        { cameraId, from: t.from, to: t.to, reason: t.reason.code, detail: t.reason.detail },
        'camera health changed',
      );
      events.emit('camera.health', {
        cameraId,
        state: t.to,
        previous: t.from,
        since: step.health.since,
        reason: t.reason.code,
        detail: t.reason.detail,
        at: now,
      });
    }
  }
}
