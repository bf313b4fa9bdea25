import type { BrokerSecurityEvent } from '../broker/mqtt-broker.js';
import type { DeliveryState } from '../contracts/broadcasts.js';
import type { ReceiptState } from '../contracts/bulletins.js';
import type { Ack, DeviceEvent, Heartbeat, StateMessage } from '../devices/index.js';
import type { CameraHealthState } from '../devices/onvif-camera/index.js';
import type { AccountChange } from './accounts/auth-service.js';
import type { AlarmRecord, IncidentRecord } from './alarms/alarm-store.js';
import type { CameraEventRecord } from './cameras/camera-event-store.js';
import type { AlarmNotice } from './notifications/alarm-notices.js';
import type { RegistryChange } from './registry/registry-store.js';

export type PresenceReason =
  | 'connect'
  | 'state'
  | 'heartbeat'
  | 'will'
  | 'shutdown'
  | 'disconnect'
  | 'connection-lost'
  | 'heartbeat-timeout'
  | 'platform-stopped';

export interface ScheduleChange {
  what: 'schedule' | 'group';
  id: string;
  change: 'created' | 'updated' | 'deleted';
}

export interface PresenceChange {
  deviceId: string;
  online: boolean;
  reason: PresenceReason;
  at: number;
}

/** Everything services tell each other in-process; the Socket.IO layer relays these to consoles. */
export interface PlatformEvents {
  'device.presence': PresenceChange;
  'device.state': { deviceId: string; state: StateMessage; at: number };
  'device.heartbeat': { deviceId: string; heartbeat: Heartbeat; at: number };
  'device.ack': { deviceId: string; ack: Ack; at: number };
  'device.event': { deviceId: string; event: DeviceEvent; at: number };
  'device.rejected': { deviceId: string | null; topic: string; reason: string; at: number };
  'camera.health': {
    cameraId: string;
    state: CameraHealthState;
    previous: CameraHealthState;
    /** When the camera entered the state (the first poll of the deciding run). */
    since: number;
    reason: string;
    detail: string;
    at: number;
  };
  /** A camera's motion, tamper or video-loss period started or ended (as stored). */
  'camera.event': CameraEventRecord & { at: number };
  /** A delivery of a broadcast to one cluster reached a new state (as stored). */
  'broadcast.delivery': { broadcastId: string; clusterId: string; state: DeliveryState; at: number };
  /** A commune, village or cluster was created, changed or removed, by any path. */
  'registry.changed': RegistryChange & { at: number };
  /** A schedule or a group of clusters was created, changed or removed, by any path. */
  'schedules.changed': ScheduleChange & { at: number };
  /** A commune's receipt of a bulletin from the province changed (Circular 39: sent, decided, aired). */
  'bulletin.receipt': { bulletinId: string; communeId: string; state: ReceiptState; at: number };
  /** An alarm opened, was acknowledged or cleared. */
  'alarm.changed': { alarm: AlarmRecord; change: 'opened' | 'acknowledged' | 'cleared'; at: number };
  /** A village outage opened, gained or got back a device, or cleared. */
  'incident.changed': { incident: IncidentRecord; at: number };
  /** An alarm or village outage people are told of (not held; an outage once, not per device). */
  'alarm.notice': AlarmNotice;
  /** An account was created or changed, or its sessions or tokens ended, by any path. */
  'accounts.changed': AccountChange & { at: number };
  /**
   * A device refused: a bad credential or a topic it may not use on the broker, a bad credential on
   * the media route, or an oversized packet. Counted, audited (in a bounded digest) and, for a
   * packet, told to ingress as a rejected message.
   */
  'security.refused': BrokerSecurityEvent & { via: 'mqtt' | 'media'; at: number };
  'broker.connection': {
    clientId: string;
    connected: boolean;
    /** For a disconnect: a clean DISCONNECT, a lost connection with its will, or without one. */
    end?: 'disconnect' | 'will' | 'connection-lost';
    at: number;
  };
  /** A device's session moved to another instance's broker (several instances sharing Redis). */
  'broker.moved': { clientId: string; at: number };
}

export type EventName = keyof PlatformEvents;
/** What a listener returns is ignored, except a promise, whose rejection is a failure too. */
type Listener<K extends EventName> = (payload: PlatformEvents[K]) => unknown;

interface Entry {
  listener: (payload: never) => unknown;
  owner: string;
}

/** A listener that threw or whose promise rejected, with who registered it. */
export interface ListenerFailure {
  owner: string;
  event: EventName;
  error: unknown;
}

/**
 * Everything services tell each other in-process. Each listener runs on its own: one that throws
 * (or rejects) is counted against its owner and reported, and the event still reaches every other
 * listener. A service registers under its name and removes all of its listeners at its stop.
 */
export class EventBus {
  // Copied on change, not on emit: listeners change at start and stop, events flow all the time.
  private readonly listeners = new Map<EventName, readonly Entry[]>();
  private readonly failed = new Map<string, { owner: string; event: EventName; count: number }>();
  private failureHandler: ((failure: ListenerFailure) => void) | null = null;

  on<K extends EventName>(event: K, listener: Listener<K>, owner = 'unnamed'): () => void {
    const entry: Entry = { listener: listener as Entry['listener'], owner };
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), entry]);
    return () => this.remove(event, (e) => e === entry);
  }

  /** A service's handle: its listeners are registered under its name and removed together. */
  owner(name: string): OwnedListeners {
    return {
      on: (event, listener) => this.on(event, listener, name),
      removeAll: () => {
        for (const event of [...this.listeners.keys()]) this.remove(event, (e) => e.owner === name);
      },
    };
  }

  emit<K extends EventName>(event: K, payload: PlatformEvents[K]): void {
    const entries = this.listeners.get(event);
    if (!entries) return;
    for (const entry of entries) {
      try {
        const result = (entry.listener as Listener<K>)(payload);
        if (result instanceof Promise)
          result.then(undefined, (error: unknown) => this.fail(entry.owner, event, error));
      } catch (error) {
        this.fail(entry.owner, event, error);
      }
    }
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Where failed listeners are reported (the platform counts them on /metrics and logs them). */
  onListenerFailure(handler: (failure: ListenerFailure) => void): void {
    this.failureHandler = handler;
  }

  /** Listener failures since start, by owner and event. */
  failures(): { owner: string; event: EventName; count: number }[] {
    return [...this.failed.values()].map((f) => ({ ...f }));
  }

  private fail(owner: string, event: EventName, error: unknown): void {
    const key = `${owner}\u0000${event}`;
    const counted = this.failed.get(key) ?? { owner, event, count: 0 };
    counted.count++;
    this.failed.set(key, counted);
    try {
      this.failureHandler?.({ owner, event, error });
    } catch {
      // Reporting must not break the delivery of the event to the next listener.
    }
  }

  private remove(event: EventName, match: (entry: Entry) => boolean): void {
    const entries = this.listeners.get(event);
    if (!entries) return;
    const kept = entries.filter((entry) => !match(entry));
    if (kept.length > 0) this.listeners.set(event, kept);
    else this.listeners.delete(event);
  }
}

export interface OwnedListeners {
  on<K extends EventName>(event: K, listener: Listener<K>): () => void;
  /** Removes every listener registered through this handle (and any other under the same name). */
  removeAll(): void;
}
