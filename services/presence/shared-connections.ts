import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Lease } from '../cluster/lease.js';
import type { EventBus } from '../event-bus.js';

type SessionEnd = 'disconnect' | 'will' | 'connection-lost';

/** Where a device's MQTT session is, shared by every instance on one Redis. */
const OWNER = 'sc:presence:owner';
/** Instances that have held sessions, for the reaper to visit. */
const INSTANCES = 'sc:presence:instances';
/** Per instance: the devices whose session it holds (`sc:presence:owned:<instance>`). */
const OWNED = 'sc:presence:owned:';
const CHANNEL = 'sc:presence:connections';

/** What travels on the channel, in the order Redis ran the scripts. */
const ConnectionMessageSchema = z.object({
  deviceId: z.string().min(1).max(256),
  instance: z.string().min(1).max(256),
  connected: z.boolean(),
  end: z.enum(['disconnect', 'will', 'connection-lost']).optional(),
});
type ConnectionMessage = z.infer<typeof ConnectionMessageSchema>;

/** Records the session on this instance (taking it from any other) and announces it. */
const CONNECT = `
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if previous and previous ~= ARGV[2] then redis.call('SREM', ARGV[3] .. previous, ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', ARGV[3] .. ARGV[2], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PUBLISH', KEYS[3], cjson.encode({deviceId = ARGV[1], instance = ARGV[2], connected = true}))
return 1`;

/**
 * Ends the session only while this instance holds it: when the device already reconnected through
 * another instance (which closes this one's session, [MQTT-3.1.4-2]), the late disconnect is void.
 */
const DISCONNECT = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', ARGV[3] .. ARGV[2], ARGV[1])
redis.call('PUBLISH', KEYS[3], cjson.encode({deviceId = ARGV[1], instance = ARGV[2], connected = false, ['end'] = ARGV[4]}))
return 1`;

/**
 * Ends every session of an instance whose liveness lease (KEYS[4]) has lapsed: it died without
 * closing them. Atomic, so when several survivors reap at once only the first finds work.
 */
const REAP = `
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
local owned = ARGV[2] .. ARGV[1]
local devices = redis.call('SMEMBERS', owned)
local ended = 0
for _, device in ipairs(devices) do
  if redis.call('HGET', KEYS[1], device) == ARGV[1] then
    redis.call('HDEL', KEYS[1], device)
    redis.call('PUBLISH', KEYS[3], cjson.encode({deviceId = device, instance = ARGV[1], connected = false, ['end'] = 'connection-lost'}))
    ended = ended + 1
  end
end
redis.call('DEL', owned)
redis.call('SREM', KEYS[2], ARGV[1])
return ended`;

export interface SharedConnectionsOptions {
  redis: Redis;
  instanceId: string;
  /** This instance's liveness lease: while it lapses, the others end its sessions. */
  liveness: Lease;
  livenessKey(instanceId: string): string;
  /** How often lapsed instances are looked for. */
  reapEveryMs: number;
  events: EventBus;
  /** Receives every session change of every instance, in one order on all of them. */
  apply(deviceId: string, connected: boolean, end?: SessionEnd): void;
  logger: Logger;
}

/**
 * Shared presence: which instance holds each device's MQTT session, in a Redis hash written by Lua
 * scripts that also publish each change, so every instance applies the same changes in the same
 * order (Redis runs scripts one at a time and delivers a channel's messages in publish order).
 * Each instance holds a liveness lease; the sessions of one whose lease lapsed (SIGKILL, a power
 * cut) are ended by the survivors within `CLUSTER_LEASE_MS` plus a reaper round.
 *
 * A hash and pub/sub rather than one expiring key per device: a key expiring says nothing to the
 * other instances (keyspace notifications are off by default and lossy), and renewing tens of
 * thousands of keys costs more than renewing one lease per instance.
 */
export class SharedConnections {
  private subscriber: Redis | null = null;
  private readonly logger: Logger;
  /** Sessions open on this instance, announced again when its liveness comes back. */
  private readonly local = new Set<string>();
  private reapTimer: NodeJS.Timeout | null = null;
  private reaping: Promise<void> | null = null;
  private readonly unsubscribers: (() => void)[] = [];
  /** Channel messages that arrive while the initial snapshot is being read. */
  private backlog: ConnectionMessage[] | null = [];
  /** Writes in flight, awaited at stop so the last disconnects reach Redis. */
  private readonly writes = new Set<Promise<unknown>>();

  constructor(private readonly options: SharedConnectionsOptions) {
    this.logger = options.logger.child({ component: 'shared-presence' });
  }

  async start(): Promise<void> {
    const { redis, events } = this.options;
    // Before the snapshot: a device connecting meanwhile is written, and its message waits in the backlog.
    const owned = events.owner('presence');
    this.unsubscribers.push(
      owned.on('broker.connection', ({ clientId, connected, end }) => {
        if (connected) this.local.add(clientId);
        else this.local.delete(clientId);
        this.write(connected ? this.connect(clientId) : this.disconnect(clientId, end ?? 'disconnect'));
      }),
      // Its new instance recorded (or is recording) the session: nothing to end, nothing to announce again.
      owned.on('broker.moved', ({ clientId }) => {
        this.local.delete(clientId);
      }),
      // Reaped while alive (Redis unreachable longer than the lease): its sessions are announced again.
      this.options.liveness.onChange((held) => {
        if (!held) return;
        for (const deviceId of this.local) this.write(this.connect(deviceId));
      }),
    );
    const subscriber = redis.duplicate();
    subscriber.on('error', (err: unknown) => this.logger.debug({ err }, 'presence subscriber error'));
    subscriber.on('message', (_channel: string, raw: string) => this.onMessage(raw));
    this.subscriber = subscriber;
    await subscriber.subscribe(CHANNEL);
    // Subscribed first, then the snapshot, then what arrived meanwhile: the same end state as an
    // instance that has been listening all along.
    const owners = await redis.hgetall(OWNER);
    const alive = new Map<string, boolean>();
    for (const [deviceId, instance] of Object.entries(owners)) {
      if (!alive.has(instance))
        alive.set(instance, (await redis.exists(this.options.livenessKey(instance))) === 1);
      if (alive.get(instance)) this.options.apply(deviceId, true);
    }
    const backlog = this.backlog ?? [];
    this.backlog = null;
    for (const message of backlog) this.deliver(message);

    this.reapTimer = setInterval(() => {
      this.reaping ??= this.reap().then(() => {
        this.reaping = null;
      });
    }, this.options.reapEveryMs);
    this.reapTimer.unref();
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    if (this.reapTimer) clearInterval(this.reapTimer);
    this.reapTimer = null;
    await this.reaping;
    await Promise.allSettled([...this.writes]);
    const subscriber = this.subscriber;
    this.subscriber = null;
    await subscriber?.quit().catch(() => subscriber.disconnect());
  }

  /** Ends the sessions of every instance whose liveness lapsed; returns how many ended. */
  async reap(): Promise<number> {
    const { redis, instanceId } = this.options;
    let ended = 0;
    try {
      for (const instance of await redis.smembers(INSTANCES)) {
        if (instance === instanceId) continue;
        const n = Number(
          await redis.eval(
            REAP,
            4,
            OWNER,
            INSTANCES,
            CHANNEL,
            this.options.livenessKey(instance),
            instance,
            OWNED,
          ),
        );
        if (n > 0) {
          ended += n;
          this.logger.warn(
            { instance, sessions: n },
            'ended the device sessions of an instance that stopped answering',
          );
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'could not look for lapsed instances');
    }
    return ended;
  }

  private connect(deviceId: string): Promise<unknown> {
    return this.options.redis.eval(
      CONNECT,
      3,
      OWNER,
      INSTANCES,
      CHANNEL,
      deviceId,
      this.options.instanceId,
      OWNED,
    );
  }

  private disconnect(deviceId: string, end: SessionEnd): Promise<unknown> {
    const { redis, instanceId } = this.options;
    return redis.eval(DISCONNECT, 3, OWNER, INSTANCES, CHANNEL, deviceId, instanceId, OWNED, end);
  }

  private write(pending: Promise<unknown>): void {
    const tracked = pending.catch((err: unknown) =>
      this.logger.error({ err }, 'could not share a device session change'),
    );
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
  }

  private onMessage(raw: string): void {
    let message: ConnectionMessage;
    try {
      message = ConnectionMessageSchema.parse(JSON.parse(raw));
    } catch (err) {
      this.logger.warn({ err }, 'ignored a malformed presence message');
      return;
    }
    if (this.backlog) this.backlog.push(message);
    else this.deliver(message);
  }

  private deliver(message: ConnectionMessage): void {
    this.options.apply(message.deviceId, message.connected, message.end);
  }
}
