import type { Logger } from 'pino';
import { type ClientOptions, HttpClient } from 'urllib';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import { cameraConnector } from '../../devices/onvif-camera/camera-connector.js';
import { isCompleteJpeg, probeCamera } from '../../devices/onvif-camera/probe.js';
import { callRunner } from '../../devices/onvif-camera/probe-calls.js';
import { RtspJpegClient, RtspStreamError } from '../../devices/onvif-camera/rtsp-client.js';
import { fetchSnapshot } from '../../devices/onvif-camera/snapshot-fetch.js';
import { mayActIn, type Principal } from '../accounts/roles.js';
import type { AuditEntryInput, AuditLog } from '../audit/audit-log.js';
import { ServiceUnavailableError } from '../errors.js';
import type { CameraStore } from './camera-store.js';

/*
 * Live view for police: the platform pulls Motion JPEG from the camera over RTSP (RTP/JPEG,
 * interleaved on the RTSP connection) and forwards each frame to the browsers watching it, as
 * multipart/x-mixed-replace; a camera without an MJPEG stream is shown by polling its snapshot.
 * One upstream per camera, shared by its viewers and closed when the last one leaves; viewers are
 * bounded per camera and overall; every view is audited when it starts and when it ends.
 */

export interface LiveLimits {
  /** Viewers of one camera at once. */
  perCamera: number;
  /** Viewers of all cameras at once (each camera adds one upstream stream). */
  total: number;
  /** Snapshot polling period when the camera has no MJPEG stream. */
  snapshotIntervalMs: number;
  /** How often open views check again that their session or token is still valid. */
  recheckMs: number;
  /** An upstream that brings no frame this long after opening fails the view. */
  firstFrameMs: number;
}

export const LIVE_LIMITS: LiveLimits = {
  perCamera: 4,
  total: 16,
  snapshotIntervalMs: 1_000,
  recheckMs: 15_000,
  firstFrameMs: 10_000,
};

/** Tries to reopen a lost upstream this many times, a second apart, before ending its views. */
const REOPEN_ATTEMPTS = 3;
/** Snapshot failures in a row that end a snapshot-polled view. */
const SNAPSHOT_FAILURES = 5;

export type ViewerCredential = { kind: 'session'; sessionId: string } | { kind: 'token'; token: string };

export interface Viewer {
  principal: Principal;
  /** What the viewer signed in with, checked again while the view is open. */
  credential: ViewerCredential;
  address: string | null;
  requestId: string;
}

export type ViewEndReason =
  | 'viewer-left'
  | 'frames-delivered'
  | 'signed-out'
  | 'camera-lost'
  | 'camera-removed'
  | 'platform-stopping';

export interface LiveView {
  readonly cameraId: string;
  readonly source: 'rtsp' | 'snapshots';
  /** Called with every frame from now on; `end` once, when the view ends for any reason. */
  attach(listener: { frame(jpeg: Buffer): void; end(reason: ViewEndReason): void }): void;
  close(reason: ViewEndReason): void;
}

/**
 * What the health poller keeps per camera and device, which the live view goes through too: the
 * TLS certificates trusted on first use, and the login backoff after refused logins.
 */
export interface LiveCameraTrust {
  /** Why no credentials may go to the device now (its login backoff), or undefined. */
  loginHeldBack(xaddr: string): string | undefined;
  /** A login outside a poll: refused ones count against the device's hourly bound. */
  reportLogin(xaddr: string, outcome: { refused: boolean; refusal?: string; refusedLogins?: number }): void;
  /** SHA-256 fingerprints trusted per `host:port`. */
  certificates(cameraId: string): Record<string, string>;
  /** Certificates seen for the first time become trusted, as the poller's would. */
  trustSeen(cameraId: string, seen: Record<string, string>): void;
}

export interface CameraLiveOptions {
  cameras: CameraStore;
  trust: LiveCameraTrust;
  policy: CameraAddressPolicy;
  audit: AuditLog;
  /** The principal a credential stands for now, or null once it ended (signed out, expired, revoked). */
  authenticate(credential: ViewerCredential): Promise<Principal | null>;
  clock: Clock;
  logger: Logger;
  callTimeoutMs: number;
  limits?: Partial<LiveLimits>;
}

/** Who may watch: police (and admins) of the camera's commune. */
export function mayWatch(principal: Principal, communeId: string): boolean {
  const role = principal.roles.includes('admin') || principal.roles.includes('police');
  return role && mayActIn(principal, communeId);
}

class ViewHandle implements LiveView {
  frames = 0;
  readonly startedAt: number;
  private listener: { frame(jpeg: Buffer): void; end(reason: ViewEndReason): void } | null = null;
  ended = false;
  private endReason: ViewEndReason | null = null;

  constructor(
    readonly cameraId: string,
    readonly communeId: string,
    readonly viewer: Viewer,
    private readonly upstream: Upstream,
    private readonly onClose: (view: ViewHandle, reason: ViewEndReason) => void,
    now: number,
  ) {
    this.startedAt = now;
  }

  get source(): 'rtsp' | 'snapshots' {
    return this.upstream.source ?? 'snapshots';
  }

  attach(listener: { frame(jpeg: Buffer): void; end(reason: ViewEndReason): void }): void {
    if (this.endReason) {
      listener.end(this.endReason);
      return;
    }
    this.listener = listener;
    const latest = this.upstream.latest;
    if (latest) this.deliver(latest);
  }

  deliver(jpeg: Buffer): void {
    if (this.ended || !this.listener) return;
    this.frames++;
    this.listener.frame(jpeg);
  }

  close(reason: ViewEndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    this.onClose(this, reason);
    this.listener?.end(reason);
  }
}

/** The one stream from a camera that its viewers share. */
class Upstream {
  readonly views = new Set<ViewHandle>();
  source: 'rtsp' | 'snapshots' | null = null;
  latest: Buffer | null = null;
  /** Settles with the first frame, or with why none came. */
  readonly ready: Promise<void>;
  private settle: { resolve(): void; reject(error: Error): void } | null = null;
  private rtsp: RtspJpegClient | null = null;
  private snapshotTimer: TimerHandle | null = null;
  private reopenTimer: TimerHandle | null = null;
  private readonly abort = new AbortController();
  private stopped = false;
  private reopenAttempts = 0;

  constructor(
    readonly cameraId: string,
    private readonly options: CameraLiveOptions,
    private readonly limits: LiveLimits,
    private readonly log: Logger,
    /** All views end: the camera is lost for good. */
    private readonly lost: (upstream: Upstream) => void,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Nobody may be awaiting yet; a failure is still reported to whoever does.
    this.ready.catch(() => undefined);
  }

  start(): void {
    this.open().catch((error: unknown) => this.failed(error));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    const { clock } = this.options;
    if (this.snapshotTimer) clock.clearInterval(this.snapshotTimer);
    if (this.reopenTimer) clock.clearTimeout(this.reopenTimer);
    this.snapshotTimer = null;
    this.reopenTimer = null;
    this.settle?.reject(new ServiceUnavailableError('the live view was closed', 'live_view_closed'));
    this.settle = null;
    const rtsp = this.rtsp;
    this.rtsp = null;
    await rtsp?.close();
  }

  private publish(jpeg: Buffer): void {
    if (this.stopped) return;
    this.latest = jpeg;
    this.reopenAttempts = 0;
    this.settle?.resolve();
    this.settle = null;
    for (const view of this.views) view.deliver(jpeg);
  }

  /**
   * Asks the camera where its stream is, then pulls MJPEG over RTSP, else polls snapshots. Like a
   * poll, it sends no credentials while the device's logins are held back, and none to a camera
   * whose certificate is not the one trusted.
   */
  private async open(): Promise<void> {
    const { cameras, clock, callTimeoutMs, policy, trust } = this.options;
    const credentials = await cameras.credentials(this.cameraId);
    const { xaddr, username, password, profileToken } = credentials;
    const held = trust.loginHeldBack(xaddr);
    if (held !== undefined) {
      throw unavailable(
        'camera_login_held_back',
        `the camera refused the platform\u2019s login recently (${held}); the live view waits too`,
      );
    }
    const snapshotAccount =
      credentials.snapshotUsername && credentials.snapshotPassword
        ? { username: credentials.snapshotUsername, password: credentials.snapshotPassword }
        : undefined;
    // The stream of the camera's own profile: one channel of an NVR is one camera here.
    const probe = await probeCamera(
      { deviceUrl: xaddr, username, password, profileToken, snapshotCredentials: snapshotAccount },
      {
        clock,
        callTimeoutMs,
        policy,
        signal: this.abort.signal,
        trustedCertificates: new Map(Object.entries(trust.certificates(this.cameraId))),
      },
    );
    if (this.stopped) return;
    if (probe.certificateChanged) {
      throw unavailable(
        'camera_certificate_changed',
        'the camera presents another TLS certificate than the one trusted; a technician must check it and trust the new one',
      );
    }
    trust.trustSeen(this.cameraId, probe.certificates);
    if (probe.refusedLogins > 0 || probe.authOk === true) {
      trust.reportLogin(xaddr, {
        refused: probe.refusedLogins > 0,
        refusedLogins: probe.refusedLogins,
        ...(probe.refusal ? { refusal: probe.refusal } : {}),
      });
    }
    if (!probe.reachable)
      throw unavailable('camera_unreachable', `the camera does not answer (${probe.error})`);
    if (probe.authOk === false)
      throw unavailable('camera_auth_failed', 'the camera refuses the platform\u2019s credentials');
    if (probe.streamUri) {
      try {
        policy.assertAllowed(probe.streamUri);
        const client = new RtspJpegClient({
          uri: probe.streamUri,
          username,
          password,
          clock,
          timeoutMs: callTimeoutMs,
          lookup: policy.lookup,
          onFrame: (jpeg) => this.publish(jpeg),
          onEnd: (error) => this.interrupted(error),
        });
        this.rtsp = client;
        await client.open();
        if (this.stopped) {
          await client.close();
          return;
        }
        this.source = 'rtsp';
        this.log.info({ cameraId: this.cameraId, uri: probe.streamUri }, 'live view: MJPEG over RTSP');
        return;
      } catch (error) {
        this.rtsp = null;
        if (this.stopped) return;
        if (error instanceof RtspStreamError && error.code === 'unauthorized')
          trust.reportLogin(xaddr, { refused: true, refusal: `live view RTSP: ${error.message}` });
        // No MJPEG track (an H.264-only camera) is expected; anything else is worth a line.
        const level = error instanceof RtspStreamError && error.code === 'no-mjpeg' ? 'info' : 'warn';
        this.log[level](
          { cameraId: this.cameraId, err: error },
          'live view: no MJPEG over RTSP, polling snapshots instead',
        );
      }
    }
    if (!probe.snapshotUri)
      throw unavailable('camera_no_picture', 'the camera offers no stream and no snapshot');
    this.pollSnapshots(
      probe.snapshotUri,
      xaddr,
      snapshotAccount ?? { username, password },
      snapshotAccount !== undefined,
      probe.snapshotOk ? probe.snapshot : null,
    );
  }

  private pollSnapshots(
    uri: string,
    xaddr: string,
    account: { username: string; password: string },
    separateAccount: boolean,
    first: Buffer | null,
  ): void {
    const { clock, callTimeoutMs, policy, trust } = this.options;
    this.source = 'snapshots';
    // The poller's trusted certificates pin the snapshot's https server too.
    const connector = cameraConnector({
      policy,
      connectTimeoutMs: callTimeoutMs,
      trust: {
        pinned: (origin) => trust.certificates(this.cameraId)[origin],
        seen: () => undefined,
      },
    });
    // undici (under urllib) takes a connect function where the types only list the options form.
    const http = new HttpClient({ connect: connector as unknown as ClientOptions['connect'] });
    const run = callRunner(clock, callTimeoutMs, this.abort.signal);
    let failures = 0;
    let busy = false;
    const fetchOne = async () => {
      policy.assertAllowed(uri);
      const res = await fetchSnapshot(http, uri, {
        credentials: account,
        separateAccount,
        run,
        callTimeoutMs,
      });
      if (res.loginRefused) {
        trust.reportLogin(xaddr, { refused: true, refusal: `live view snapshot: ${res.authProblem}` });
        // No second refused login from this view: the backoff decides when the next one may go.
        failures = SNAPSHOT_FAILURES;
      }
      if (res.status !== 200 || !isCompleteJpeg(res.data))
        throw new Error(`snapshot: ${res.authProblem ?? `HTTP ${res.status}`}`);
      return res.data;
    };
    const tick = () => {
      if (busy || this.stopped) return;
      busy = true;
      fetchOne()
        .then((jpeg) => {
          failures = 0;
          this.publish(jpeg);
        })
        .catch((error: unknown) => {
          failures++;
          if (failures >= SNAPSHOT_FAILURES) {
            if (this.snapshotTimer) clock.clearInterval(this.snapshotTimer);
            this.snapshotTimer = null;
            this.failed(error);
          }
        })
        .finally(() => {
          busy = false;
        });
    };
    this.snapshotTimer = clock.setInterval(tick, this.limits.snapshotIntervalMs);
    this.abort.signal.addEventListener('abort', () => {
      http
        .getDispatcher()
        .close()
        .catch(() => undefined);
    });
    if (first) this.publish(first);
    else tick();
  }

  /** The RTSP stream ended under us: reopened a few times, then the views end. */
  private interrupted(error: RtspStreamError): void {
    this.rtsp = null;
    if (this.stopped) return;
    this.log.warn({ cameraId: this.cameraId, err: error }, 'live view: camera stream lost');
    if (this.reopenAttempts >= REOPEN_ATTEMPTS) {
      this.failed(error);
      return;
    }
    this.reopenAttempts++;
    this.reopenTimer = this.options.clock.setTimeout(() => {
      this.reopenTimer = null;
      this.open().catch((reason: unknown) => this.interrupted(asStreamError(reason)));
    }, 1_000);
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    const settle = this.settle;
    this.settle = null;
    if (settle) {
      settle.reject(
        error instanceof ServiceUnavailableError ? error : unavailable('camera_unavailable', describe(error)),
      );
    } else {
      this.log.warn({ cameraId: this.cameraId, err: error }, 'live view: camera lost, views ended');
      this.lost(this);
    }
  }
}

const unavailable = (code: string, message: string) => new ServiceUnavailableError(message, code);
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
const asStreamError = (error: unknown) =>
  error instanceof RtspStreamError ? error : new RtspStreamError('network', describe(error));

/** The live views of all cameras. */
export class CameraLiveService {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly limits: LiveLimits;
  private readonly log: Logger;
  private recheckTimer: TimerHandle | null = null;
  private viewers = 0;

  constructor(private readonly options: CameraLiveOptions) {
    this.limits = { ...LIVE_LIMITS, ...options.limits };
    this.log = options.logger.child({ component: 'camera-live' });
  }

  /** Views open now, per camera; and upstream streams. */
  stats(): { viewers: number; upstreams: number; perCamera: Record<string, number> } {
    return {
      viewers: this.viewers,
      upstreams: this.upstreams.size,
      perCamera: Object.fromEntries([...this.upstreams].map(([id, u]) => [id, u.views.size])),
    };
  }

  /**
   * Opens a view once the camera's first frame is in. Refused (503) when the viewer limits are
   * reached or the camera gives no picture; the refusal is audited too.
   */
  async open(cameraId: string, communeId: string, viewer: Viewer): Promise<LiveView> {
    const { clock } = this.options;
    const existing = this.upstreams.get(cameraId);
    const refusal =
      this.viewers >= this.limits.total
        ? unavailable('too_many_viewers', `${this.limits.total} live views are open; close one first`)
        : (existing?.views.size ?? 0) >= this.limits.perCamera
          ? unavailable(
              'too_many_viewers',
              `${this.limits.perCamera} people are watching this camera; close a view first`,
            )
          : null;
    if (refusal) {
      this.audit('camera.view.start', cameraId, viewer, 'failure', 503, { code: refusal.code });
      throw refusal;
    }
    let upstream = existing;
    if (!upstream) {
      upstream = new Upstream(cameraId, this.options, this.limits, this.log, (lost) =>
        this.endAll(lost, 'camera-lost'),
      );
      this.upstreams.set(cameraId, upstream);
      upstream.start();
    }
    const view = new ViewHandle(
      cameraId,
      communeId,
      viewer,
      upstream,
      (v, reason) => this.closed(v, reason),
      clock.now(),
    );
    upstream.views.add(view);
    this.viewers++;
    this.startRecheck();
    let timer: TimerHandle | null = null;
    try {
      await Promise.race([
        upstream.ready,
        new Promise<never>((_, reject) => {
          timer = clock.setTimeout(
            () =>
              reject(
                unavailable(
                  'camera_unavailable',
                  `no picture from the camera within ${this.limits.firstFrameMs} ms`,
                ),
              ),
            this.limits.firstFrameMs,
          );
        }),
      ]);
    } catch (error) {
      view.ended = true;
      this.detach(view);
      const failure =
        error instanceof ServiceUnavailableError ? error : unavailable('camera_unavailable', describe(error));
      this.audit('camera.view.start', cameraId, viewer, 'failure', 503, {
        code: failure.code,
        error: failure.message,
      });
      throw failure;
    } finally {
      if (timer) clock.clearTimeout(timer);
    }
    this.audit('camera.view.start', cameraId, viewer, 'success', 200, { source: view.source });
    return view;
  }

  /**
   * Checks every open view's credential again: a signed-out, expired or revoked session, a
   * disabled account, or one that lost the police role or the commune ends its views; so does
   * the camera's removal.
   */
  async recheck(): Promise<void> {
    for (const upstream of [...this.upstreams.values()]) {
      for (const view of [...upstream.views]) {
        let removed: boolean;
        try {
          removed = (await this.options.cameras.find(view.cameraId)) === null;
        } catch (error) {
          // The camera store did not answer: the view goes on until the next check.
          this.log.warn({ err: error }, 'live view: could not check the camera again');
          continue;
        }
        if (removed) {
          view.close('camera-removed');
          continue;
        }
        let principal: Principal | null;
        try {
          principal = await this.options.authenticate(view.viewer.credential);
        } catch (error) {
          // The account store did not answer: the view goes on until the next check.
          this.log.warn({ err: error }, 'live view: could not check the viewer again');
          continue;
        }
        if (!principal || !mayWatch(principal, view.communeId)) view.close('signed-out');
      }
    }
  }

  /** Ends every view and closes every upstream (TEARDOWN sent). */
  async stop(): Promise<void> {
    const upstreams = [...this.upstreams.values()];
    for (const upstream of upstreams) this.endAll(upstream, 'platform-stopping');
    await Promise.all(upstreams.map((u) => u.stop()));
    this.stopRecheck();
  }

  private endAll(upstream: Upstream, reason: ViewEndReason): void {
    for (const view of [...upstream.views]) view.close(reason);
  }

  private closed(view: ViewHandle, reason: ViewEndReason): void {
    this.detach(view);
    const durationS = Math.round((this.options.clock.now() - view.startedAt) / 100) / 10;
    this.audit('camera.view.end', view.cameraId, view.viewer, 'success', null, {
      durationS,
      frames: view.frames,
      source: view.source,
      reason,
    });
    this.log.info(
      { cameraId: view.cameraId, user: view.viewer.principal.username, durationS, reason },
      'live view ended',
    );
  }

  /** Takes a view off its upstream; the last one out closes the upstream. */
  private detach(view: ViewHandle): void {
    const upstream = this.upstreams.get(view.cameraId);
    if (!upstream?.views.delete(view)) return;
    this.viewers--;
    if (upstream.views.size === 0) {
      this.upstreams.delete(view.cameraId);
      upstream
        .stop()
        .catch((error: unknown) => this.log.warn({ err: error }, 'live view: closing the stream failed'));
    }
    if (this.viewers === 0) this.stopRecheck();
  }

  private startRecheck(): void {
    if (this.recheckTimer) return;
    this.recheckTimer = this.options.clock.setInterval(() => void this.recheck(), this.limits.recheckMs);
  }

  private stopRecheck(): void {
    if (this.recheckTimer) this.options.clock.clearInterval(this.recheckTimer);
    this.recheckTimer = null;
  }

  private audit(
    action: 'camera.view.start' | 'camera.view.end',
    cameraId: string,
    viewer: Viewer,
    outcome: AuditEntryInput['outcome'],
    status: number | null,
    detail: Record<string, unknown>,
  ): void {
    const { principal } = viewer;
    this.options.audit.record({
      requestId: viewer.requestId,
      actor: {
        type: principal.via === 'token' ? 'token' : 'user',
        id: principal.userId,
        name: principal.username,
        roles: principal.roles,
      },
      action,
      target: { type: 'camera', id: cameraId },
      outcome,
      status,
      address: viewer.address,
      detail,
    });
  }
}
