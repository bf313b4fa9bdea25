import type { Logger } from 'pino';
import type { Clock, Heartbeat } from '../../devices/index.js';
import type { EventBus, PresenceChange } from '../event-bus.js';
import { deviceTime } from '../time.js';
import type { DeviceKind } from './measurements.js';
import type { TelemetryPoint, TelemetryStore, TelemetryTags } from './telemetry-store.js';

/** Where a device sits, for the point's tags; null for a device the registry does not know. */
export type DeviceLocator = (
  deviceId: string,
) => { commune: string; village: string; kind: DeviceKind } | null;

export interface HistoryRecorderOptions {
  events: EventBus;
  store: TelemetryStore;
  locate: DeviceLocator;
  clock: Clock;
  logger: Logger;
  /** Tags are looked up once per device and refreshed after this long (a village rename, a move). */
  tagTtlMs?: number;
}

/**
 * Turns accepted heartbeats and presence transitions into history points. It only hands points
 * to the store, which buffers and batches them, so the broker's message path never waits on I/O.
 */
export class HistoryRecorder {
  private readonly unsubscribers: (() => void)[] = [];
  private readonly tags = new Map<string, { tags: TelemetryTags; until: number }>();
  private readonly logger: Logger;

  private readonly tagTtlMs: number;

  constructor(private readonly options: HistoryRecorderOptions) {
    this.tagTtlMs = Math.max(0, options.tagTtlMs ?? 10 * 60_000);
    this.logger = options.logger.child({ component: 'history' });
  }

  start(): void {
    const events = this.options.events.owner('history');
    this.unsubscribers.push(
      events.on('device.heartbeat', ({ deviceId, heartbeat, at }) =>
        this.onHeartbeat(deviceId, heartbeat, at),
      ),
      events.on('device.presence', (change) => this.onPresence(change)),
      // A renamed or moved village, commune or cluster: the next point carries the new tags.
      events.on('registry.changed', ({ clusterIds }) => {
        for (const id of clusterIds) this.forget(id);
      }),
    );
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
  }

  /** Drops a device's cached tags after a registry change, so the next point carries the new ones. */
  forget(deviceId: string): void {
    this.tags.delete(deviceId);
  }

  private onHeartbeat(deviceId: string, hb: Heartbeat, receivedAt: number): void {
    const point: TelemetryPoint<'heartbeat'> = {
      measurement: 'heartbeat',
      tags: this.tagsOf(deviceId),
      at: deviceTime(hb.ts, receivedAt),
      fields: {
        signal: hb.rssiDbm,
        volume: hb.volume,
        uptime: hb.uptimeS,
        temperature: hb.tempC,
        supply_voltage: hb.supplyV,
        speakers_ok: hb.speakers.filter((s) => s.ok).length,
        speakers_total: hb.speakers.length,
        playing: hb.playing,
        power: hb.power,
      },
    };
    this.options.store.write([point]);
  }

  private onPresence({ deviceId, online, reason, at }: PresenceChange): void {
    const point: TelemetryPoint<'presence'> = {
      measurement: 'presence',
      tags: this.tagsOf(deviceId),
      at,
      fields: { online, reason },
    };
    this.options.store.write([point]);
  }

  private tagsOf(deviceId: string): TelemetryTags {
    const now = this.options.clock.now();
    const cached = this.tags.get(deviceId);
    if (cached && cached.until > now) return cached.tags;
    let located: ReturnType<DeviceLocator> = null;
    try {
      located = this.options.locate(deviceId);
    } catch (error) {
      this.logger.warn({ err: error, deviceId }, 'could not look up the device for its history tags');
    }
    const tags: TelemetryTags = {
      commune: located?.commune ?? '',
      village: located?.village ?? '',
      device: deviceId,
      kind: located?.kind ?? 'speaker-cluster',
    };
    this.tags.set(deviceId, { tags, until: now + this.tagTtlMs });
    return tags;
  }
}
