import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  ServiceUnavailableError,
} from '../errors.js';
import type { EventBus } from '../event-bus.js';
import type { BroadcastRecord } from './broadcast-store.js';
import type { Dispatcher, RemoteEngine } from './dispatcher.js';

/** How long a stop asked of the engine's holder may take, a takeover included. */
const ANSWER_TIMEOUT_MS = 15_000;
/** How soon a request the holder did not take is asked again (a takeover under way). */
const RETRY_MS = 250;

type DeliveryChange = { broadcastId: string; clusterId: string; state: string; at: number };
type StopRequest = Parameters<RemoteEngine['stopOnEngine']>[0];
type Answer =
  | { id: string; ok: true; broadcast: BroadcastRecord }
  | { id: string; ok: false; notHolder?: boolean; code?: string; message?: string; details?: unknown };

/** The API maps error classes to statuses: an answer's error is rebuilt as the class it was. */
const ERROR_CLASSES: Record<string, { prototype: DomainError }> = {
  conflict: ConflictError,
  not_found: NotFoundError,
  invalid_request: InvalidRequestError,
  forbidden: ForbiddenError,
};

/**
 * The dispatcher across instances sharing Redis (docs/scale-out.md): the engine runs on the
 * `dispatcher` lease's holder. A broadcast another instance creates is recorded there (the shared
 * database) and handed to the holder by a notice on `sc:dispatcher:adopt`, which the holder also
 * finds by itself within CLUSTER_LEASE_MS; a stop is carried out by the holder, asked on its own
 * channel with a correlation id and answered on the asker's. Every delivery change is told to the
 * other instances, batched per turn, so their consoles, webhooks and waiting requests hear it.
 */
export class DispatcherRelay implements RemoteEngine {
  private subscriber: Redis | null = null;
  private readonly waiting = new Map<string, (answer: Answer) => void>();
  private readonly outgoing: DeliveryChange[] = [];
  private outgoingTurn: NodeJS.Immediate | null = null;
  private relaying = false;
  private unsubscribe: () => void = () => {};
  private readonly channels: { adopt: string; deliveries: string; requests: string; answers: string };

  constructor(
    private readonly options: {
      redis: Redis;
      instanceId: string;
      /** The Redis key of the `dispatcher` lease: `<instance> <fence>`. */
      leaseKey: string;
      dispatcher: Dispatcher;
      events: EventBus;
      logger: Logger;
      /**
       * With DATABASE_URL: ships what this instance recorded and copies what the others shipped,
       * so a stop's answer and the asker's own copy of the log agree.
       */
      synced?: () => Promise<void>;
    },
  ) {
    this.channels = {
      adopt: 'sc:dispatcher:adopt',
      deliveries: 'sc:dispatcher:deliveries',
      requests: `sc:dispatcher:requests:${options.instanceId}`,
      answers: `sc:dispatcher:answers:${options.instanceId}`,
    };
  }

  private get logger(): Logger {
    return this.options.logger.child({ component: 'dispatcher-relay' });
  }

  async start(): Promise<void> {
    const subscriber = this.options.redis.duplicate();
    subscriber.on('error', (err: unknown) => this.logger.warn({ err }, 'redis subscriber error'));
    this.subscriber = subscriber;
    const { adopt, deliveries, requests, answers } = this.channels;
    subscriber.on('message', (channel: string, message: string) => {
      try {
        const data = JSON.parse(message) as unknown;
        if (channel === adopt) {
          // null: a schedule or group changed on another instance; the next occurrence may be sooner.
          if (data === null) this.options.dispatcher.wake();
          else this.options.dispatcher.adopt(String(data));
        } else if (channel === deliveries) this.heard(data as { from: string; changes: DeliveryChange[] });
        else if (channel === requests)
          void this.serve(data as { id: string; from: string; stop: StopRequest });
        else if (channel === answers) this.waiting.get((data as Answer).id)?.(data as Answer);
      } catch (err) {
        this.logger.warn({ err, channel }, 'an unreadable dispatcher message was dropped');
      }
    });
    await subscriber.subscribe(adopt, deliveries, requests, answers);
    const { events } = this.options;
    const unsubscribers = [
      events.on(
        'broadcast.delivery',
        (change) => {
          if (this.relaying) return;
          this.outgoing.push(change);
          this.outgoingTurn ??= setImmediate(() => this.tell());
        },
        'dispatcher-relay',
      ),
      events.on(
        'schedules.changed',
        () => {
          if (!this.options.dispatcher.running()) this.notify(null);
        },
        'dispatcher-relay',
      ),
    ];
    this.unsubscribe = () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    };
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    this.tell();
    for (const resolve of this.waiting.values())
      resolve({ id: '', ok: false, code: 'dispatcher_unavailable', message: 'the platform is stopping' });
    const subscriber = this.subscriber;
    this.subscriber = null;
    await subscriber?.quit().catch(() => subscriber.disconnect());
  }

  handOff(broadcastId: string): void {
    this.notify(broadcastId);
  }

  /** Tells the engine's holder of a broadcast recorded here, or (null) of a changed schedule. */
  private notify(broadcastId: string | null): void {
    this.options.redis
      .publish(this.channels.adopt, JSON.stringify(broadcastId))
      .catch((err: unknown) =>
        this.logger.warn({ err, broadcastId }, 'could not tell the engine; it finds the change by itself'),
      );
  }

  /** RemoteEngine: asked of the holder until it takes it, or ANSWER_TIMEOUT_MS passes. */
  stopOnEngine(request: StopRequest): Promise<BroadcastRecord> {
    return this.ask(request);
  }

  private async ask(request: StopRequest): Promise<BroadcastRecord> {
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    const { redis, instanceId, dispatcher } = this.options;
    while (Date.now() < deadline) {
      if (dispatcher.running())
        return dispatcher.stopBroadcast(
          request.id,
          request.actor,
          scopeOf(request),
          request.reason ?? undefined,
        );
      const holder = (await redis.get(this.options.leaseKey))?.split(' ')[0];
      if (holder && holder !== instanceId) {
        const id = randomBytes(8).toString('hex');
        const answered = new Promise<Answer | null>((resolve) => {
          const timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
          this.waiting.set(id, (answer) => {
            clearTimeout(timer);
            resolve(answer);
          });
        });
        const receivers = await redis.publish(
          `sc:dispatcher:requests:${holder}`,
          JSON.stringify({ id, from: instanceId, stop: request }),
        );
        const answer = receivers > 0 ? await answered : null;
        this.waiting.delete(id);
        if (answer?.ok) {
          await this.options.synced?.();
          return answer.broadcast;
        }
        if (answer && !answer.notHolder) throw rebuild(answer);
        if (receivers > 0 && !answer) break;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    throw new ServiceUnavailableError(
      'the broadcast engine did not answer; try again',
      'dispatcher_unavailable',
    );
  }

  /** On the holder: a stop asked by another instance. */
  private async serve(request: { id: string; from: string; stop: StopRequest }): Promise<void> {
    const { dispatcher, redis } = this.options;
    let answer: Answer;
    if (!dispatcher.running()) answer = { id: request.id, ok: false, notHolder: true };
    else
      try {
        const { stop } = request;
        answer = {
          id: request.id,
          ok: true,
          broadcast: dispatcher.stopBroadcast(stop.id, stop.actor, scopeOf(stop), stop.reason ?? undefined),
        };
        // The asker answers its API request from the database (its copy, shipped to first).
        dispatcher.flushRecord();
        await this.options.synced?.();
      } catch (error) {
        if (!(error instanceof DomainError))
          this.logger.error({ err: error }, 'a stop asked by another instance failed');
        answer =
          error instanceof DomainError
            ? { id: request.id, ok: false, code: error.code, message: error.message, details: error.details }
            : { id: request.id, ok: false, code: 'internal', message: 'the stop failed on the engine' };
      }
    await redis
      .publish(`sc:dispatcher:answers:${request.from}`, JSON.stringify(answer))
      .catch((err: unknown) => this.logger.warn({ err }, 'could not answer a stop'));
  }

  private tell(): void {
    if (this.outgoingTurn) clearImmediate(this.outgoingTurn);
    this.outgoingTurn = null;
    const changes = this.outgoing.splice(0);
    if (changes.length === 0) return;
    // Those who hear of a change may read it from the database (a request waiting for answers).
    if (this.options.dispatcher.running())
      try {
        this.options.dispatcher.flushRecord();
      } catch (err) {
        this.logger.warn({ err }, 'could not write delivery changes before telling them');
      }
    this.options.redis
      .publish(this.channels.deliveries, JSON.stringify({ from: this.options.instanceId, changes }))
      .catch((err: unknown) =>
        this.logger.warn({ err }, 'could not tell delivery changes to the other instances'),
      );
  }

  private heard(data: { from: string; changes: DeliveryChange[] }): void {
    if (data.from === this.options.instanceId) return;
    this.relaying = true;
    try {
      for (const change of data.changes)
        this.options.events.emit('broadcast.delivery', change as Parameters<EventBus['emit']>[1] as never);
    } finally {
      this.relaying = false;
    }
  }
}

function scopeOf(request: StopRequest): ((clusterId: string) => boolean) | undefined {
  if (!request.clusterIds) return undefined;
  const inScope = new Set(request.clusterIds);
  return (clusterId) => inScope.has(clusterId);
}

function rebuild(answer: Extract<Answer, { ok: false }>): DomainError {
  const error = new DomainError(
    answer.message ?? 'the stop failed',
    answer.code ?? 'internal',
    answer.details,
  );
  const cls = ERROR_CLASSES[answer.code ?? ''];
  if (cls) {
    Object.setPrototypeOf(error, cls.prototype);
    error.name = (cls as unknown as { name: string }).name;
  }
  return error;
}
