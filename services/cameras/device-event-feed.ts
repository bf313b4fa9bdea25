import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import type { TrustOnFirstUse } from '../../devices/onvif-camera/camera-connector.js';
import { deviceServices, listChannels } from '../../devices/onvif-camera/channels.js';
import {
  type CameraEventKind,
  chooseTopics,
  type EventTopic,
} from '../../devices/onvif-camera/event-topics.js';
import { OnvifSession } from '../../devices/onvif-camera/onvif-session.js';
import type { CameraTarget, ProbeStep } from '../../devices/onvif-camera/probe.js';
import {
  createPullPoint,
  EventCallError,
  getEventProperties,
  type NotificationMessage,
  type PullPoint,
  pullMessages,
  renewPullPoint,
  unsubscribe,
} from '../../devices/onvif-camera/pullpoint.js';

export type FeedState = 'starting' | 'subscribed' | 'retrying' | 'unsupported';

/**
 * Why a retrying feed waits on the platform rather than on the camera: the camera presents another
 * TLS certificate than the one trusted, none is trusted for it yet, or its login backoff holds it.
 */
export type FeedWaitReason = 'certificate-changed' | 'certificate-not-trusted' | 'login-held-back';

export interface FeedStatus {
  state: FeedState;
  reason: FeedWaitReason | null;
  kinds: CameraEventKind[];
  since: number;
  lastError: string | null;
  renewals: number;
  /** Subscriptions made after the first: each one a recovery (a reboot, a network cut). */
  resubscriptions: number;
}

/** What a batch of messages needs to be read: the topics chosen and the device's channel map. */
export interface FeedContext {
  topics: EventTopic[];
  /** Video source configuration token → video source token (rule engine events name the former). */
  sourceOfConfiguration: Map<string, string>;
  /** Profile token → video source token, for cameras onboarded by profile only. */
  sourceOfProfile: Map<string, string>;
  /** The source of the device's first profile: what a camera with no channel of its own shows. */
  firstSource: string | null;
  /** Camera clock minus platform clock, to date the messages in platform time. */
  clockOffsetMs: number;
}

export interface FeedTimings {
  /** InitialTerminationTime and Renew's TerminationTime. */
  terminationS: number;
  /** PullMessages Timeout: how long the camera holds a pull with nothing to say. */
  pullTimeoutS: number;
  messageLimit: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** How long a device without PullPoint events is left alone before it is asked again. */
  unsupportedRecheckMs: number;
}

/** The camera whose credentials the feed uses: its trusted certificates are the ones the feed pins. */
export interface FeedTarget extends CameraTarget {
  cameraId: string;
}

/**
 * The certificates the health poller trusts (CameraHealthService). The feed only follows that
 * decision: it never trusts a certificate itself, so one the poller has not trusted yet gets no
 * request at all, and one that differs from the trusted one gets none either.
 */
export interface EventFeedTrust {
  /** The SHA-256 fingerprint trusted for `host:port` of the camera, if any. */
  pinned(cameraId: string, origin: string): string | undefined;
}

export interface DeviceEventFeedOptions {
  xaddr: string;
  clock: Clock;
  logger: Logger;
  callTimeoutMs: number;
  policy?: CameraAddressPolicy;
  timings: FeedTimings;
  /** The credentials of one of the device's cameras, or null when it has none left. */
  target(): Promise<FeedTarget | null>;
  /**
   * The poller's trusted certificates for https devices. Without it, any certificate is taken for
   * the session (as an unpinned poll does) and remembered nowhere.
   */
  trust?: EventFeedTrust;
  /** Runs a subscription handshake when a slot is free: a thousand cameras do not all subscribe at once. */
  inTurn<T>(work: () => Promise<T>): Promise<T>;
  /** Awaited before the next pull, so events are stored in the order the camera sent them. */
  onMessages(messages: NotificationMessage[], context: FeedContext): Promise<void>;
  onStatus(status: FeedStatus): void;
  /**
   * The device's login backoff, shared with the health poller: asked before credentials go out,
   * and told whether they were accepted, so a camera that refuses them is not hammered by its
   * event subscription either.
   */
  logins?: EventFeedLogins;
}

export interface EventFeedLogins {
  /** Why no credentials may go to the device now, or undefined when they may. */
  heldBack(xaddr: string): string | undefined;
  report(xaddr: string, outcome: { refused: boolean; refusal?: string }): void;
}

/** Unsubscribing at shutdown is a courtesy to the camera's pull point slots, given a second at most. */
const UNSUBSCRIBE_BUDGET_MS = 1_000;

/**
 * One device's event subscription (one per address: an NVR's channels share it). It subscribes,
 * long-polls PullMessages, renews at half the termination time, and starts over (with backoff on
 * the platform clock) whenever a call fails: a camera that rebooted has forgotten the subscription,
 * so the next pull fails and a new one is made. A device without PullPoint events is not polled;
 * it is asked again hourly, or at once when `wake()` says it came back.
 */
export class DeviceEventFeed {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private stopped = false;
  private sleeping: { resolve: () => void; handle: TimerHandle } | null = null;
  private subscriptions = 0;
  private status: FeedStatus;

  constructor(private readonly options: DeviceEventFeedOptions) {
    this.status = {
      state: 'starting',
      kinds: [],
      since: options.clock.now(),
      reason: null,
      lastError: null,
      renewals: 0,
      resubscriptions: 0,
    };
  }

  get xaddr(): string {
    return this.options.xaddr;
  }

  current(): FeedStatus {
    return { ...this.status };
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) =>
      // Only a bug lands here; the feed is then dead until the camera changes or the platform restarts.
      this.options.logger.error({ err, xaddr: this.options.xaddr }, 'camera event feed stopped'),
    );
  }

  /** Ends the loop, letting go of a held pull, and unsubscribes if subscribed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.cutSleep();
    await this.loop;
  }

  /** Retries now instead of at the end of a backoff or of the hourly re-check (the camera is back). */
  wake(): void {
    this.cutSleep();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let target: FeedTarget | null;
      try {
        target = await this.options.target();
      } catch (err) {
        // The store is unreachable (a database restarting): tried again after the longest delay.
        const detail = err instanceof Error ? err.message : String(err);
        this.options.logger.warn(
          { err, xaddr: this.options.xaddr },
          'camera event feed could not read its camera',
        );
        this.update({ state: 'retrying', reason: null, lastError: detail });
        await this.sleep(this.options.timings.retryMaxMs);
        continue;
      }
      if (!target) return;
      const held = this.options.logins?.heldBack(this.options.xaddr);
      if (held !== undefined) {
        // Asked again at the longest retry delay, or at once when the camera is back (wake).
        if (this.status.state !== 'retrying' || !this.status.lastError?.startsWith('login held back')) {
          this.options.logger.info(
            { xaddr: this.options.xaddr, heldBack: held },
            'camera event subscription waits for the login backoff',
          );
        }
        this.update({ state: 'retrying', reason: 'login-held-back', lastError: `login held back: ${held}` });
        await this.sleep(this.options.timings.retryMaxMs);
        continue;
      }
      const session = this.session(target, this.options.callTimeoutMs, this.abort.signal);
      let pullPoint: PullPoint | null = null;
      try {
        const setup = await this.options.inTurn(() => this.subscribe(session));
        if (setup === 'unsupported') {
          failures = 0;
          await this.sleep(this.options.timings.unsupportedRecheckMs);
          continue;
        }
        pullPoint = setup.pullPoint;
        failures = 0;
        // The pull point was made with the credentials: the device accepts them.
        this.options.logins?.report(this.options.xaddr, { refused: false });
        await this.pullUntilFailure(session, setup.pullPoint, setup.context);
      } catch (err) {
        if (this.stopped) break;
        const detail = err instanceof Error ? err.message : String(err);
        const certificate =
          err instanceof EventCallError &&
          (err.kind === 'certificate-changed' || err.kind === 'certificate-not-trusted')
            ? err.kind
            : null;
        if (certificate) {
          // Refused at the TLS handshake: no request, so no credentials, went out. It stays so
          // until the poller trusts a certificate (trustChanged wakes the feed), checked again at
          // the longest retry delay meanwhile.
          if (this.status.reason !== certificate) {
            this.options.logger[certificate === 'certificate-changed' ? 'warn' : 'info'](
              { xaddr: this.options.xaddr, err: detail },
              certificate === 'certificate-changed'
                ? 'camera presents another TLS certificate than the one trusted; no events until it is trusted'
                : 'camera event subscription waits for the health poll to trust the camera certificate',
            );
          }
          failures = 0;
          this.update({ state: 'retrying', reason: certificate, lastError: detail });
          await this.sleep(this.options.timings.retryMaxMs);
          continue;
        }
        failures += 1;
        this.update({ state: 'retrying', reason: null, lastError: detail });
        // Refused credentials are not retried every minute: cameras lock an account out after a few
        // failed logins. A new password (the camera changes) or the camera accepting the poller's
        // login again (wake) brings the next attempt forward.
        const refused = err instanceof EventCallError && err.kind === 'unauthorized';
        // GetSystemDateAndTime goes without credentials: its 401 is a challenge, not a refused login.
        if (refused && err.call !== 'GetSystemDateAndTime') {
          this.options.logins?.report(this.options.xaddr, {
            refused: true,
            refusal: /: HTTP 40[13]$/.test(detail) ? `${detail} (login refused)` : detail,
          });
        }
        const { retryMaxMs, retryMinMs, unsupportedRecheckMs } = this.options.timings;
        const delay = refused
          ? unsupportedRecheckMs
          : Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(failures - 1, 16));
        this.options.logger[failures === 1 || refused ? 'info' : 'debug'](
          { xaddr: this.options.xaddr, err: detail, retryInMs: delay, failures },
          refused
            ? 'camera refused the credentials for its events; not asking again soon'
            : 'camera event subscription lost; subscribing again',
        );
        await this.sleep(delay);
      } finally {
        await session.close();
        if (this.stopped && pullPoint) await this.unsubscribe(target, pullPoint);
      }
    }
  }

  /** Finds the device's events service and topics, maps its channels, and makes a pull point. */
  private async subscribe(
    session: OnvifSession,
  ): Promise<{ pullPoint: PullPoint; context: FeedContext } | 'unsupported'> {
    const time = await session.syncClock();
    if (!time.ok) throw new EventCallError('GetSystemDateAndTime', time.kind, time.detail);
    const steps: ProbeStep[] = [];
    const services = await deviceServices(session, steps);
    const serviceCalls = steps.filter((s) => s.name === 'GetServices' || s.name === 'GetCapabilities');
    if (serviceCalls.every((s) => !s.ok)) {
      const last = serviceCalls.at(-1);
      const error = last?.error ?? 'no answer';
      const kind = /NotAuthorized|not authorized|HTTP 40[13]/i.test(error) ? 'unauthorized' : 'fault';
      throw new EventCallError(last?.name ?? 'GetServices', kind, error);
    }
    if (!services.eventsUrl || services.pullPoint === false) {
      this.update({ state: 'unsupported', kinds: [], reason: null, lastError: null });
      return 'unsupported';
    }
    let offered: string[] | null = null;
    try {
      offered = await getEventProperties(session, services.eventsUrl);
    } catch (err) {
      // A device that will not list its topics may still send them: every known topic is read.
      if (!(err instanceof EventCallError) || err.kind !== 'fault') throw err;
    }
    const topics = chooseTopics(offered);
    if (topics.length === 0) {
      this.update({ state: 'unsupported', kinds: [], reason: null, lastError: null });
      return 'unsupported';
    }
    const channels = await listChannels(session, services, []);
    const sourceOfConfiguration = new Map<string, string>();
    const sourceOfProfile = new Map<string, string>();
    for (const channel of channels) {
      for (const profile of channel.profiles) {
        sourceOfProfile.set(profile.token, channel.videoSourceToken);
        if (profile.videoSourceConfigurationToken)
          sourceOfConfiguration.set(profile.videoSourceConfigurationToken, channel.videoSourceToken);
      }
    }
    const pullPoint = await createPullPoint(session, services.eventsUrl, this.options.timings.terminationS);
    if (this.subscriptions > 0) this.status.resubscriptions += 1;
    this.subscriptions += 1;
    this.update({
      state: 'subscribed',
      kinds: [...new Set(topics.map((t) => t.kind))],
      reason: null,
      lastError: null,
    });
    return {
      pullPoint,
      context: {
        topics,
        sourceOfConfiguration,
        sourceOfProfile,
        firstSource: channels.find((c) => c.profiles.length > 0)?.videoSourceToken ?? null,
        clockOffsetMs: session.clockOffsetMs,
      },
    };
  }

  /** Pulls until a call fails (thrown) or the feed stops; renews at half of what is left. */
  private async pullUntilFailure(
    session: OnvifSession,
    pullPoint: PullPoint,
    context: FeedContext,
  ): Promise<void> {
    const { clock, timings } = this.options;
    const renewAt = () => clock.now() + (pullPoint.expiresAt - clock.now()) / 2;
    let renewDue = renewAt();
    while (!this.stopped) {
      // A camera that grants less time than asked is pulled for less, so a renewal is never late.
      const leftS = Math.floor((pullPoint.expiresAt - clock.now()) / 3000);
      const timeoutS = Math.max(1, Math.min(timings.pullTimeoutS, leftS));
      const pulled = await pullMessages(session, pullPoint, timeoutS, timings.messageLimit);
      pullPoint.expiresAt = pulled.expiresAt;
      // Days of one subscription: the camera's clock is followed as it drifts, to date its events.
      if (pulled.cameraTime !== null) context.clockOffsetMs = pulled.cameraTime - clock.now();
      if (pulled.messages.length > 0) await this.options.onMessages(pulled.messages, context);
      if (clock.now() >= renewDue) {
        pullPoint.expiresAt = await renewPullPoint(session, pullPoint, timings.terminationS);
        this.status.renewals += 1;
        renewDue = renewAt();
      }
    }
  }

  /** A session that pins the certificates the poller trusts for the target's camera, and no other. */
  private session(target: FeedTarget, callTimeoutMs: number, signal: AbortSignal): OnvifSession {
    const { trust, policy } = this.options;
    const pinned: TrustOnFirstUse | null = trust
      ? {
          pinned: (origin) => trust.pinned(target.cameraId, origin),
          seen: () => undefined,
          firstUse: false,
        }
      : null;
    return new OnvifSession(target, {
      clock: this.options.clock,
      callTimeoutMs,
      signal,
      ...(policy ? { policy } : {}),
      ...(pinned ? { trust: pinned } : {}),
    });
  }

  private async unsubscribe(target: FeedTarget, pullPoint: PullPoint): Promise<void> {
    // Real time on purpose: shutdown must end even when the platform clock stands still.
    const session = this.session(target, UNSUBSCRIBE_BUDGET_MS, AbortSignal.timeout(UNSUBSCRIBE_BUDGET_MS));
    try {
      await unsubscribe(session, pullPoint);
    } catch (err) {
      // It expires on the camera by itself within the termination time.
      this.options.logger.debug(
        { err, xaddr: this.options.xaddr },
        'could not unsubscribe from camera events',
      );
    } finally {
      await session.close();
    }
  }

  private update(patch: Partial<FeedStatus>): void {
    const changed = patch.state !== undefined && patch.state !== this.status.state;
    this.status = { ...this.status, ...patch, ...(changed ? { since: this.options.clock.now() } : {}) };
    this.options.onStatus(this.current());
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const handle = this.options.clock.setTimeout(() => {
        this.sleeping = null;
        resolve();
      }, ms);
      this.sleeping = { resolve, handle };
    });
  }

  private cutSleep(): void {
    const sleeping = this.sleeping;
    if (!sleeping) return;
    this.sleeping = null;
    this.options.clock.clearTimeout(sleeping.handle);
    sleeping.resolve();
  }
}
