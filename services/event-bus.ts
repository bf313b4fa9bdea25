import { EventEmitter } from 'node:events';
import type { Ack, DeviceEvent, Heartbeat, StateMessage } from '../devices/index.js';
import type { CameraHealthState } from '../devices/onvif-camera/index.js';
import type { DeliveryState } from './announcements/types.js';

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
  /** A delivery of a broadcast to one cluster reached a new state (as stored). */
  'broadcast.delivery': { broadcastId: string; clusterId: string; state: DeliveryState; at: number };
  'broker.connection': {
    clientId: string;
    connected: boolean;
    /** For a disconnect: a clean DISCONNECT, a lost connection with its will, or without one. */
    end?: 'disconnect' | 'will' | 'connection-lost';
    at: number;
  };
}

export type EventName = keyof PlatformEvents;
type Listener<K extends EventName> = (payload: PlatformEvents[K]) => void;

export class EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    // One listener per service per event, plus one per console socket later on.
    this.emitter.setMaxListeners(0);
  }

  on<K extends EventName>(event: K, listener: Listener<K>): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  emit<K extends EventName>(event: K, payload: PlatformEvents[K]): void {
    this.emitter.emit(event, payload);
  }

  listenerCount(event: EventName): number {
    return this.emitter.listenerCount(event);
  }
}
