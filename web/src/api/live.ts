import { useEffect, useRef, useSyncExternalStore } from 'react';
import { io, type Socket } from 'socket.io-client';
import type {
  CameraLive,
  ClientToServerEvents,
  ClusterLive,
  DeliveryLive,
  RawMessage,
  ServerToClientEvents,
} from '../../../contracts/realtime';

export type { CameraLive, ClusterLive, DeliveryLive, RawMessage };
/** A commune's receipt of a bulletin from the province changed. */
export type ReceiptLive = Parameters<ServerToClientEvents['bulletins.receipt']>[0];
/** A camera's motion, tamper or video loss started or ended. */
export type CameraEventLive = Parameters<ServerToClientEvents['cameras.event']>[0];
/** An alarm opened, was acknowledged or cleared. */
export type AlarmLive = Parameters<ServerToClientEvents['alarms.changed']>[0];
/** A village outage opened, changed or cleared. */
export type IncidentLive = Parameters<ServerToClientEvents['incidents.changed']>[0];
/** What the alarm views are told: a change, or null after a (re)connection (changes may have been missed). */
export type AlarmEvent = { alarm: AlarmLive } | { incident: IncidentLive } | null;

/** A relayed message with a local sequence number, a stable key for lists. */
export type KeptMessage = RawMessage & { seq: number };

type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface LiveState {
  connected: boolean;
  clusters: ReadonlyMap<string, ClusterLive>;
  cameras: ReadonlyMap<string, CameraLive>;
  /** Latest delivery state per broadcast, then per cluster. */
  deliveries: ReadonlyMap<string, ReadonlyMap<string, DeliveryLive>>;
}

const MESSAGES_KEPT = 200;

/**
 * One Socket.IO connection per signed-in session. Snapshots replace what is held, so a
 * reconnect (after sleep, a network change or a platform restart) restores the view in place.
 */
export class LiveStore {
  private socket: LiveSocket | null = null;
  private state: LiveState = {
    connected: false,
    clusters: new Map(),
    cameras: new Map(),
    deliveries: new Map(),
  };
  private readonly listeners = new Set<() => void>();
  private readonly messages = new Map<string, KeptMessage[]>();
  private sequence = 0;
  private readonly messageListeners = new Map<string, Set<() => void>>();
  /** Told of every receipt, and with null after a reconnect (receipts may have been missed). */
  private readonly receiptListeners = new Set<(receipt: ReceiptLive | null) => void>();
  /** Told of every camera event, and with null after a reconnect (events may have been missed). */
  private readonly cameraEventListeners = new Set<(event: CameraEventLive | null) => void>();
  private readonly alarmListeners = new Set<(event: AlarmEvent) => void>();
  /** Told of every village outage change, and on every (re)connection (changes may have been missed). */
  private readonly outageListeners = new Set<() => void>();
  /** Watch counts per device, so a watch survives reconnects and several views may share it. */
  private readonly watched = new Map<string, number>();

  start(): void {
    if (this.socket) return;
    const socket: LiveSocket = io({ path: '/socket.io', withCredentials: true });
    this.socket = socket;
    socket.on('connect', () => {
      this.set({ connected: true });
      for (const listener of this.receiptListeners) listener(null);
      for (const listener of this.cameraEventListeners) listener(null);
      for (const listener of this.alarmListeners) listener(null);
      for (const listener of this.outageListeners) listener();
      for (const deviceId of this.watched.keys()) socket.emit('device.watch', { deviceId }, () => {});
    });
    socket.on('disconnect', () => this.set({ connected: false }));
    socket.on('clusters.snapshot', (clusters) =>
      this.set({ clusters: new Map(clusters.map((c) => [c.id, c])) }),
    );
    socket.on('clusters.delta', (clusters) => this.set({ clusters: merge(this.state.clusters, clusters) }));
    socket.on('cameras.snapshot', (cameras) => this.set({ cameras: new Map(cameras.map((c) => [c.id, c])) }));
    socket.on('cameras.delta', (cameras) => this.set({ cameras: merge(this.state.cameras, cameras) }));
    socket.on('deliveries.delta', (deliveries) => {
      const next = new Map(this.state.deliveries);
      for (const delivery of deliveries) {
        const perCluster = new Map(next.get(delivery.broadcastId) ?? []);
        perCluster.set(delivery.clusterId, delivery);
        next.set(delivery.broadcastId, perCluster);
      }
      this.set({ deliveries: next });
    });
    socket.on('bulletins.receipt', (receipt) => {
      for (const listener of this.receiptListeners) listener(receipt);
    });
    socket.on('cameras.event', (event) => {
      for (const listener of this.cameraEventListeners) listener(event);
    });
    socket.on('alarms.changed', (alarm) => {
      for (const listener of this.alarmListeners) listener({ alarm });
    });
    socket.on('incidents.changed', (incident) => {
      for (const listener of this.alarmListeners) listener({ incident });
    });
    socket.on('outages.changed', () => {
      for (const listener of this.outageListeners) listener();
    });
    socket.on('device.messages', (messages) => {
      const touched = new Set<string>();
      for (const message of messages) {
        this.sequence += 1;
        const kept = { ...message, seq: this.sequence };
        const list = [...(this.messages.get(message.deviceId) ?? []), kept].slice(-MESSAGES_KEPT);
        this.messages.set(message.deviceId, list);
        touched.add(message.deviceId);
      }
      for (const deviceId of touched)
        for (const listener of this.messageListeners.get(deviceId) ?? []) listener();
    });
  }

  stop(): void {
    this.socket?.disconnect();
    this.socket = null;
    this.watched.clear();
    this.messages.clear();
    this.state = { connected: false, clusters: new Map(), cameras: new Map(), deliveries: new Map() };
    this.emit();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): LiveState => this.state;

  /** Starts relaying a device's MQTT traffic; resolves with the server's answer. */
  watch(deviceId: string): Promise<{ ok: boolean; error?: string }> {
    this.watched.set(deviceId, (this.watched.get(deviceId) ?? 0) + 1);
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve({ ok: false, error: 'disconnected' });
    return new Promise((resolve) => {
      socket.timeout(5000).emit('device.watch', { deviceId }, (error, answer) => {
        resolve(error ? { ok: false, error: 'timeout' } : answer);
      });
    });
  }

  unwatch(deviceId: string): void {
    const count = (this.watched.get(deviceId) ?? 0) - 1;
    if (count > 0) {
      this.watched.set(deviceId, count);
      return;
    }
    this.watched.delete(deviceId);
    this.socket?.emit('device.unwatch', { deviceId }, () => {});
  }

  subscribeMessages(deviceId: string, listener: () => void): () => void {
    const set = this.messageListeners.get(deviceId) ?? new Set();
    set.add(listener);
    this.messageListeners.set(deviceId, set);
    return () => set.delete(listener);
  }

  /** Calls `listener` with each receipt as it changes, and with null on every (re)connection. */
  subscribeReceipts(listener: (receipt: ReceiptLive | null) => void): () => void {
    this.receiptListeners.add(listener);
    return () => this.receiptListeners.delete(listener);
  }

  /** Calls `listener` with each alarm and outage change, and with null on every (re)connection. */
  subscribeAlarms(listener: (event: AlarmEvent) => void): () => void {
    this.alarmListeners.add(listener);
    return () => this.alarmListeners.delete(listener);
  }

  /** Calls `listener` on each village outage change (`outages.changed`) and on every (re)connection. */
  subscribeOutages(listener: () => void): () => void {
    this.outageListeners.add(listener);
    return () => this.outageListeners.delete(listener);
  }

  /** Calls `listener` with each camera event, and with null on every (re)connection. */
  subscribeCameraEvents(listener: (event: CameraEventLive | null) => void): () => void {
    this.cameraEventListeners.add(listener);
    return () => this.cameraEventListeners.delete(listener);
  }

  messagesOf(deviceId: string): KeptMessage[] {
    let list = this.messages.get(deviceId);
    if (!list) {
      list = [];
      this.messages.set(deviceId, list);
    }
    return list;
  }

  private set(patch: Partial<LiveState>): void {
    this.state = { ...this.state, ...patch };
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

function merge<T extends { id: string }>(current: ReadonlyMap<string, T>, changed: T[]): Map<string, T> {
  const next = new Map(current);
  for (const item of changed) next.set(item.id, item);
  return next;
}

export const live = new LiveStore();

export function useLive(): LiveState {
  return useSyncExternalStore(live.subscribe, live.getState);
}

/**
 * Calls `onChange` when a receipt the filter accepts changes, and after a reconnect: what to read
 * again lives in the caller (a bulletin, an inbox, a count).
 */
export function useReceiptChanges(
  onChange: () => void,
  accept: (receipt: ReceiptLive) => boolean = () => true,
) {
  const latest = useRef({ onChange, accept });
  latest.current = { onChange, accept };
  useEffect(
    () =>
      live.subscribeReceipts((receipt) => {
        if (receipt === null || latest.current.accept(receipt)) latest.current.onChange();
      }),
    [],
  );
}

/** Calls `onEvent` with each alarm and outage change, and with null after a reconnect (read again). */
export function useAlarmChanges(onEvent: (event: AlarmEvent) => void) {
  const latest = useRef(onEvent);
  latest.current = onEvent;
  useEffect(() => live.subscribeAlarms((event) => latest.current(event)), []);
}

/** Calls `onChange` when a village outage changed, and after a reconnect (read the outages again). */
export function useOutageChanges(onChange: () => void) {
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => live.subscribeOutages(() => latest.current()), []);
}

/** Calls `onEvent` with each camera event, and with null after a reconnect (read the list again). */
export function useCameraEvents(onEvent: (event: CameraEventLive | null) => void) {
  const latest = useRef(onEvent);
  latest.current = onEvent;
  useEffect(() => live.subscribeCameraEvents((event) => latest.current(event)), []);
}

export function useDeviceMessages(deviceId: string): KeptMessage[] {
  return useSyncExternalStore(
    (listener) => live.subscribeMessages(deviceId, listener),
    () => live.messagesOf(deviceId),
  );
}
