import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Namespace, Server, type Socket } from 'socket.io';
import type { MessageBus, Unsubscribe } from '../../broker/bus/message-bus.js';
import type { Role } from '../../contracts/accounts.js';
import type { OutageView } from '../../contracts/alarms.js';
import {
  type CameraLive,
  type ClientToServerEvents,
  type ClusterLive,
  type DeliveryLive,
  type RawMessage,
  type ServerToClientEvents,
  WatchRequestSchema,
} from '../../contracts/realtime.js';
import type { Clock } from '../../devices/index.js';
import type { AuthService } from '../accounts/auth-service.js';
import type { Principal } from '../accounts/roles.js';
import type { IncidentRecord } from '../alarms/alarm-store.js';
import { outageView } from '../alarms/outage-view.js';
import type { CameraHealthService } from '../cameras/camera-health-service.js';
import type { CameraStore } from '../cameras/camera-store.js';
import { NotFoundError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import { settle, type Tunable } from '../options.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { type Credential, credentialOf, inCommune, type Streams, sameGrant, streamsFor } from './access.js';
import { cameraEventLive, cameraLive, clusterLive, rawMessage } from './live-records.js';
import { streamAdapterClient } from './stream-cursor.js';

export interface RealtimeGatewayOptions {
  events: EventBus;
  bus: MessageBus;
  auth: AuthService;
  registry: RegistryStore;
  presence: PresenceService;
  cameras: CameraStore;
  cameraHealth: CameraHealthService;
  clock: Clock;
  logger: Logger;
  /** The API's session cookie name, so a console signed in over HTTP is signed in here too. */
  sessionCookie: string;
  /** Origins allowed from another site; empty keeps CORS closed, as for the API. */
  corsOrigins: string[];
  /** How often every socket's session or token is checked again (disabled account, ended session). */
  recheckEveryMs?: number;
  /** The shortest gap between two deltas of one kind to a socket. */
  flushEveryMs?: number;
  /**
   * With REDIS_URL: Socket.IO's Redis streams adapter carries what happens on one instance only
   * (camera polls of the poller lease's holder, alarms and outages of the alarm engine under the
   * same lease, bulletin receipts) to the consoles of all of them.
   */
  redis?: Redis | null;
}

/** The gateway's optional numbers (RealtimeGatewayOptions), their defaults and sane ranges. */
const REALTIME_TUNABLES = {
  recheckEveryMs: { default: 60_000, min: 1_000, max: 3_600_000 },
  flushEveryMs: { default: 100, min: 10, max: 10_000 },
} satisfies Record<string, Tunable>;

interface SocketData {
  principal: Principal;
  credential: Credential;
  streams: Streams;
  watching: Set<string>;
}

type ConsoleSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Rooms: one per stream and commune ('*' for accounts that see every commune), one per watched device. */
type Stream = 'clusters' | 'cameras' | 'deliveries' | 'bulletins' | 'alarms' | 'outages';
const room = (stream: Stream, communeId: string | null) => `${stream}:${communeId ?? '*'}`;
const deviceRoom = (deviceId: string) => `device:${deviceId}`;
const PAGE = 500;
/** A watched device that floods is cut here per flush; the newest messages are kept. */
const MAX_MESSAGES_PER_FLUSH = 1_000;
/** Device ids are registry slugs; anything else must not reach an MQTT topic filter. */
const DEVICE_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The console's live view over Socket.IO on the API's HTTP server. A socket is authenticated like
 * an HTTP request, joins rooms by role and commune, gets snapshots on connect and then deltas
 * driven by the event bus. Deltas are coalesced: changed ids are collected and at most one
 * emission per kind leaves every `flushEveryMs`, carrying each record's latest value.
 */
export class RealtimeGateway {
  private io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData> | null =
    null;
  private readonly logger: Logger;
  private readonly unsubscribers: (() => void)[] = [];
  /** Other features' namespaces (namespace()), checked again with the main one. */
  private namespaces: Namespace[] = [];
  private recheckTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly dirtyClusters = new Set<string>();
  private readonly dirtyCameras = new Set<string>();
  private readonly pendingDeliveries = new Map<string, DeliveryLive>();
  private readonly pendingMessages = new Map<string, RawMessage[]>();
  /** MQTT subscriptions of watched devices, held only while someone watches. */
  private readonly taps = new Map<string, Promise<Unsubscribe>>();

  private readonly settings: Record<keyof typeof REALTIME_TUNABLES, number>;

  constructor(private readonly options: RealtimeGatewayOptions) {
    this.settings = settle(options, REALTIME_TUNABLES);
    this.logger = options.logger.child({ component: 'realtime' });
  }

  start(server: HttpServer): void {
    const { corsOrigins } = this.options;
    const events = this.options.events.owner('realtime');
    const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(
      server,
      {
        path: '/socket.io',
        serveClient: false,
        // The broker's /mqtt WebSocket upgrades arrive on the same server and must survive.
        destroyUpgrade: false,
        ...(corsOrigins.length > 0 ? { cors: { origin: corsOrigins, credentials: true } } : {}),
        // CORS does not cover WebSockets: a page on another site must not open one with the cookie.
        allowRequest: (request, callback) => callback(null, this.originAllowed(request)),
        // A short block, so a stopping instance's stream reader lets go within a second.
        ...(this.options.redis
          ? {
              adapter: createAdapter(streamAdapterClient(this.options.redis), {
                streamName: 'sc:socket.io',
                blockTimeInMs: 1_000,
              }),
            }
          : {}),
      },
    );
    io.use((socket, next) => {
      const credential = credentialOf(
        socket.handshake.auth as Record<string, unknown>,
        socket.request.headers,
        this.options.sessionCookie,
      );
      if (!credential) {
        next(new Error('unauthenticated'));
        return;
      }
      this.authenticate(credential).then(
        (principal) => {
          if (!principal) return next(new Error('unauthenticated'));
          socket.data = { principal, credential, streams: streamsFor(principal), watching: new Set() };
          next();
        },
        (error: unknown) => next(error instanceof Error ? error : new Error(String(error))),
      );
    });
    io.on('connection', (socket) => this.onConnection(socket));
    this.io = io;

    this.unsubscribers.push(
      events.on('device.presence', ({ deviceId }) => this.markCluster(deviceId)),
      events.on('device.heartbeat', ({ deviceId }) => this.markCluster(deviceId)),
      events.on('device.state', ({ deviceId }) => this.markCluster(deviceId)),
      // Polled on one instance (the lease's holder): its deltas go to the consoles of every instance.
      events.on('camera.health', ({ cameraId }) => {
        if (!this.options.redis && !this.anyoneListening()) return;
        this.dirtyCameras.add(cameraId);
        this.scheduleFlush();
      }),
      // Police follow these as they happen: each goes out at once to its commune and to those who see all.
      events.on('camera.event', (event) => {
        const io = this.io;
        if (!io) return;
        // Only the camera poller's lease holder follows the cameras' ONVIF events: through the
        // adapter, what it records reaches the consoles of every instance.
        io.to([room('cameras', null), room('cameras', event.communeId)]).emit(
          'cameras.event',
          cameraEventLive(event, this.options.clock.now()),
        );
      }),
      // Rare and small: each receipt goes out at once to its commune and to those who see all.
      events.on('bulletin.receipt', ({ bulletinId, communeId, state, at }) => {
        const io = this.io;
        if (!io) return;
        const receipt = { bulletinId, communeId, state, at: new Date(at).toISOString() };
        io.to([room('bulletins', null), room('bulletins', communeId)]).emit('bulletins.receipt', receipt);
      }),
      // Alarms and outages are rare: each goes out at once to its commune and to those who see all.
      events.on('alarm.changed', ({ alarm, change }) => {
        const io = this.io;
        if (!io) return;
        const payload = {
          change,
          id: alarm.id,
          kind: alarm.kind,
          severity: alarm.severity,
          state: alarm.state,
          deviceId: alarm.deviceId,
          communeId: alarm.communeId,
          held: alarm.held,
          incidentId: alarm.incidentId,
        };
        // One instance raises each change (the alarm engine's lease holder, or the one that served
        // an acknowledgement): through the adapter, it reaches every instance's consoles.
        io.to([room('alarms', null), room('alarms', alarm.communeId)]).emit('alarms.changed', payload);
      }),
      events.on('incident.changed', ({ incident }) => {
        const io = this.io;
        if (!io) return;
        const payload = {
          id: incident.id,
          communeId: incident.communeId,
          villageId: incident.villageId,
          open: incident.clearedAt === null,
          devices: incident.devices,
        };
        // As alarms: told once, by the instance that changed it, to every instance's consoles.
        io.to([room('alarms', null), room('alarms', incident.communeId)]).emit('incidents.changed', payload);
        // The camera wall's banner (police included): the village and its blind cameras, no clusters.
        io.to([room('outages', null), room('outages', incident.communeId)]).emit(
          'outages.changed',
          this.outage(incident),
        );
      }),
      events.on('broadcast.delivery', ({ broadcastId, clusterId, state, at }) => {
        if (!this.anyoneListening()) return;
        this.pendingDeliveries.set(`${broadcastId}/${clusterId}`, {
          broadcastId,
          clusterId,
          state,
          at: new Date(at).toISOString(),
        });
        this.scheduleFlush();
      }),
    );
    // At once when a session or token ends (a sign-out must not leave a console streaming), and
    // periodically for those that simply expire.
    // Sessions or tokens that ended (sign-out, a password, a disabled account, a revoked token):
    // the sockets are checked again at once, not at their next periodic check.
    this.unsubscribers.push(
      events.on('accounts.changed', ({ credentialsEnded }) => {
        if (credentialsEnded) return this.recheck();
      }),
    );
    this.recheckTimer = setInterval(() => void this.recheck(), this.settings.recheckEveryMs);
    this.recheckTimer.unref();
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.recheckTimer = null;
    this.flushTimer = null;
    const io = this.io;
    this.io = null;
    this.namespaces = [];
    if (io) {
      // Local: through the Redis adapter these would disconnect every instance's consoles.
      io.local.disconnectSockets(true);
      for (const namespace of io._nsps.values()) namespace.local.disconnectSockets(true);
      // Not io.close(): that closes the HTTP server, which the API owns and closes itself.
      io.engine.close();
      // Ends the adapter's Redis stream reader (no-op for the in-memory one).
      await Promise.all([...io._nsps.values()].map((namespace) => namespace.adapter.close()));
    }
    const taps = [...this.taps.values()];
    this.taps.clear();
    await Promise.all(taps.map(async (tap) => (await tap)()));
  }

  /**
   * Checks every socket's credential again: a disabled account, an ended or expired session, a
   * revoked token, or changed roles or commune disconnect it (a console then reconnects with what
   * the account holds now, or is refused).
   */
  async recheck(): Promise<void> {
    const sockets = [
      ...(this.io?.of('/').sockets.values() ?? []),
      ...this.namespaces.flatMap((namespace) => [...namespace.sockets.values()]),
    ] as { data: { principal: Principal; credential: Credential }; disconnect(close: boolean): void }[];
    for (const socket of sockets) {
      let principal: Principal | null;
      try {
        principal = await this.authenticate(socket.data.credential);
      } catch (error) {
        // The account store did not answer: the socket keeps what it was granted until the next check.
        this.logger.warn({ err: error }, 'could not check a console socket again');
        continue;
      }
      if (!principal || !sameGrant(principal, socket.data.principal)) {
        this.logger.info({ user: socket.data.principal.username }, 'console socket signed out');
        socket.disconnect(true);
      }
    }
  }

  /**
   * A namespace of its own for another feature (live talk), on the same server and session: its
   * sockets are authenticated as the console's, refused unless the account holds one of `roles`,
   * and disconnected when their session ends, as on the main namespace.
   */
  namespace<C extends EventHandlers<C>, S extends EventHandlers<S>>(
    name: string,
    roles: readonly Role[],
  ): Namespace<C, S, Record<string, never>, { principal: Principal; credential: Credential }> {
    const io = this.io;
    if (!io) throw new Error('realtime gateway not started');
    const namespace = io.of(name) as unknown as Namespace<
      C,
      S,
      Record<string, never>,
      { principal: Principal; credential: Credential }
    >;
    namespace.use((socket, next) => {
      const credential = credentialOf(
        socket.handshake.auth as Record<string, unknown>,
        socket.request.headers,
        this.options.sessionCookie,
      );
      if (!credential) return next(new Error('unauthenticated'));
      this.authenticate(credential).then(
        (principal) => {
          if (!principal) return next(new Error('unauthenticated'));
          if (!principal.roles.some((role) => role === 'admin' || roles.includes(role)))
            return next(new Error('forbidden'));
          socket.data = { principal, credential };
          next();
        },
        (error: unknown) => next(error instanceof Error ? error : new Error(String(error))),
      );
    });
    this.namespaces.push(namespace as unknown as Namespace);
    return namespace;
  }

  /** Sockets connected now, for health and tests. */
  get connectedSockets(): number {
    return this.io?.of('/').sockets.size ?? 0;
  }

  private async authenticate(credential: Credential): Promise<Principal | null> {
    const { auth } = this.options;
    return credential.kind === 'token'
      ? auth.authenticateToken(credential.token)
      : ((await auth.authenticateSession(credential.sessionId))?.principal ?? null);
  }

  private originAllowed(request: IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return true; // not a browser page: nothing to forge
    if (this.options.corsOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      // "null" or garbage: an opaque origin is never our own page.
      return false;
    }
  }

  private onConnection(socket: ConsoleSocket): void {
    const { principal, streams } = socket.data;
    // One room per commune the account may see (a province's, a list), or the room of everything.
    const rooms = (stream: Stream) =>
      principal.communes ? principal.communes.map((c) => room(stream, c)) : [room(stream, null)];
    if (streams.clusters) {
      void socket.join(rooms('clusters'));
      socket.emit('clusters.snapshot', this.clusterSnapshot(principal.communes));
    }
    if (streams.cameras) {
      void socket.join(rooms('cameras'));
      socket.emit('cameras.snapshot', this.cameraSnapshot(principal.communes));
    }
    if (streams.deliveries) void socket.join(rooms('deliveries'));
    if (streams.bulletins) void socket.join(rooms('bulletins'));
    if (streams.alarms) void socket.join(rooms('alarms'));
    if (streams.outages) void socket.join(rooms('outages'));

    socket.on('device.watch', (request, ack) => {
      if (typeof ack !== 'function') return;
      this.watch(socket, request).then(ack, (error: unknown) => {
        this.logger.error({ err: error }, 'could not watch a device');
        ack({ ok: false, error: 'internal' });
      });
    });
    socket.on('device.unwatch', (request, ack) => {
      const parsed = WatchRequestSchema.safeParse(request);
      if (parsed.success && socket.data.watching.delete(parsed.data.deviceId)) {
        void socket.leave(deviceRoom(parsed.data.deviceId));
        this.release(parsed.data.deviceId);
      }
      if (typeof ack === 'function') ack({ ok: true });
    });
    socket.on('disconnect', () => {
      for (const deviceId of socket.data.watching) this.release(deviceId);
      socket.data.watching.clear();
    });
  }

  private async watch(socket: ConsoleSocket, request: unknown): Promise<{ ok: boolean; error?: string }> {
    const parsed = WatchRequestSchema.safeParse(request);
    if (!parsed.success) return { ok: false, error: 'invalid' };
    const { deviceId } = parsed.data;
    if (!socket.data.streams.raw) return { ok: false, error: 'forbidden' };
    const communeId = DEVICE_ID.test(deviceId) ? this.communeOfDevice(deviceId) : null;
    if (communeId === null || !inCommune(socket.data.principal, communeId)) {
      return { ok: false, error: 'not_found' };
    }
    if (!socket.data.watching.has(deviceId)) {
      socket.data.watching.add(deviceId);
      await socket.join(deviceRoom(deviceId));
      await this.tap(deviceId);
      // Gone while the subscription was being made: its disconnect found nothing to release yet.
      if (!socket.connected) this.release(deviceId);
    }
    return { ok: true };
  }

  /** Subscribes to the device's topics once, for every watcher; commands show as outbound. */
  private tap(deviceId: string): Promise<Unsubscribe> {
    let tap = this.taps.get(deviceId);
    if (!tap) {
      tap = this.options.bus.subscribe(`sc/v1/${deviceId}/#`, (topic, payload) => {
        let pending = this.pendingMessages.get(deviceId);
        if (!pending) {
          pending = [];
          this.pendingMessages.set(deviceId, pending);
        }
        pending.push(rawMessage(deviceId, topic, payload, this.options.clock.now()));
        if (pending.length > MAX_MESSAGES_PER_FLUSH) pending.shift();
        this.scheduleFlush();
      });
      this.taps.set(deviceId, tap);
    }
    return tap;
  }

  /** Drops the device's subscription when its last watcher has gone. */
  private release(deviceId: string): void {
    if (this.io?.of('/').adapter.rooms.get(deviceRoom(deviceId))?.size) return;
    const tap = this.taps.get(deviceId);
    if (!tap) return;
    this.taps.delete(deviceId);
    this.pendingMessages.delete(deviceId);
    tap
      .then((unsubscribe) => unsubscribe())
      .catch((error: unknown) => this.logger.error({ err: error, deviceId }, 'could not stop watching'));
  }

  private outage(incident: IncidentRecord): OutageView {
    let villageName = incident.villageId;
    try {
      villageName = this.options.registry.getVillage(incident.villageId).name;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    return outageView(incident, villageName, (id) => this.findCamera(id)?.name ?? null);
  }

  private communeOfDevice(deviceId: string): string | null {
    const cluster = this.options.registry.findCluster(deviceId);
    if (cluster) return cluster.communeId;
    return this.findCamera(deviceId)?.communeId ?? null;
  }

  /** From the cameras' directory: snapshots and deltas go out at once, in order. */
  private findCamera(cameraId: string): { id: string; communeId: string; name: string } | null {
    return this.options.cameras.known(cameraId);
  }

  private clusterSnapshot(communes: readonly string[] | null): ClusterLive[] {
    const out: ClusterLive[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = this.options.registry.listClusters(
        { communeIds: communes ?? undefined },
        { limit: PAGE, offset },
      );
      for (const cluster of page.items) out.push(this.liveCluster(cluster));
      if (page.items.length < PAGE) return out;
    }
  }

  private cameraSnapshot(communes: readonly string[] | null): CameraLive[] {
    const out: CameraLive[] = [];
    for (const camera of this.options.cameras.knownIn({ communeIds: communes ?? undefined }))
      out.push(cameraLive(camera, this.options.cameraHealth.status(camera.id)));
    return out;
  }

  private liveCluster(cluster: Parameters<typeof clusterLive>[0]): ClusterLive {
    const { presence } = this.options;
    return clusterLive(cluster, presence.status(cluster.id), (idx) =>
      presence.speakerHealth(cluster.id, idx),
    );
  }

  /**
   * With no console connected there is no one to send deltas to, and building them costs a
   * registry read per changed cluster (20,000 a second under full heartbeat load). A console that
   * connects later starts from a snapshot, so nothing is lost by not tracking changes meanwhile.
   */
  private anyoneListening(): boolean {
    return (this.io?.engine.clientsCount ?? 0) > 0;
  }

  private markCluster(deviceId: string): void {
    if (!this.anyoneListening()) return;
    this.dirtyClusters.add(deviceId);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || !this.io) return;
    // Real time, not the platform clock: this paces socket writes, it is not domain time.
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      try {
        this.flush();
      } catch (error) {
        this.logger.error({ err: error }, 'could not send live updates');
      }
    }, this.settings.flushEveryMs);
    this.flushTimer.unref();
  }

  /**
   * One emission per kind per room; every socket is in one room per stream, so one per socket.
   * With several instances each derives cluster deltas, deliveries and watched traffic from the
   * shared presence and broker itself and tells only its own consoles (`io.local`); camera deltas
   * come from the poller lease's holder alone and go to every instance's consoles.
   */
  private flush(): void {
    const io = this.io;
    if (!io) return;
    const clusters = [...this.dirtyClusters].flatMap((id) => {
      const cluster = this.options.registry.findCluster(id);
      return cluster ? [this.liveCluster(cluster)] : [];
    });
    this.dirtyClusters.clear();
    this.emitByCommune(
      io,
      'clusters',
      clusters,
      (c) => c.communeId,
      (room, items) => io.local.to(room).emit('clusters.delta', items),
    );

    const cameras = [...this.dirtyCameras].flatMap((id) => {
      const camera = this.findCamera(id);
      return camera ? [cameraLive(camera, this.options.cameraHealth.status(id))] : [];
    });
    this.dirtyCameras.clear();
    this.emitByCommune(
      io,
      'cameras',
      cameras,
      (c) => c.communeId,
      (room, items) => io.to(room).emit('cameras.delta', items),
      this.options.redis != null,
    );

    const deliveries = [...this.pendingDeliveries.values()];
    this.pendingDeliveries.clear();
    this.emitByCommune(
      io,
      'deliveries',
      deliveries,
      (d) => this.options.registry.findCluster(d.clusterId)?.communeId ?? null,
      (room, items) => io.local.to(room).emit('deliveries.delta', items),
    );

    // A technician may watch several devices: their messages leave in one emission per socket.
    const perSocket = new Map<string, RawMessage[]>();
    for (const [deviceId, messages] of this.pendingMessages) {
      for (const socketId of io.of('/').adapter.rooms.get(deviceRoom(deviceId)) ?? []) {
        const list = perSocket.get(socketId) ?? [];
        list.push(...messages);
        perSocket.set(socketId, list);
      }
    }
    this.pendingMessages.clear();
    for (const [socketId, messages] of perSocket) io.local.to(socketId).emit('device.messages', messages);
  }

  private emitByCommune<T>(
    io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>,
    stream: Stream,
    items: T[],
    communeOf: (item: T) => string | null,
    emit: (room: string, items: T[]) => void,
    /** Sent through the adapter: rooms of other instances' consoles are not known here. */
    acrossInstances = false,
  ): void {
    if (items.length === 0) return;
    emit(room(stream, null), items);
    const byCommune = new Map<string, T[]>();
    for (const item of items) {
      const communeId = communeOf(item);
      // A record of no known commune (a removed cluster) reaches only accounts that see all.
      if (communeId === null) continue;
      byCommune.set(communeId, [...(byCommune.get(communeId) ?? []), item]);
    }
    const rooms = io.of('/').adapter.rooms;
    for (const [communeId, list] of byCommune) {
      const name = room(stream, communeId);
      if (acrossInstances || rooms.has(name)) emit(name, list);
    }
  }
}

/** An interface of Socket.IO events (name → handler), as socket.io's own EventsMap. */
type EventHandlers<T> = { [K in keyof T]: (...args: never[]) => void };
