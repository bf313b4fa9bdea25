import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { z } from 'zod';
import type { MessageBus, Unsubscribe } from '../../broker/bus/message-bus.js';
import {
  type Clock,
  DEVICE_TOPIC_KINDS,
  filterFor,
  type Heartbeat,
  parseTopic,
  TOPICS,
} from '../../devices/index.js';
import { BurstLogger } from '../burst-logger.js';
import type { EventBus } from '../event-bus.js';

export const REJECTION_REASONS = ['invalid-json', 'invalid-payload', 'unknown-topic', 'oversized'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface DeviceIngressOptions {
  bus: MessageBus;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  rejectedCounter?: Counter<'reason'>;
  /**
   * The outputs registered for a cluster as a bit mask (bit n for output n), or null when unknown.
   * A heartbeat reporting an output the cluster is not registered with is refused: the technician
   * who fitted it has to register it, or its faults would show against no speaker.
   */
  registeredOutputs?(deviceId: string): number | null;
}

/** The last message refused from a device, so a technician can see why. */
export interface LastRejection {
  reason: RejectionReason;
  detail: string | null;
  at: number;
}

/** Longest rejection detail kept per device. */
const MAX_DETAIL_CHARS = 300;

const UNKNOWN_DEVICE = '(unknown)';

/**
 * The single entry point for device messages: every payload is parsed with its topic's schema;
 * good ones become typed events on the bus, bad ones are dropped, counted per device and reason,
 * and logged once per burst. Nothing here can throw back into the broker.
 */
export class DeviceIngress {
  private readonly rejected = new Map<string, Map<RejectionReason, number>>();
  private readonly lastRejected = new Map<string, LastRejection>();
  private readonly unsubscribers: Unsubscribe[] = [];
  private readonly logger: Logger;
  private readonly burstLogger: BurstLogger;

  constructor(private readonly options: DeviceIngressOptions) {
    this.logger = options.logger.child({ component: 'ingress' });
    this.burstLogger = new BurstLogger(this.logger, options.clock);
  }

  async start(): Promise<void> {
    for (const kind of DEVICE_TOPIC_KINDS) {
      this.unsubscribers.push(await this.options.bus.subscribe(filterFor(kind), (t, p) => this.handle(t, p)));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.unsubscribers.splice(0).map((unsubscribe) => unsubscribe()));
  }

  handle(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || TOPICS[parsed.kind].from !== 'device') {
      this.reject(null, topic, 'unknown-topic');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      this.reject(parsed.deviceId, topic, 'invalid-json', (error as Error).message);
      return;
    }
    const result = (TOPICS[parsed.kind].schema as z.ZodType).safeParse(json);
    if (!result.success) {
      const detail = result.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      this.reject(parsed.deviceId, topic, 'invalid-payload', detail);
      return;
    }
    const { deviceId } = parsed;
    if (parsed.kind === 'heartbeat') {
      const unregistered = this.unregisteredOutputs(deviceId, result.data as Heartbeat);
      if (unregistered) {
        this.reject(deviceId, topic, 'invalid-payload', unregistered);
        return;
      }
    }
    const at = this.options.clock.now();
    const { events } = this.options;
    switch (parsed.kind) {
      case 'state':
        events.emit('device.state', { deviceId, state: result.data as never, at });
        break;
      case 'heartbeat':
        events.emit('device.heartbeat', { deviceId, heartbeat: result.data as never, at });
        break;
      case 'ack':
        events.emit('device.ack', { deviceId, ack: result.data as never, at });
        break;
      case 'event':
        events.emit('device.event', { deviceId, event: result.data as never, at });
        break;
    }
  }

  /** Why a heartbeat names outputs the cluster is not registered with, or null when it does not. */
  private unregisteredOutputs(deviceId: string, heartbeat: Heartbeat): string | null {
    const mask = this.options.registeredOutputs?.(deviceId) ?? null;
    if (mask === null) return null;
    const extra = heartbeat.speakers.filter((s) => (mask & (1 << s.idx)) === 0).map((s) => s.idx);
    if (extra.length === 0) return null;
    const registered = Array.from({ length: 17 }, (_, idx) => idx).filter((idx) => mask & (1 << idx));
    return `speakers: output ${extra.join(', ')} is not registered for this cluster (registered: ${registered.join(', ')})`;
  }

  /** Also called by the broker hook for packets refused at the transport (oversized). */
  reject(deviceId: string | null, topic: string, reason: RejectionReason, detail?: string): void {
    const key = deviceId ?? UNKNOWN_DEVICE;
    const counts = this.rejected.get(key) ?? new Map<RejectionReason, number>();
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    this.rejected.set(key, counts);
    this.lastRejected.set(key, {
      reason,
      detail: detail === undefined ? null : detail.slice(0, MAX_DETAIL_CHARS),
      at: this.options.clock.now(),
    });
    this.options.rejectedCounter?.inc({ reason });
    this.burstLogger.warn(`${key}:${reason}`, { deviceId, topic, reason, detail }, 'device message rejected');
    this.options.events.emit('device.rejected', { deviceId, topic, reason, at: this.options.clock.now() });
  }

  /** The last message refused from one device, or null. */
  lastRejection(deviceId: string): LastRejection | null {
    return this.lastRejected.get(deviceId) ?? null;
  }

  /** Rejected message counts by reason, for one device. */
  rejections(deviceId: string): Record<string, number> {
    return Object.fromEntries(this.rejected.get(deviceId) ?? []);
  }

  /** Totals by reason across every device. */
  totals(): Record<RejectionReason, number> {
    const totals = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<
      RejectionReason,
      number
    >;
    for (const counts of this.rejected.values()) for (const [reason, n] of counts) totals[reason] += n;
    return totals;
  }
}
