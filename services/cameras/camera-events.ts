import type { Logger } from 'pino';
import type { Camera } from '../../contracts/cameras.js';
import type { Clock } from '../../devices/index.js';
import type { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import { eventSource, eventState, topicPath } from '../../devices/onvif-camera/event-topics.js';
import type { NotificationMessage } from '../../devices/onvif-camera/pullpoint.js';
import { NotFoundError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import { settle, type Tunable } from '../options.js';
import type { Page, Paged } from '../registry/registry-store.js';
import type { CameraEventFilter, CameraEventRecord, CameraEventStore } from './camera-event-store.js';
import type { CameraChange, CameraStore } from './camera-store.js';
import {
  DeviceEventFeed,
  type EventFeedLogins,
  type EventFeedTrust,
  type FeedContext,
  type FeedStatus,
} from './device-event-feed.js';

/** The service's optional numbers (CameraEventServiceOptions), defaults and ranges. */
const EVENT_TUNABLES = {
  terminationS: { default: 120, min: 10, max: 3600 },
  pullTimeoutS: { default: 20, min: 1, max: 60 },
  messageLimit: { default: 64, min: 1, max: 1000 },
  retryMinMs: { default: 1_000, min: 10, max: 60_000 },
  retryMaxMs: { default: 60_000, min: 100, max: 3_600_000 },
  unsupportedRecheckMs: { default: 3_600_000, min: 1_000, max: 86_400_000 },
} satisfies Record<string, Tunable>;

export interface CameraEventServiceOptions extends Partial<Record<keyof typeof EVENT_TUNABLES, number>> {
  cameras: CameraStore;
  store: CameraEventStore;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  callTimeoutMs: number;
  /** Subscription handshakes at once (CAMERA_POLL_CONCURRENCY). */
  concurrency: number;
  policy?: CameraAddressPolicy;
  /** The login backoff the health poller keeps per device (CameraHealthService). */
  logins?: EventFeedLogins;
  /** The TLS certificates the health poller trusts per camera (https cameras). */
  trust?: EventFeedTrust;
  /** Each device's subscription state as it changes, for the other instances. */
  onStatus?(xaddr: string, status: FeedStatus): void;
}

const usable = (state: string) => state === 'ok' || state === 'degraded';

/**
 * Motion, tamper and video loss from the cameras' ONVIF events, as periods with a start and an
 * end. One PullPoint subscription per device address (an NVR's channels share one); each message
 * goes to the camera of the channel it names. A period opens and closes in SQLite and goes out on
 * the event bus (`camera.event`) for the consoles. Devices without PullPoint events are not polled.
 */
export class CameraEventService {
  private readonly logger: Logger;
  private readonly settings: Record<keyof typeof EVENT_TUNABLES, number>;
  private readonly feeds = new Map<string, DeviceEventFeed>();
  /** Restarts of a device's feed, one after another, so two changes never run two feeds. */
  private restarts = new Map<string, Promise<void>>();
  private readonly statuses = new Map<string, FeedStatus>();
  private running = false;
  private unsubscribeHealth: (() => void) | null = null;
  private slotsFree: number;
  private readonly waiting: (() => void)[] = [];
  private unrouted = 0;
  private saveFailures = 0;

  constructor(private readonly options: CameraEventServiceOptions) {
    this.logger = options.logger.child({ component: 'camera-events' });
    this.settings = settle(options, EVENT_TUNABLES);
    this.slotsFree = Math.max(1, options.concurrency);
  }

  async start(): Promise<void> {
    this.running = true;
    for (const xaddr of (await this.options.cameras.devices()).keys()) this.startFeed(xaddr);
    // A camera that comes back (a reboot, a repaired link, new firmware) is subscribed to at once.
    this.unsubscribeHealth = this.options.events.on(
      'camera.health',
      ({ cameraId, state, previous }) => {
        if (!usable(state) || usable(previous)) return;
        this.wakeFeedOf(cameraId);
      },
      'camera-events',
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribeHealth?.();
    this.unsubscribeHealth = null;
    await Promise.all(this.restarts.values());
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.all(feeds.map((feed) => feed.stop()));
  }

  /** The store changed a camera: its device's feed starts over with what the store holds now. */
  cameraChanged(change: CameraChange): void {
    if (!this.running) return;
    for (const xaddr of change.xaddrs) {
      const previous = this.restarts.get(xaddr) ?? Promise.resolve();
      const next = previous
        .then(async () => {
          const feed = this.feeds.get(xaddr);
          this.feeds.delete(xaddr);
          this.statuses.delete(xaddr);
          await feed?.stop();
          if (this.running && (await this.options.cameras.atAddress(xaddr)).length > 0) this.startFeed(xaddr);
        })
        .catch((err: unknown) => this.logger.error({ err, xaddr }, 'could not restart a camera event feed'))
        .finally(() => {
          if (this.restarts.get(xaddr) === next) this.restarts.delete(xaddr);
        });
      this.restarts.set(xaddr, next);
    }
  }

  /**
   * The certificates trusted for a camera changed (trusted by a poll, or forgotten by a
   * technician): its device's feed, if it waits on one, tries again now.
   */
  trustChanged(cameraId: string): void {
    this.wakeFeedOf(cameraId);
  }

  private wakeFeedOf(cameraId: string): void {
    this.options.cameras
      .find(cameraId)
      .then((camera) => {
        if (camera) this.feeds.get(camera.xaddr)?.wake();
      })
      .catch((err: unknown) => this.logger.warn({ err, cameraId }, 'could not wake a camera event feed'));
  }

  /** The subscription of the camera's device, or null before it started. */
  feedOf(camera: Pick<Camera, 'xaddr'>): FeedStatus | null {
    return this.statuses.get(camera.xaddr) ?? null;
  }

  list(filter: CameraEventFilter, page: Page): Promise<Paged<CameraEventRecord>> {
    return this.options.store.list(filter, page);
  }

  stats(): { devices: number; subscribed: number; retrying: number; unrouted: number; saveFailures: number } {
    const states = [...this.statuses.values()].map((s) => s.state);
    return {
      devices: this.feeds.size,
      subscribed: states.filter((s) => s === 'subscribed').length,
      retrying: states.filter((s) => s === 'retrying').length,
      unrouted: this.unrouted,
      saveFailures: this.saveFailures,
    };
  }

  private startFeed(xaddr: string): void {
    const { clock, cameras, callTimeoutMs, policy, logins, trust } = this.options;
    const feed = new DeviceEventFeed({
      xaddr,
      clock,
      logger: this.logger,
      callTimeoutMs,
      ...(policy ? { policy } : {}),
      ...(logins ? { logins } : {}),
      ...(trust ? { trust } : {}),
      timings: this.settings,
      target: async () => {
        const first = (await cameras.atAddress(xaddr))[0];
        if (!first) return null;
        const credentials = await cameras.credentials(first.id).catch((err: unknown) => {
          // Removed meanwhile: the change restarts the feed with what is left.
          if (err instanceof NotFoundError) return null;
          throw err;
        });
        if (!credentials) return null;
        return {
          cameraId: first.id,
          deviceUrl: xaddr,
          username: credentials.username,
          password: credentials.password,
        };
      },
      inTurn: (work) => this.inTurn(work),
      onMessages: (messages, context) => this.receive(xaddr, messages, context),
      onStatus: (status) => {
        if (this.feeds.get(xaddr) === feed) this.setStatus(xaddr, status);
      },
    });
    this.feeds.set(xaddr, feed);
    this.setStatus(xaddr, feed.current());
    feed.start();
  }

  private setStatus(xaddr: string, status: FeedStatus): void {
    this.statuses.set(xaddr, status);
    this.options.onStatus?.(xaddr, status);
  }

  /**
   * A device's subscription as the instance running the feeds (the poller lease's holder) has it,
   * shown by this one while it runs none.
   */
  adoptStatus(xaddr: string, status: FeedStatus): void {
    if (!this.running) this.statuses.set(xaddr, status);
  }

  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.slotsFree > 0) this.slotsFree -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.slotsFree += 1;
    }
  }

  private async receive(xaddr: string, messages: NotificationMessage[], context: FeedContext): Promise<void> {
    const now = this.options.clock.now();
    let cameras: Camera[];
    try {
      cameras = await this.options.cameras.atAddress(xaddr);
    } catch (err) {
      this.saveFailures += 1;
      this.logger.warn({ err, xaddr }, 'camera events could not be routed: the cameras could not be read');
      return;
    }
    for (const message of messages) {
      const topic = context.topics.find((t) => t.path === topicPath(message.topic));
      if (!topic) continue;
      // A property that goes away (Deleted) is no longer going on.
      const active = message.operation === 'Deleted' ? false : eventState(topic, message.data);
      if (active === null) continue;
      const source = eventSource(message.source, context.sourceOfConfiguration);
      const targets = cameras.filter((camera) => {
        const shows =
          camera.videoSourceToken ??
          (camera.profileToken ? context.sourceOfProfile.get(camera.profileToken) : undefined) ??
          context.firstSource;
        return source === null || shows === null || shows === source;
      });
      if (targets.length === 0) {
        this.unrouted += 1;
        continue;
      }
      // The camera's time of the event, in platform time; never later than its arrival.
      const at = message.utcTime === null ? now : Math.min(now, message.utcTime - context.clockOffsetMs);
      for (const camera of targets) await this.record(camera.id, topic.kind, message.topic, active, at);
    }
  }

  private async record(
    cameraId: string,
    kind: CameraEventRecord['kind'],
    topic: string,
    active: boolean,
    at: number,
  ): Promise<void> {
    const { store, events, clock } = this.options;
    let changed: CameraEventRecord | null = null;
    try {
      const ongoing = await store.ongoing(cameraId, kind);
      if (active && !ongoing) changed = await store.start(cameraId, kind, topic, at);
      else if (!active && ongoing) changed = await store.end(ongoing.id, at);
    } catch (err) {
      this.saveFailures += 1;
      this.logger.warn({ err, cameraId, kind }, 'camera event could not be stored');
      return;
    }
    if (!changed) return;
    this.logger.info(
      { cameraId, kind, ended: changed.endedAt !== null, topic },
      changed.endedAt === null ? 'camera event started' : 'camera event ended',
    );
    events.emit('camera.event', { ...changed, at: clock.now() });
  }
}
