import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import {
  type CameraEventSpec,
  EVENT_TOPICS,
  EVENTS_CAPABILITIES,
  eventsRoot,
  MAX_PULL_POINTS,
  notificationXml,
  type SimulatedEventKind,
  topicSetXml,
} from './event-messages.js';
import type { MediaLayout, ServiceAnswer, VideoSourceSpec } from './onvif-services.js';
import { FAULTS, type SoapFault, type SoapRequest, text } from './soap.js';

export const EVENTS_SERVICE_PATH = '/onvif/events_service';
/** Each subscription is its own address, as on most firmware: `/onvif/subscription/<id>`. */
export const SUBSCRIPTION_PATH = '/onvif/subscription/';

const DEFAULT_TERMINATION_MS = 60_000;
const MAX_TERMINATION_MS = 3_600_000;
/** ONVIF Core: a device shall support PullMessages timeouts up to one minute. */
const MAX_PULL_TIMEOUT_MS = 60_000;
/** Messages a subscription keeps for a client that stopped pulling; the oldest are dropped. */
const MAX_QUEUED = 1_000;

interface Subscription {
  id: string;
  /** In the camera's clock. */
  terminationAt: number;
  queue: string[];
  waiter: { resolve: () => void; handle: TimerHandle } | null;
}

export interface EventsServiceOptions {
  clock: Clock;
  /** The camera's own clock (drift included): TerminationTime and UtcTime are written in it. */
  cameraNow(): number;
  layout: MediaLayout;
  /** http(s)://host:port of the camera, for subscription addresses. */
  baseUrl(): string;
  log: Logger;
}

export interface EventsStatus {
  subscriptions: number;
  created: number;
  renewed: number;
  unsubscribed: number;
  /** Events active now, as `kind@channel`. */
  active: string[];
}

const resourceUnknown = (id: string): SoapFault => ({
  code: 'Sender',
  subcode: 'ter:InvalidArgVal',
  subSubcode: 'ter:ResourceUnknown',
  reason: `No such subscription: ${id} (expired, unsubscribed, or lost in a reboot)`,
});
const invalidArg = (reason: string): SoapFault => ({ code: 'Sender', subcode: 'ter:InvalidArgVal', reason });

/** xs:duration (PnDTnHnMnS, as ONVIF clients send) in ms, or null. */
export function parseXsDuration(value: string): number | null {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value.trim());
  if (!m || value.trim() === 'P' || value.trim().endsWith('T')) return null;
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return (((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60 + Number(s)) * 1000;
}

/** A WS-BaseNotification AbsoluteOrRelativeTime: a duration from now, or a dateTime. */
function terminationFrom(value: string | undefined, nowMs: number): number | null {
  if (value === undefined || value.trim() === '') return nowMs + DEFAULT_TERMINATION_MS;
  const relative = value.trim().startsWith('P') ? parseXsDuration(value) : null;
  const at = relative !== null ? nowMs + relative : Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(at, nowMs + 1000), nowMs + MAX_TERMINATION_MS);
}

/**
 * The camera's Events service over PullPoint (ONVIF Core, "Real-time Pull-Point Notification
 * Interface"): CreatePullPointSubscription, PullMessages held open until a message or the timeout,
 * Renew, Unsubscribe and SetSynchronizationPoint. Motion, tamper and video loss are properties: a
 * new subscription first receives each one's state as Initialized, then every change. Everything
 * lives in memory, so a reboot loses every subscription, as on real firmware.
 */
export class SimulatedEventsService {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly active = new Set<string>();
  private readonly endTimers = new Map<string, TimerHandle>();
  private created = 0;
  private renewed = 0;
  private unsubscribed = 0;

  constructor(private readonly options: EventsServiceOptions) {}

  handles(path: string): boolean {
    return path === EVENTS_SERVICE_PATH || path.startsWith(SUBSCRIPTION_PATH);
  }

  async answer(path: string, request: SoapRequest): Promise<ServiceAnswer> {
    if (path === EVENTS_SERVICE_PATH) return this.answerEvents(request);
    const id = path.slice(SUBSCRIPTION_PATH.length);
    const subscription = this.live(id);
    if (!subscription) return { ok: false, fault: resourceUnknown(id) };
    const now = this.options.cameraNow();
    switch (request.action) {
      case 'PullMessages':
        return this.pull(subscription, request);
      case 'Renew': {
        const at = terminationFrom(text(request.params.TerminationTime), now);
        if (at === null)
          return { ok: false, fault: invalidArg('TerminationTime is not a duration or a time') };
        subscription.terminationAt = at;
        this.renewed += 1;
        return ok(
          eventsRoot(
            'wsnt:RenewResponse',
            `<wsnt:TerminationTime>${iso(at)}</wsnt:TerminationTime><wsnt:CurrentTime>${iso(now)}</wsnt:CurrentTime>`,
          ),
        );
      }
      case 'Unsubscribe':
        this.drop(subscription);
        this.unsubscribed += 1;
        return ok(eventsRoot('wsnt:UnsubscribeResponse', ''));
      case 'SetSynchronizationPoint':
        this.queueInitialState(subscription);
        return ok(eventsRoot('tev:SetSynchronizationPointResponse', ''));
      default:
        return { ok: false, fault: FAULTS.actionNotSupported(request.action) };
    }
  }

  /**
   * Starts or ends an event on a channel (or all); an event with a duration ends by itself on the
   * camera's clock.
   */
  raise(spec: CameraEventSpec): void {
    const sources =
      spec.channel === 'all'
        ? this.options.layout.sources
        : this.options.layout.sources.filter((s) => s.channel === spec.channel);
    if (sources.length === 0) throw new Error(`no channel ${spec.channel}`);
    for (const source of sources) this.set(spec.kind, source, spec.active, spec.durationS);
  }

  status(): EventsStatus {
    this.purge();
    return {
      subscriptions: this.subscriptions.size,
      created: this.created,
      renewed: this.renewed,
      unsubscribed: this.unsubscribed,
      active: [...this.active].sort(),
    };
  }

  /** A power cycle: subscriptions and active events are gone, and held pulls are let go. */
  reset(): void {
    for (const subscription of this.subscriptions.values()) this.release(subscription);
    this.subscriptions.clear();
    for (const handle of this.endTimers.values()) this.options.clock.clearTimeout(handle);
    this.endTimers.clear();
    this.active.clear();
  }

  private answerEvents(request: SoapRequest): ServiceAnswer {
    switch (request.action) {
      case 'GetServiceCapabilities':
        return ok(eventsRoot('tev:GetServiceCapabilitiesResponse', EVENTS_CAPABILITIES));
      case 'GetEventProperties':
        return ok(
          eventsRoot(
            'tev:GetEventPropertiesResponse',
            '<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
              '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>' +
              topicSetXml() +
              '<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</wsnt:TopicExpressionDialect>' +
              '<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect>' +
              '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
              '<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>',
          ),
        );
      case 'CreatePullPointSubscription':
        return this.create(request);
      default:
        return { ok: false, fault: FAULTS.actionNotSupported(request.action) };
    }
  }

  private create(request: SoapRequest): ServiceAnswer {
    const now = this.options.cameraNow();
    const at = terminationFrom(text(request.params.InitialTerminationTime), now);
    if (at === null)
      return { ok: false, fault: invalidArg('InitialTerminationTime is not a duration or a time') };
    this.purge();
    if (this.subscriptions.size >= MAX_PULL_POINTS) {
      return {
        ok: false,
        fault: {
          code: 'Receiver',
          subcode: 'ter:Action',
          reason: `At most ${MAX_PULL_POINTS} pull points; unsubscribe one or let it expire`,
        },
      };
    }
    const subscription: Subscription = {
      id: randomBytes(8).toString('hex'),
      terminationAt: at,
      queue: [],
      waiter: null,
    };
    this.subscriptions.set(subscription.id, subscription);
    this.created += 1;
    this.queueInitialState(subscription);
    this.options.log.debug({ subscription: subscription.id }, 'pull point created');
    return ok(
      eventsRoot(
        'tev:CreatePullPointSubscriptionResponse',
        `<tev:SubscriptionReference><wsa:Address>${this.options.baseUrl()}${SUBSCRIPTION_PATH}${subscription.id}</wsa:Address></tev:SubscriptionReference>` +
          `<wsnt:CurrentTime>${iso(now)}</wsnt:CurrentTime><wsnt:TerminationTime>${iso(at)}</wsnt:TerminationTime>`,
      ),
    );
  }

  private async pull(subscription: Subscription, request: SoapRequest): Promise<ServiceAnswer> {
    const timeout = parseXsDuration(text(request.params.Timeout) ?? 'PT10S');
    if (timeout === null) return { ok: false, fault: invalidArg('Timeout is not a duration') };
    const limit = Math.min(Math.max(Number(text(request.params.MessageLimit) ?? 100) || 1, 1), MAX_QUEUED);
    if (subscription.queue.length === 0 && timeout > 0) {
      // One pull at a time per subscription: a newer one lets the older answer empty.
      this.release(subscription);
      await new Promise<void>((resolve) => {
        const handle = this.options.clock.setTimeout(
          () => this.release(subscription),
          Math.min(timeout, MAX_PULL_TIMEOUT_MS),
        );
        subscription.waiter = { resolve, handle };
      });
    }
    const messages = subscription.queue.splice(0, limit);
    return ok(
      eventsRoot(
        'tev:PullMessagesResponse',
        `<tev:CurrentTime>${iso(this.options.cameraNow())}</tev:CurrentTime>` +
          `<tev:TerminationTime>${iso(subscription.terminationAt)}</tev:TerminationTime>${messages.join('')}`,
      ),
    );
  }

  private set(kind: SimulatedEventKind, source: VideoSourceSpec, active: boolean, durationS: number): void {
    const key = `${kind}@${source.channel}`;
    const timer = this.endTimers.get(key);
    if (timer !== undefined) this.options.clock.clearTimeout(timer);
    this.endTimers.delete(key);
    if (active && durationS > 0) {
      this.endTimers.set(
        key,
        this.options.clock.setTimeout(() => {
          this.endTimers.delete(key);
          this.set(kind, source, false, 0);
        }, durationS * 1000),
      );
    }
    if (this.active.has(key) === active) return;
    if (active) this.active.add(key);
    else this.active.delete(key);
    this.options.log.info({ event: kind, channel: source.channel, active }, 'event');
    const now = this.options.cameraNow();
    this.purge();
    for (const spec of EVENT_TOPICS.filter((t) => t.kind === kind)) {
      const xml = notificationXml(spec, source, active, 'Changed', now);
      for (const subscription of this.subscriptions.values()) this.push(subscription, xml);
    }
  }

  /** ONVIF Core "Properties": a subscriber learns each property's current state first. */
  private queueInitialState(subscription: Subscription): void {
    const now = this.options.cameraNow();
    for (const source of this.options.layout.sources) {
      for (const spec of EVENT_TOPICS) {
        const active = this.active.has(`${spec.kind}@${source.channel}`);
        this.push(subscription, notificationXml(spec, source, active, 'Initialized', now));
      }
    }
  }

  private push(subscription: Subscription, xml: string): void {
    subscription.queue.push(xml);
    if (subscription.queue.length > MAX_QUEUED) subscription.queue.shift();
    this.release(subscription);
  }

  /** Answers a held pull now. */
  private release(subscription: Subscription): void {
    const waiter = subscription.waiter;
    if (!waiter) return;
    subscription.waiter = null;
    this.options.clock.clearTimeout(waiter.handle);
    waiter.resolve();
  }

  /** The subscription, unless it has ended (ended ones are forgotten on the way). */
  private live(id: string): Subscription | null {
    this.purge();
    return this.subscriptions.get(id) ?? null;
  }

  private purge(): void {
    const now = this.options.cameraNow();
    for (const subscription of this.subscriptions.values()) {
      if (subscription.terminationAt <= now) this.drop(subscription);
    }
  }

  private drop(subscription: Subscription): void {
    this.release(subscription);
    this.subscriptions.delete(subscription.id);
  }
}

const ok = (body: string): ServiceAnswer => ({ ok: true, body });
const iso = (ms: number) => new Date(ms).toISOString();
