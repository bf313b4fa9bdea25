import { timingSafeEqual } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Clock } from '../devices/index.js';
import { isDeviceId, topicFor } from '../devices/index.js';
import { settle, type Tunable } from '../services/options.js';
import { authorizePublish, authorizeSubscribe, type Principal } from './acl.js';
import { AedesBus } from './bus/aedes-bus.js';
import type { MessageBus } from './bus/message-bus.js';
import { localEmitter } from './emitter-queue.js';
import { indexedMemoryPersistence } from './indexed-memory-persistence.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { limitPacketSize, PacketTooLargeError, type SizedParser } from './packet-size-guard.js';
import { createRedisBackends, type RedisClusterBackends } from './redis-cluster.js';

/** Checks a device's secret against the registry; the broker knows nothing of how it is stored. */
export interface DeviceAuthenticator {
  verifyDeviceSecret(deviceId: string, secret: string): Promise<boolean>;
}

export type AuthFailureReason = 'missing-credentials' | 'identity-mismatch' | 'unknown-or-bad-secret';

export type BrokerSecurityEvent =
  | {
      type: 'auth-failed';
      clientId: string;
      username: string | null;
      address: string;
      reason: AuthFailureReason;
    }
  | {
      type: 'acl-denied';
      clientId: string;
      action: 'publish' | 'subscribe' | 'will';
      topic: string;
      reason: string;
      address: string;
    }
  | { type: 'oversized-packet'; clientId: string | null; address: string; size: number; limit: number };

/** How a session ended: a DISCONNECT packet, a lost connection whose will was published, or neither. */
export type SessionEnd = 'disconnect' | 'will' | 'connection-lost';

export interface BrokerHooks {
  onSecurityEvent?(event: BrokerSecurityEvent): void;
  onClientConnected?(clientId: string, principal: Principal): void;
  onClientDisconnected?(clientId: string, principal: Principal, end: SessionEnd): void;
  /** The client reconnected through another instance, which now holds its session. */
  onClientMoved?(clientId: string, principal: Principal): void;
  /** A connection broke the protocol: before its CONNECT was accepted, or as a client after. */
  onConnectionError?(stage: 'before-connect' | 'client'): void;
}

export interface MqttBrokerOptions {
  host: string;
  port: number;
  maxPacketBytes: number;
  internalUsername: string;
  internalPassword: string;
  authenticator: DeviceAuthenticator;
  clock: Clock;
  logger: Logger;
  hooks?: BrokerHooks;
  throttle?: LoginThrottleOptions;
  /** A subscriber whose socket stays full this long is dropped so it cannot stall delivery to others. */
  drainTimeoutMs?: number;
  /** The protocol uses four levels; a little headroom for platform topics, far below Aedes' 100. */
  maxTopicLevels?: number;
  connectTimeoutMs?: number;
  keepaliveLimitS?: number;
  webSocketPath?: string;
  /** How often instances sharing Redis announce they are alive (Aedes' default 60 s; tests shorten it). */
  heartbeatIntervalMs?: number;
  /**
   * Share pub/sub and sessions with other instances through Redis, so several brokers behind a
   * TCP load balancer act as one. `brokerId` must differ between running instances.
   */
  cluster?: { redisUrl: string; brokerId: string };
}

/** The part of an Aedes persistence that keeps last wills (its typings leave the persistence out). */
interface WillStore {
  streamWill(brokers: unknown): AsyncIterable<{ clientId?: unknown; brokerId?: unknown; topic?: unknown }>;
  delWill(client: { id: string; brokerId: unknown }): Promise<unknown>;
}

interface ConnectionInfo {
  address: string;
  transport: 'tcp' | 'ws';
  clientId: string | null;
}

const AUTH_BAD_CREDENTIALS = 4; // [MQTT-3.2.2.3] return code 4: bad user name or password
const AUTH_IDENTIFIER_REJECTED = 2;
const AUTH_NOT_AUTHORIZED = 5;
/** Refusals one connection may collect before it is closed. */
const MAX_DENIALS_PER_CONNECTION = 10;

/**
 * Connections the kernel may queue before the broker accepts them (see start()); the HTTP server,
 * which carries MQTT over WebSocket, uses the same.
 */
export const LISTEN_BACKLOG = 8192;

/** The broker's optional numbers (MqttBrokerOptions), their defaults and sane ranges. */
const BROKER_TUNABLES = {
  /** How long a slow client's writes may back up before it is dropped. */
  drainTimeoutMs: { default: 10_000, min: 100, max: 600_000 },
  maxTopicLevels: { default: 16, min: 4, max: 128 },
  /** How long a connection may take to send its CONNECT. */
  connectTimeoutMs: { default: 10_000, min: 100, max: 120_000 },
  /** The longest keepalive a client may ask for. */
  keepaliveLimitS: { default: 1_200, min: 10, max: 65_535 },
} satisfies Record<string, Tunable>;

/**
 * The embedded MQTT broker: Aedes on TCP and on WebSocket (`/mqtt` on the HTTP server), with
 * per-device authentication, the topic ACL, a transport-level packet size limit and slowed-down
 * repeated failed logins.
 */
export class MqttBroker {
  private aedes: Aedes | null = null;
  private redis: RedisClusterBackends | null = null;
  private tcp: net.Server | null = null;
  private ws: WebSocketServer | null = null;
  private readonly connections = new WeakMap<Duplex, ConnectionInfo>();
  private readonly principals = new WeakMap<Client, Principal>();
  /** ACL denials per connection. */
  private readonly denials = new WeakMap<Client, number>();
  /** Sessions that connected with a last will [MQTT-3.1.2-8]. */
  private readonly withWill = new WeakSet<Client>();
  /** Authenticated sessions not yet registered, by client id: they may be taking over an old one. */
  private readonly arriving = new Map<string, Client>();
  /** Sessions closed because their client reconnected through another instance. */
  private readonly movedAway = new WeakSet<Client>();
  private readonly throttle: LoginThrottle;
  private readonly internalPassword: Buffer;
  private readonly logger: Logger;

  private readonly settings: Record<keyof typeof BROKER_TUNABLES, number>;

  constructor(private readonly options: MqttBrokerOptions) {
    this.settings = settle(options, BROKER_TUNABLES);
    this.throttle = new LoginThrottle(options.throttle ?? DEFAULT_LOGIN_THROTTLE);
    this.internalPassword = Buffer.from(options.internalPassword);
    this.logger = options.logger.child({ component: 'broker' });
  }

  async start(): Promise<void> {
    const cluster = this.options.cluster;
    const redis = cluster ? createRedisBackends(cluster.redisUrl, this.logger) : null;
    this.redis = redis;
    if (cluster && redis) {
      // A device reconnecting through another instance makes that instance announce the client id
      // on $SYS/<its id>/new/clients, and Aedes here closes the old session [MQTT-3.1.4-2]. That
      // close is a move, not a disconnect. Registered before Aedes' own handler, so the session is
      // marked before Aedes closes it.
      redis.mq.on('$SYS/+/new/clients', (packet, done) => {
        const serverId = packet.topic.split('/')[1];
        // The typings omit it, but Aedes keeps its connected clients by id (aedes.js: clients).
        const clients = (this.aedes as unknown as { clients: Record<string, Client | undefined> } | null)
          ?.clients;
        const local = clients?.[packet.payload.toString()];
        if (serverId !== cluster.brokerId && local) this.movedAway.add(local);
        done();
      });
    }
    const aedes = await Aedes.createBroker({
      ...(cluster && redis
        ? { id: cluster.brokerId, mq: redis.mq, persistence: redis.persistence }
        : { mq: localEmitter(), persistence: indexedMemoryPersistence() }),
      drainTimeout: this.settings.drainTimeoutMs,
      ...(this.options.heartbeatIntervalMs ? { heartbeatInterval: this.options.heartbeatIntervalMs } : {}),
      maxTopicLevels: this.settings.maxTopicLevels,
      connectTimeout: this.settings.connectTimeoutMs,
      keepaliveLimit: this.settings.keepaliveLimitS,
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          (error) => done(error, error === null),
          (error: unknown) => {
            this.logger.error(
              { err: error, clientId: client.id },
              'authentication failed with an internal error',
            );
            done(
              Object.assign(new Error('server unavailable'), { returnCode: 3 }) as AuthenticateError,
              false,
            );
          },
        );
      },
      authorizePublish: (client, packet, callback) => {
        // client is null when Aedes publishes a will stored by another instance that died: those
        // reach it only through filterStoredWills, which checks them against their owner's ACL.
        // (Refusing here would reject a promise Aedes leaves unhandled.)
        if (!client) return callback(null);
        const refused = this.authorize(client, 'publish', packet.topic);
        // Only a device's state is retained (docs/protocol.md section 5): a retained heartbeat,
        // ack or event would be replayed to every later subscriber as if it were new.
        if (!refused && packet.retain) this.clearStrayRetain(client, packet);
        callback(refused);
      },
      authorizeSubscribe: (client, subscription, callback) => {
        // A refused subscription is answered with 0x80 in SUBACK [MQTT-3.9.3-2], not a disconnect.
        const refused = this.authorize(client, 'subscribe', subscription.topic);
        callback(null, refused ? null : subscription);
      },
    });
    aedes.on('clientReady', (client) => {
      const principal = this.principals.get(client);
      const info = this.connections.get(client.conn as Duplex);
      if (info) info.clientId = client.id;
      if (this.arriving.get(client.id) === client) this.arriving.delete(client.id);
      if ((client as unknown as { will: unknown }).will) this.withWill.add(client);
      // A connection that dropped while its CONNECT was being authenticated still reaches
      // clientReady, but Aedes never announces its disconnect (it was not connected yet): it must
      // not be announced as connected either, or the device would stay online until its timeout.
      const gone = client.closed || (client.conn as Duplex).destroyed;
      if (principal && !gone) this.options.hooks?.onClientConnected?.(client.id, principal);
    });
    aedes.on('clientDisconnect', (client) => {
      const principal = this.principals.get(client);
      // A reconnect that took over the client id [MQTT-3.1.4-2] has already replaced this session.
      if (principal && this.movedAway.has(client)) this.options.hooks?.onClientMoved?.(client.id, principal);
      else if (principal && !this.isTakenOver(client)) {
        this.options.hooks?.onClientDisconnected?.(client.id, principal, this.sessionEnd(client));
      }
    });
    // Persistence failures (Redis unreachable) arrive here; unheard, Aedes' emit would throw.
    // The typings omit the event, but Aedes emits it (aedes.js: enqueueOffline, _clearWills).
    (aedes as unknown as NodeJS.EventEmitter).on('error', (err: unknown) =>
      this.logger.error({ err }, 'broker persistence error'),
    );
    // Counted (sc_mqtt_connection_errors_total), logged at debug only: a flood of garbage must
    // not flood the log.
    aedes.on('clientError', (client, err) => {
      this.onProtocolError(client, err, 'client');
      this.logger.debug({ err, clientId: client.id }, 'client error');
    });
    aedes.on('connectionError', (client, err) => {
      this.onProtocolError(client, err, 'before-connect');
      this.logger.debug({ err, clientId: client.id }, 'connection error');
    });
    this.filterStoredWills((aedes as unknown as { persistence: WillStore }).persistence);
    this.aedes = aedes;

    // noDelay: without it Nagle's algorithm holds small QoS 1 packets for up to ~40 ms per hop.
    const tcp = net.createServer({ noDelay: true }, (socket) => {
      this.accept(socket, { address: socket.remoteAddress ?? 'unknown', transport: 'tcp', clientId: null });
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      // A province's clusters all reconnect at once after a restart: with Node's default backlog
      // of 511 the kernel drops the SYNs beyond it, and those clients wait out TCP's retransmit
      // backoff (1, 3, 7, 15, 31 s). The kernel caps this at net.core.somaxconn.
      tcp.listen({ port: this.options.port, host: this.options.host, backlog: LISTEN_BACKLOG }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
    const address = tcp.address() as net.AddressInfo;
    this.logger.info({ port: address.port, host: this.options.host }, 'MQTT broker listening');
  }

  /** Serves MQTT over WebSocket on an HTTP server's upgrade requests for the given path. */
  attachWebSocket(server: HttpServer): void {
    const path = this.options.webSocketPath ?? '/mqtt';
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxPacketBytes + 8,
      // Browsers and MQTT.js offer the `mqtt` subprotocol; answer with it when asked.
      handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
    });
    server.on('upgrade', (request: IncomingMessage, socket, head) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== path) return; // other upgrade handlers (Socket.IO) take the rest
      wss.handleUpgrade(request, socket, head, (websocket) => {
        const stream = createWebSocketStream(websocket);
        this.accept(
          stream,
          { address: request.socket.remoteAddress ?? 'unknown', transport: 'ws', clientId: null },
          request,
        );
      });
    });
    this.ws = wss;
  }

  get port(): number {
    const address = this.tcp?.address();
    if (!address || typeof address === 'string') throw new Error('broker not started');
    return address.port;
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  /** The in-process bus for services running beside the broker. */
  createBus(): MessageBus {
    return new AedesBus(this.requireAedes(), this.logger);
  }

  async stop(): Promise<void> {
    const tcp = this.tcp;
    const aedes = this.aedes;
    this.tcp = null;
    this.aedes = null;
    for (const client of this.ws?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.ws ? this.ws.close(() => resolve()) : resolve()));
    this.ws = null;
    const tcpClosed = new Promise<void>((resolve) => (tcp ? tcp.close(() => resolve()) : resolve()));
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await tcpClosed;
    // Aedes closes the emitter it was given but leaves the persistence's connection open.
    const redis = this.redis;
    this.redis = null;
    if (redis && !aedes) await new Promise<void>((resolve) => redis.mq.close(() => resolve()));
    await redis?.persistence.destroy();
  }

  private accept(raw: Duplex, info: ConnectionInfo, request?: IncomingMessage): void {
    const aedes = this.requireAedes();
    this.connections.set(raw, info);
    const client = aedes.handle(raw, request) as unknown as { _parser: SizedParser };
    limitPacketSize(client._parser, this.options.maxPacketBytes);
  }

  /** A connection's protocol error: counted, and an oversized packet also reported as a security event. */
  private onProtocolError(client: Client, err: unknown, stage: 'before-connect' | 'client'): void {
    this.options.hooks?.onConnectionError?.(stage);
    if (!(err instanceof PacketTooLargeError)) return;
    const info = this.connections.get(client.conn as Duplex);
    const clientId = stage === 'client' ? client.id : (info?.clientId ?? null);
    this.options.hooks?.onSecurityEvent?.({
      type: 'oversized-packet',
      clientId,
      address: info?.address ?? 'unknown',
      size: err.size,
      limit: err.limit,
    });
    this.logger.debug({ clientId, size: err.size }, 'oversized packet');
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<AuthenticateError | null> {
    const info = this.connections.get(client.conn as Duplex);
    const address = info?.address ?? 'unknown';
    // Per address and username: a neighbour failing behind the same carrier NAT or proxy must not
    // hold back a device that has the right secret; a guesser is slowed on each name it tries.
    const throttleKey = `${address}\u0000${(username ?? '').slice(0, 128)}`;
    const delay = this.throttle.delayFor(throttleKey, this.options.clock.now());
    if (delay > 0) await new Promise<void>((resolve) => this.options.clock.setTimeout(resolve, delay));

    const result = await this.identify(client.id, username, password);
    if ('principal' in result) {
      // A last will is published in its owner's name, maybe by another instance long after the
      // owner is gone [MQTT-3.1.2-8]: one aimed where the owner may not publish refuses the CONNECT.
      const will = (client as unknown as { _will?: { topic?: unknown } | null })._will;
      if (will && typeof will.topic === 'string') {
        const decision = authorizePublish(result.principal, will.topic);
        if (!decision.allowed) {
          this.denied(client.id, 'will', will.topic, decision.reason, address);
          // [MQTT-3.2.2.3] return code 5: not authorized.
          return Object.assign(new Error(`will to ${will.topic} not allowed: ${decision.reason}`), {
            returnCode: AUTH_NOT_AUTHORIZED,
          }) as AuthenticateError;
        }
      }
      this.throttle.recordSuccess(throttleKey);
      this.principals.set(client, result.principal);
      this.arriving.set(client.id, client);
      (client.conn as Duplex).once('close', () => {
        if (this.arriving.get(client.id) === client) this.arriving.delete(client.id);
      });
      return null;
    }
    const failures = this.throttle.recordFailure(throttleKey, this.options.clock.now());
    // The platform logs refusals in a bounded digest (services/audit/security-digest.ts).
    this.logger.debug({ address, reason: result.reason, failures }, 'MQTT login refused');
    this.options.hooks?.onSecurityEvent?.({
      type: 'auth-failed',
      clientId: client.id,
      username: username ?? null,
      address,
      reason: result.reason,
    });
    const returnCode =
      result.reason === 'identity-mismatch' ? AUTH_IDENTIFIER_REJECTED : AUTH_BAD_CREDENTIALS;
    return Object.assign(new Error(`login refused: ${result.reason}`), { returnCode }) as AuthenticateError;
  }

  private async identify(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<{ principal: Principal } | { reason: AuthFailureReason }> {
    if (!username || !password || password.length === 0) return { reason: 'missing-credentials' };
    if (username === this.options.internalUsername) {
      const ok =
        password.length === this.internalPassword.length && timingSafeEqual(password, this.internalPassword);
      return ok ? { principal: { kind: 'platform' } } : { reason: 'unknown-or-bad-secret' };
    }
    // The device id is the username and the client id at once, so the ACL is one pattern.
    if (username !== clientId || !isDeviceId(username)) return { reason: 'identity-mismatch' };
    const ok = await this.options.authenticator.verifyDeviceSecret(username, password.toString('utf8'));
    return ok ? { principal: { kind: 'device', deviceId: username } } : { reason: 'unknown-or-bad-secret' };
  }

  /** Clears the retain flag of a device's publish on anything but its own state topic. */
  private clearStrayRetain(client: Client, packet: { topic: string; retain: boolean }): void {
    const principal = this.principals.get(client);
    if (principal?.kind === 'device' && packet.topic !== topicFor(principal.deviceId, 'state'))
      packet.retain = false;
  }

  /** Returns the denial as an Error (what Aedes expects), or null when allowed. */
  private authorize(client: Client, action: 'publish' | 'subscribe', topic: string): Error | null {
    const principal = this.principals.get(client);
    const decision = principal
      ? action === 'publish'
        ? authorizePublish(principal, topic)
        : authorizeSubscribe(principal, topic)
      : ({ allowed: false, reason: 'unauthenticated' } as const);
    if (decision.allowed) return null;
    const address = this.connections.get(client.conn as Duplex)?.address ?? 'unknown';
    this.denied(client.id, action, topic, decision.reason, address);
    // A refused publish closes the connection (Aedes); refused subscriptions do not, so a device
    // that keeps asking for what it may not have is closed after a few.
    const denials = (this.denials.get(client) ?? 0) + 1;
    this.denials.set(client, denials);
    if (denials >= MAX_DENIALS_PER_CONNECTION) {
      this.logger.warn({ clientId: client.id, denials }, 'closing a connection that keeps being denied');
      client.close();
    }
    return new Error(`${action} to ${topic} not allowed: ${decision.reason}`);
  }

  /**
   * Wills stored by instances that died are read through this filter before Aedes publishes them
   * with no client: one is let through only on a topic its owning device may publish to. A refused
   * one is deleted from the shared store, so it is never retried, retained or replayed.
   */
  private filterStoredWills(store: WillStore): void {
    const stream = store.streamWill.bind(store);
    store.streamWill = (brokers) => {
      const broker = this;
      return (async function* () {
        for await (const will of stream(brokers)) {
          const owner = typeof will.clientId === 'string' ? will.clientId : '';
          const topic = typeof will.topic === 'string' ? will.topic : '';
          const decision = isDeviceId(owner)
            ? authorizePublish({ kind: 'device', deviceId: owner }, topic)
            : ({ allowed: false, reason: 'not-own-topic' } as const);
          if (decision.allowed) {
            yield will;
            continue;
          }
          broker.denied(owner || 'unknown', 'will', topic, decision.reason, 'stored will');
          try {
            await store.delWill({ id: owner, brokerId: will.brokerId });
          } catch (err) {
            broker.logger.error({ err, clientId: owner }, 'could not delete a refused stored will');
          }
        }
      })();
    };
  }

  private denied(
    clientId: string,
    action: 'publish' | 'subscribe' | 'will',
    topic: string,
    reason: string,
    address: string,
  ): void {
    this.logger.debug({ clientId: clientId.slice(0, 200), action, reason }, 'MQTT ACL denied');
    this.options.hooks?.onSecurityEvent?.({ type: 'acl-denied', clientId, action, topic, reason, address });
  }

  /**
   * Aedes marks a session closed by a DISCONNECT packet; any other end publishes the will, if the
   * client set one [MQTT-3.1.2-8], and discards it after a DISCONNECT [MQTT-3.14.4-3].
   */
  private sessionEnd(client: Client): SessionEnd {
    if ((client as unknown as { _disconnected?: boolean })._disconnected) return 'disconnect';
    return this.withWill.has(client) ? 'will' : 'connection-lost';
  }

  /**
   * Aedes closes the old session before it registers the new one [MQTT-3.1.4-2], so the old
   * session's disconnect arrives while the new one is authenticated but not yet ready.
   */
  private isTakenOver(client: Client): boolean {
    if (this.movedAway.has(client)) return true;
    const newer = this.arriving.get(client.id);
    if (newer?.closed) this.arriving.delete(client.id);
    return newer !== undefined && newer !== client && !newer.closed;
  }

  private requireAedes(): Aedes {
    if (!this.aedes) throw new Error('broker not started');
    return this.aedes;
  }
}
