import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MessageBus } from '../../broker/bus/message-bus.js';
import {
  type Content,
  DELIVERY_STATES,
  type DeliveryState,
  type Level,
  type Targets,
} from '../../contracts/broadcasts.js';
import type { Fallback } from '../../contracts/stations.js';
import {
  type Clock,
  type Command,
  newCommandId,
  type TimerHandle,
  type TypedPublish,
  typedPublish,
} from '../../devices/index.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import { contentDurationS, isRelay } from '../media/content-audio.js';
import { settle, type Tunable } from '../options.js';
import { storageFailure } from '../storage/storage-errors.js';
import { deviceTime } from '../time.js';
import type { BroadcastKind, BroadcastRecord, BroadcastStore, DeliveryRecord } from './broadcast-store.js';
import { type DeliveryInput, stepDelivery } from './delivery-machine.js';
import { FINAL_DELIVERY_STATES } from './types.js';

/** The engine on another instance (several instances sharing Redis): see dispatcher-relay.ts. */
export interface RemoteEngine {
  /** A broadcast recorded here, to be sent by the engine's holder. */
  handOff(broadcastId: string): void;
  /** stopBroadcast carried out by the holder; `clusterIds` is the scope (null: the whole broadcast). */
  stopOnEngine(request: {
    id: string;
    actor: string | null;
    clusterIds: string[] | null;
    reason: string | null;
  }): Promise<BroadcastRecord>;
}

/** What the dispatcher needs from the schedules: their occurrences, and targets made concrete. */
export interface PlanSource {
  occurrencesBetween(
    from: number,
    to: number,
  ): {
    schedule: {
      id: string;
      name: string;
      level: Level;
      content: Content;
      volume: number | null;
      repeat: number;
      createdBy: string | null;
      createdAt: string;
      /** Who approved it, in a commune that requires approval. */
      approvedBy: string | null;
      /** An emergency in a commune that requires approval: reviewed after it airs. */
      reviewDue: boolean;
      /** A bulletin of the province the commune scheduled. */
      bulletinId: string | null;
    };
    start: number;
    end: number;
    clusterIds: string[];
  }[];
  resolveTargets(targets: Targets): string[];
}

/** What the dispatcher needs from the media library. */
export interface MediaSource {
  get(id: string): { sizeBytes: number; sha256: string; durationS: number };
  signedUrl(id: string, expiresAt: number, broadcastId?: string): string;
}

export interface DispatcherOptions {
  store: BroadcastStore;
  /** The stream URL of a station relay's station, read at each play (an admin may change it). */
  stationUrl?(stationId: string): string;
  bus: MessageBus;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  plan: PlanSource;
  media: MediaSource;
  isOnline(clusterId: string): boolean;
  speakers(clusterId: string): { idx: number; ok: boolean | null; fault: string | null }[] | null;
  /** Plays go out this long before they start, so clusters can fetch the media in time. */
  leadMs: number;
  /** A play may still start this late (after a cluster came back, or the platform restarted). */
  graceMs: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Added to the wait for an answer, per command sent in the same pass (default 0.5 ms). */
  retrySlackPerCommandMs?: number;
  tickMs?: number;
  /**
   * The data disk: told of every failed write, and asked to make room (give up its reserve) when
   * an emergency's record does not fit.
   */
  disk?: {
    noteWriteError(error: unknown): unknown;
    makeRoomForEmergency(error: unknown): boolean;
  };
}

const LAST_TICK = 'dispatcher.lastTick';
/** The longest the dispatcher sleeps with nothing to do. */
const IDLE_MAX_MS = 3_600_000;
/** How far back a restart looks for occurrences it slept through, to record them as missed. */
const MAX_LOOKBACK_MS = 24 * 3_600_000;
/** How long after its expected end a play may go unreported before it is counted as failed. */
const REPORT_SLACK_MS = 120_000;
/** How long a device may keep a media URL: long enough to finish a slow download. */
const URL_SLACK_MS = 10 * 60_000;
/** Deliveries sent per transaction and turn of the event loop. */
const SEND_CHUNK = 1000;
/** The dispatcher's optional numbers (DispatcherOptions), their defaults and sane ranges. */
const DISPATCH_TUNABLES = {
  /** The first wait for an answer before a command is sent again; it doubles per attempt. */
  retryBaseMs: { default: 2_000, min: 100, max: 600_000 },
  retryMaxMs: { default: 30_000, min: 100, max: 3_600_000 },
  /** Added to a retry's backoff for each delivery due in the same pass (5 s for 10,000). */
  retrySlackPerCommandMs: { default: 0.5, min: 0, max: 10_000 },
  /** How soon a pass that found work runs again. */
  tickMs: { default: 1_000, min: 10, max: 60_000 },
} satisfies Record<string, Tunable>;
/**
 * The longest sleep between two looks at the wall clock. Timers run on a monotonic clock, so a
 * sleep computed before the wall clock jumped (NTP, a wrong clock set right) would end late.
 */
const WALL_CHECK_MS = 5_000;
/** A wall clock this far from where the sleep expected it has jumped. */
const JUMP_TOLERANCE_MS = 2_000;
/**
 * After a restart, how long clusters whose deliveries were open get to come back and say where
 * those stand before the record gives up on them.
 */
const RECONCILE_WINDOW_MS = 5 * 60_000;
/** A report sent late (after a reconnect) is believed for its own time within a day of it. */
const LATE_REPORT_WINDOW_MS = 24 * 3_600_000;
/** Outcomes the platform inferred for want of news, which a cluster's late report may correct. */
const INFERRED_REASONS = new Set([
  'no completion report',
  'no completion report after the platform restarted',
  'no answer before expiry',
  'no answer after the platform restarted',
  'offline',
]);
/** Fresh attempts of a normal or priority play whose download a restart cut; emergencies have no cap. */
const MAX_FRESH_ATTEMPTS = 3;

type PlaySource = Extract<Command, { type: 'play' }>['source'];

/** The media a file, a text read aloud or a jingle plays; text must have been synthesized. */
function spokenOrFile(content: { kind: string; mediaId?: string | undefined }): string {
  if (!content.mediaId) throw new NotFoundError('audio of content', content.kind);
  return content.mediaId;
}

const isFinal = (state: DeliveryState) => FINAL_DELIVERY_STATES.includes(state);
const OPEN_DELIVERY_STATES = DELIVERY_STATES.filter((state) => !isFinal(state));

/**
 * Turns schedule occurrences, emergency bulletins and live relays into per-cluster `play`
 * commands, and follows every cluster to a final state. Each delivery has one command id for its
 * whole life: retries, and the re-sends that ask a cluster for its status after a restart, carry
 * the same id, and clusters de-duplicate on it, so nothing plays twice.
 */
export class Dispatcher {
  private readonly publish: TypedPublish;
  private readonly logger: Logger;
  private readonly unsubscribers: (() => void)[] = [];
  private timer: TimerHandle | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private firstTick = true;
  private lastTickSaved = Number.NEGATIVE_INFINITY;
  /** When the last pass ran: occurrences between it and now are never skipped, whatever the clock did. */
  private lastTickAt: number | null = null;
  /**
   * Command ids of deliveries that were open when this process started: the cluster may have
   * acted on them while nobody listened, so they are asked again once the cluster is back, and
   * not given up before it had the chance to answer.
   */
  private readonly unconfirmed = new Set<string>();
  /** Command ids open when this process started: a download failure among them may be the restart's doing. */
  private readonly openAtRestart = new Set<string>();
  private startedAt = 0;
  private readonly copiedListeners = new Set<() => void>();
  /** Reports received since the last batch was stored, and the pending turn that will store them. */
  private readonly reports: { deviceId: string; commandId: string; input: DeliveryInput; at: number }[] = [];
  private reportsTurn: NodeJS.Immediate | null = null;
  /** The next chunk of a large pass of sends, while one is pending. */
  private continuing: Promise<void> | null = null;
  private stopped = false;
  /** Emergencies sent while the disk could not record them, until it can (sendUnrecorded). */
  private readonly unrecorded = new Map<
    string,
    { broadcast: BroadcastRecord; deliveries: DeliveryRecord[] }
  >();
  private readonly unrecordedByCommand = new Map<string, DeliveryRecord>();
  /**
   * Play commands handed to the broker and not yet written to their cluster's socket, and when
   * each was written: a retry waits its backoff from the write, not from the hand-over, so a large
   * fan-out still queued at the broker is not sent a second time while the first answers arrive.
   */
  private readonly writing = new Set<string>();
  private readonly writtenAt = new Map<string, number>();

  private readonly settings: Record<keyof typeof DISPATCH_TUNABLES, number>;
  /** Whether the engine (sends, retries, acks) runs on this instance: between start and pause or stop. */
  private engine = false;
  /** With several instances: where requests go when the engine runs on another instance. */
  private remote: RemoteEngine | null = null;

  constructor(private readonly options: DispatcherOptions) {
    this.settings = settle(options, DISPATCH_TUNABLES);
    this.publish = typedPublish((topic, payload, opts) => options.bus.publish(topic, payload, opts));
    this.logger = options.logger.child({ component: 'dispatcher' });
  }

  start(): void {
    const { clock } = this.options;
    this.engine = true;
    this.stopped = false;
    const events = this.options.events.owner('dispatcher');
    this.unsubscribers.push(
      events.on('device.ack', ({ deviceId, ack }) => this.report(deviceId, ack.cmdId, { type: 'ack', ack })),
      events.on('device.event', ({ deviceId, event }) => {
        if (event.cmdId) this.report(deviceId, event.cmdId, { type: 'event', event });
      }),
      // Asleep until the next occurrence it knew of: a changed schedule or group may bring one sooner.
      events.on('schedules.changed', () => this.wake()),
      events.on('device.presence', ({ deviceId, online }) => {
        if (online) this.options.store.retryNow(deviceId, clock.now());
      }),
    );
    this.startedAt = clock.now();
    this.reconcile();
    this.loop();
  }

  /**
   * Ticks every second while deliveries are under way; otherwise sleeps until one lead before the
   * next occurrence (an hour at most). Schedule changes, emergencies and relays wake it at once.
   */
  private loop(): void {
    this.timer = null;
    let busy = true;
    try {
      busy = this.tick();
    } catch (error) {
      // A pass that cannot write (a full or failing disk) must not end the loop: the next one, a
      // second later, sends what is still due. Logged once a minute, not every second.
      this.options.disk?.noteWriteError(error);
      const now = this.options.clock.now();
      if (now - this.tickFailedLoggedAt >= 60_000) {
        this.tickFailedLoggedAt = now;
        this.logger.error({ err: error }, 'a dispatch pass failed; trying again every second');
      }
    }
    const delay = busy ? this.settings.tickMs : this.untilNextOccurrence();
    this.sleep(this.options.clock.now() + delay);
  }
  private tickFailedLoggedAt = Number.NEGATIVE_INFINITY;

  /**
   * Sleeps until the wall clock reaches `wakeAt`, looking at it at least every few seconds: when
   * it has jumped (forward or back), the pass runs at once instead of when the old timer ends.
   */
  private sleep(wakeAt: number): void {
    const { clock } = this.options;
    const now = clock.now();
    const step = Math.max(0, Math.min(wakeAt - now, WALL_CHECK_MS));
    const expected = now + step;
    this.timer = clock.setTimeout(() => {
      const current = clock.now();
      if (current >= wakeAt || Math.abs(current - expected) > JUMP_TOLERANCE_MS) {
        if (current < wakeAt) this.logger.warn({ jumpedMs: current - expected }, 'the wall clock jumped');
        this.loop();
      } else {
        this.sleep(wakeAt);
      }
    }, step);
  }

  private untilNextOccurrence(): number {
    const { clock, plan, leadMs } = this.options;
    const now = clock.now();
    let next = now + IDLE_MAX_MS;
    try {
      for (const occ of plan.occurrencesBetween(now, now + leadMs + IDLE_MAX_MS)) {
        if (occ.start - leadMs > now) next = Math.min(next, occ.start - leadMs);
      }
    } catch (error) {
      this.logger.error({ err: error }, 'could not expand schedules');
    }
    return Math.max(1_000, next - now);
  }

  /**
   * With several instances: where a broadcast created here goes when the engine runs on another
   * instance, and how a stop reaches it (services/broadcasts/dispatcher-relay.ts).
   */
  setRemote(remote: RemoteEngine): void {
    this.remote = remote;
  }

  /** Whether the engine runs here (always after start for a single instance). */
  running(): boolean {
    return this.engine;
  }

  /**
   * Another instance took the engine over (docs/scale-out.md): stops sending and listening, writes
   * what it has recorded, and forgets what it held in memory; start() goes on from the database
   * again, as after a restart.
   */
  async pause(): Promise<void> {
    this.halt();
    await this.settle().catch(() => undefined);
    try {
      this.options.store.flush();
    } catch (error) {
      this.options.disk?.noteWriteError(error);
      this.logger.error({ err: error }, 'could not write the delivery changes before handing over');
    }
    if (this.unrecorded.size > 0)
      this.logger.error(
        { broadcasts: [...this.unrecorded.keys()] },
        'emergencies sent without a record are left to their clusters: the engine moved to another instance',
      );
    this.unrecorded.clear();
    this.unrecordedByCommand.clear();
    this.unconfirmed.clear();
    this.openAtRestart.clear();
    this.writing.clear();
    this.writtenAt.clear();
    this.firstTick = true;
    this.lastTickAt = null;
    this.lastTickSaved = Number.NEGATIVE_INFINITY;
  }

  /** Writes the pending delivery changes now: another instance is about to read them. */
  flushRecord(): void {
    this.options.store.flush();
  }

  /** A broadcast another instance recorded for this engine: due here at once. */
  adopt(broadcastId: string): void {
    if (!this.engine) return;
    if (this.options.store.adopt(broadcastId)) this.wake();
  }

  /** More of a broadcast's deliveries were copied from the instance that recorded it: due here too. */
  adoptCopied(broadcastId: string): void {
    if (!this.engine) return;
    if (this.options.store.adoptCopied(broadcastId)) this.wake();
  }

  /**
   * Takes in the broadcasts other instances recorded that no notice brought (a lost message), and
   * runs a pass: a schedule changed through another instance may be due sooner than it slept for.
   */
  adoptRecorded(): void {
    if (!this.engine) return;
    for (const id of this.options.store.unknownActive()) this.options.store.adopt(id);
    this.wake();
  }

  /**
   * stopBroadcast wherever the engine runs: here, or (several instances) on its holder, with the
   * scope made into the clusters it names. Answers as stopBroadcast does, errors included.
   */
  async stopAnywhere(
    id: string,
    actor: string | null,
    scope?: (clusterId: string) => boolean,
    reason?: string,
  ): Promise<BroadcastRecord> {
    const remote = this.remote;
    if (this.engine || !remote) return this.stopBroadcast(id, actor, scope, reason);
    const broadcast = this.require(id);
    if (broadcast.status !== 'active')
      throw new ConflictError(`broadcast ${id} is already ${broadcast.status}`);
    const clusterIds = scope
      ? this.options.store
          .deliveries(id)
          .map((d) => d.clusterId)
          .filter(scope)
      : null;
    return remote.stopOnEngine({ id, actor, clusterIds, reason: reason ?? null });
  }

  /** Stops listening and sending, and stores the reports already heard (pause and stop). */
  private halt(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.engine = false;
    this.stopped = true;
    this.storeReports();
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  async stop(): Promise<void> {
    this.halt();
    await Promise.allSettled([...this.inFlight]);
    try {
      this.options.store.close();
    } catch (error) {
      this.options.disk?.noteWriteError(error);
      this.logger.error({ err: error }, 'could not write the last delivery changes at stop');
    }
  }

  /** Waits until every due command has been handed to the broker and published (tests and shutdown). */
  async settle(): Promise<void> {
    while (this.continuing || this.inFlight.size > 0) {
      await this.continuing;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /**
   * One pass: materialise upcoming occurrences, send what is due, close what has run out. Returns
   * whether deliveries are still under way.
   */
  tick(): boolean {
    const now = this.options.clock.now();
    const unrecorded = this.unrecorded.size > 0 && this.recordUnrecorded(now);
    // Planning writes new broadcasts; when the disk refuses them, what is already due still goes.
    let planFailure: unknown = null;
    try {
      this.materialize(now);
    } catch (error) {
      planFailure = error;
    }
    this.sendInChunks(now);
    const open = this.watchdog(now);
    if (planFailure) throw planFailure;
    // Written at most every 10 s: enough to know, after a crash, roughly when the platform stopped.
    if (now - this.lastTickSaved >= 10_000) {
      this.options.store.setState(LAST_TICK, String(now), now);
      this.lastTickSaved = now;
    }
    return open > 0 || unrecorded;
  }

  emergency(
    input: {
      name?: string | undefined;
      content: Content;
      targets: Targets;
      volume?: number | undefined;
      durationS?: number | undefined;
      /** It airs now without approval; the commune's approvers review it afterwards. */
      reviewDue?: boolean;
      /** An emergency bulletin of the province. */
      bulletinId?: string;
    },
    actor: string | null,
  ): BroadcastRecord {
    return this.createImmediate('emergency', {
      reviewDue: input.reviewDue ?? false,
      bulletinId: input.bulletinId ?? null,
      name: input.name ?? 'Bản tin khẩn cấp',
      level: 'emergency',
      content: input.content,
      targets: input.targets,
      // Circular 39: an emergency bulletin is heard; the volume is forced.
      volume: input.volume ?? 100,
      durationS: input.durationS,
      actor,
    });
  }

  /** A live stream now: a relayed station (`live`), or the console's microphone (`talk`). */
  live(
    input: {
      name: string;
      /** A stream relayed as it is, or a station (watched, with its fallback). */
      url?: string | undefined;
      stationId?: string | undefined;
      targets: Targets;
      level: Level;
      volume?: number | undefined;
      durationS: number;
      kind?: 'live' | 'talk';
    },
    actor: string | null,
  ): BroadcastRecord {
    // An unknown station is refused now (404), not at the first play.
    if (input.stationId) this.options.stationUrl?.(input.stationId);
    return this.createImmediate(input.kind ?? 'live', {
      name: input.name,
      level: input.level,
      content: input.stationId
        ? { kind: 'station', stationId: input.stationId }
        : { kind: 'stream', url: input.url as string },
      targets: input.targets,
      volume: input.volume ?? null,
      durationS: input.durationS,
      actor,
    });
  }

  /**
   * Stops a broadcast on every cluster still playing or about to; with `scope`, only on the
   * clusters in it (an operator limited to one commune stops only their commune's part, and the
   * broadcast goes on elsewhere until its last delivery ends).
   */
  stopBroadcast(
    id: string,
    actor: string | null,
    scope?: (clusterId: string) => boolean,
    reason?: string,
  ): BroadcastRecord {
    const { store, clock } = this.options;
    const held = this.unrecorded.get(id);
    if (held) return this.stopHeld(held, actor, reason);
    const broadcast = this.require(id);
    if (broadcast.status !== 'active')
      throw new ConflictError(`broadcast ${id} is already ${broadcast.status}`);
    const now = clock.now();
    const deliveries = store.deliveries(id);
    const whole = !scope || deliveries.every((d) => scope(d.clusterId));
    if (whole) store.setStatus(id, 'stopped', { at: now, by: actor });
    for (const d of deliveries) {
      if (isFinal(d.state) || (scope && !scope(d.clusterId))) continue;
      if (d.state !== 'scheduled') this.sendStop(id, d.clusterId, now);
      this.apply(d, reason ? { type: 'stop', reason } : { type: 'stop' }, now);
    }
    this.logger.info({ broadcastId: id, actor, whole }, 'broadcast stopped');
    return this.require(id);
  }

  private stopHeld(
    held: { broadcast: BroadcastRecord; deliveries: DeliveryRecord[] },
    actor: string | null,
    reason?: string,
  ): BroadcastRecord {
    const now = this.options.clock.now();
    if (held.broadcast.status !== 'active')
      throw new ConflictError(`broadcast ${held.broadcast.id} is already ${held.broadcast.status}`);
    Object.assign(held.broadcast, { status: 'stopped', stoppedAt: now, stoppedBy: actor });
    for (const d of held.deliveries) {
      if (isFinal(d.state)) continue;
      if (d.state !== 'scheduled') this.sendStop(held.broadcast.id, d.clusterId, now);
      this.applyHeld(d, reason ? { type: 'stop', reason } : { type: 'stop' }, now);
    }
    return held.broadcast;
  }

  /**
   * A station relay whose station failed (unreachable, the wrong type, dead air): stopped on its
   * clusters with the reason, and the fallback — another station or a media item — started on the
   * clusters still playing or due, for the rest of the window (or nothing, for `stop`). The switch
   * is kept in the broadcast log. Null when the relay had already ended.
   */
  switchToFallback(id: string, fallback: Fallback, reason: string): { toBroadcastId: string | null } | null {
    const { store, clock } = this.options;
    const b = store.get(id);
    if (b?.status !== 'active') return null;
    const clusterIds = store
      .deliveries(id)
      .filter((d) => !isFinal(d.state))
      .map((d) => d.clusterId);
    this.stopBroadcast(id, null, undefined, `switched to the fallback: ${reason}`);
    const now = clock.now();
    let toBroadcastId: string | null = null;
    if (fallback.kind !== 'stop' && clusterIds.length > 0 && b.endAt > now) {
      const startAt = Math.max(now, b.startAt);
      const next = this.createImmediate(b.kind === 'scheduled' ? 'live' : b.kind, {
        name: `${b.name} (dự phòng)`,
        level: b.level,
        content:
          fallback.kind === 'station'
            ? { kind: 'station', stationId: fallback.stationId }
            : { kind: 'media', mediaId: fallback.mediaId },
        targets: { communeIds: [], villageIds: [], clusterIds, groupIds: [] },
        volume: b.volume,
        durationS: fallback.kind === 'station' ? (b.endAt - startAt) / 1000 : undefined,
        actor: null,
        startAt,
      });
      toBroadcastId = next.id;
    }
    store.recordSwitch({ broadcastId: id, at: now, reason, fallback, toBroadcastId });
    this.logger.warn({ broadcastId: id, reason, fallback, toBroadcastId }, 'relay switched to its fallback');
    return { toBroadcastId };
  }

  private sendStop(broadcastId: string, clusterId: string, now: number): void {
    this.track(
      this.publish(clusterId, 'cmd', {
        id: newCommandId(),
        type: 'stop',
        broadcastId,
        issuedAt: now,
        expiresAt: now + 5 * 60_000,
      }),
      clusterId,
    );
  }

  /** Runs a pass now and keeps ticking every second while there is work. */
  wake(): void {
    if (this.timer === null) return; // not started, or stopping
    this.options.clock.clearTimeout(this.timer);
    this.loop();
  }

  resolveTargets(targets: Targets): string[] {
    return this.options.plan.resolveTargets(targets);
  }

  /**
   * Resolves once no cluster of the broadcast is still waiting to acknowledge (or after timeoutMs),
   * so an operator firing an emergency sees the answers within seconds.
   */
  /** The broadcast log was copied from another instance (DATABASE_URL): answers may have landed. */
  noteCopied(): void {
    for (const listener of [...this.copiedListeners]) listener();
  }

  waitForAnswers(broadcastId: string, timeoutMs: number): Promise<void> {
    const waiting = () => {
      const held = this.unrecorded.get(broadcastId);
      if (held) return held.deliveries.some((d) => d.state === 'scheduled' || d.state === 'sent');
      // The engine's holder records the answers; this instance hears of them as they are told.
      if (!this.engine && this.remote) return this.options.store.storedIn(broadcastId, ['scheduled', 'sent']);
      return this.options.store.hasDeliveriesIn(broadcastId, ['scheduled', 'sent']);
    };
    if (timeoutMs <= 0 || !waiting()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        unsubscribe();
        this.copiedListeners.delete(copied);
        this.options.clock.clearTimeout(timer);
        resolve();
      };
      const unsubscribe = this.options.events.on(
        'broadcast.delivery',
        (change) => {
          if (change.broadcastId === broadcastId && !waiting()) done();
        },
        'dispatcher',
      );
      // With its own copy of the log, this instance may hear of an answer before it is copied.
      const copied = () => {
        if (!waiting()) done();
      };
      this.copiedListeners.add(copied);
      const timer = this.options.clock.setTimeout(done, timeoutMs);
    });
  }

  get(id: string): { broadcast: BroadcastRecord; deliveries: DeliveryRecord[]; recorded: boolean } {
    const held = this.unrecorded.get(id);
    if (held)
      return {
        broadcast: held.broadcast,
        deliveries: held.deliveries.map((d) => ({ ...d })),
        recorded: false,
      };
    const broadcast = this.require(id);
    return { broadcast, deliveries: this.options.store.deliveries(id), recorded: true };
  }

  // --- internals -------------------------------------------------------------------------------

  private createImmediate(
    kind: BroadcastKind,
    spec: {
      name: string;
      level: Level;
      content: Content;
      targets: Targets;
      volume: number | null;
      durationS: number | undefined;
      actor: string | null;
      /** Later than now: a fallback keeps the start its relay had planned. */
      startAt?: number;
      reviewDue?: boolean;
      bulletinId?: string | null;
    },
  ): BroadcastRecord {
    const { clock, plan, media } = this.options;
    const now = clock.now();
    const startAt = Math.max(now, spec.startAt ?? now);
    const clusterIds = plan.resolveTargets(spec.targets);
    if (clusterIds.length === 0) throw new InvalidRequestError('the targets name no clusters');
    const durationS = isRelay(spec.content)
      ? spec.durationS
      : contentDurationS(spec.content, (id) => media.get(id).durationS);
    if (!durationS) throw new InvalidRequestError('body.durationS: required for a stream');
    const broadcast: BroadcastRecord = {
      id: `b-${randomBytes(6).toString('hex')}`,
      kind,
      scheduleId: null,
      occurrenceAt: null,
      name: spec.name,
      level: spec.level,
      content: spec.content,
      volume: spec.volume,
      repeat: 1,
      startAt,
      endAt: startAt + Math.ceil(durationS * 1000),
      expiresAt: startAt + this.options.graceMs,
      status: 'active',
      createdBy: spec.actor,
      createdAt: now,
      stoppedAt: null,
      stoppedBy: null,
      recordingMediaId: null,
      approvedBy: null,
      reviewState: spec.reviewDue ? 'pending' : null,
      reviewedBy: null,
      bulletinId: spec.bulletinId ?? null,
    };
    const deliveries = clusterIds.map((clusterId) => ({
      clusterId,
      commandId: newCommandId(),
      state: 'scheduled' as const,
      reason: null,
    }));
    if (!this.insertBroadcast(broadcast, deliveries)) {
      this.sendUnrecorded(broadcast, deliveries, now);
      return broadcast;
    }
    for (const clusterId of clusterIds) this.announce(broadcast.id, clusterId, 'scheduled', now);
    this.logger.warn(
      { broadcastId: broadcast.id, kind, clusters: clusterIds.length, actor: spec.actor },
      'broadcast started',
    );
    // Recorded: the engine's holder sends it, told at once (and finding it in the database anyway).
    if (!this.engine && this.remote) {
      this.options.store.forget(broadcast.id);
      this.remote.handOff(broadcast.id);
    } else this.wake();
    return broadcast;
  }

  /**
   * Writes a new broadcast. An emergency whose record the disk refuses gets the disk's reserve and
   * one more try; if even that fails, false: it is sent without a record (sendUnrecorded). Any
   * other broadcast's failure is thrown, and the API answers 507 naming the cause.
   */
  private insertBroadcast(
    broadcast: BroadcastRecord,
    deliveries: Parameters<BroadcastStore['insert']>[1],
  ): boolean {
    const { store, disk } = this.options;
    try {
      store.insert(broadcast, deliveries);
      return true;
    } catch (error) {
      if (broadcast.level !== 'emergency') throw error;
      if (!storageFailure(error)) throw error;
      if (disk?.makeRoomForEmergency(error)) {
        try {
          store.insert(broadcast, deliveries);
          this.logger.warn({ broadcastId: broadcast.id }, 'emergency recorded in the space held back for it');
          return true;
        } catch (again) {
          disk.noteWriteError(again);
          this.logger.error({ err: again, broadcastId: broadcast.id }, 'emergency record failed again');
        }
      } else {
        disk?.noteWriteError(error);
      }
      return false;
    }
  }

  /**
   * The disk took nothing, not even the emergency's record: it is sent all the same, to every
   * target online now (and to the rest as they come back), and held in memory. Each pass tries to
   * write it down; its deliveries follow the clusters' answers in memory until then. The API shows
   * it with `recorded: false`, and /healthz says why.
   */
  private sendUnrecorded(
    broadcast: BroadcastRecord,
    deliveries: Parameters<BroadcastStore['insert']>[1],
    now: number,
  ): void {
    const records: DeliveryRecord[] = deliveries.map((d) => ({
      broadcastId: broadcast.id,
      clusterId: d.clusterId,
      commandId: d.commandId,
      state: 'scheduled',
      reason: null,
      attempts: 0,
      playAttempt: 1,
      nextAttemptAt: now,
      sentAt: null,
      acceptedAt: null,
      startedAt: null,
      finishedAt: null,
      speakers: null,
      items: null,
      updatedAt: now,
    }));
    const held = { broadcast, deliveries: records };
    this.unrecorded.set(broadcast.id, held);
    for (const d of records) this.unrecordedByCommand.set(d.commandId, d);
    this.logger.error(
      { broadcastId: broadcast.id, clusters: records.length },
      'the disk is full: emergency sent without a record; it is written down as soon as the disk has room',
    );
    this.sendHeld(held, now);
    this.wake();
  }

  /** Sends a held emergency's play to its clusters that are online and not yet sent it, or due again. */
  private sendHeld(held: { broadcast: BroadcastRecord; deliveries: DeliveryRecord[] }, now: number): void {
    const sources = new Map<string, PlaySource>();
    for (const d of held.deliveries) {
      if (isFinal(d.state) || d.state === 'accepted' || d.state === 'playing') continue;
      if (now > held.broadcast.expiresAt) {
        Object.assign(d, {
          state: d.state === 'sent' ? 'expired' : 'missed',
          finishedAt: now,
          updatedAt: now,
        });
        continue;
      }
      if (d.nextAttemptAt !== null && d.nextAttemptAt > now) continue;
      if (!this.options.isOnline(d.clusterId)) continue;
      if (this.sendPlay(held.broadcast, d, now, sources) !== 'sent') continue;
      d.attempts += 1;
      d.sentAt ??= now;
      d.state = 'sent';
      d.nextAttemptAt = now + this.backoffMs(d.attempts);
      d.updatedAt = now;
    }
  }

  /** Writes held emergencies down once the disk takes them; true while any is still held. */
  private recordUnrecorded(now: number): boolean {
    for (const [id, held] of this.unrecorded) {
      try {
        this.options.store.transaction(() => {
          this.options.store.insert(
            held.broadcast,
            held.deliveries.map((d) => ({
              clusterId: d.clusterId,
              commandId: d.commandId,
              state: d.state,
              reason: d.reason,
            })),
          );
          for (const d of held.deliveries) {
            const { broadcastId: _b, clusterId: _c, commandId: _i, ...fields } = d;
            const stored = this.options.store.byCommand(d.commandId);
            if (stored) this.options.store.update(stored, fields);
          }
        });
      } catch (error) {
        this.options.disk?.noteWriteError(error);
        this.sendHeld(held, now);
        continue;
      }
      this.unrecorded.delete(id);
      for (const d of held.deliveries) this.unrecordedByCommand.delete(d.commandId);
      this.logger.warn({ broadcastId: id }, 'an emergency sent without a record is now recorded');
      this.closeIfDone(id);
    }
    return this.unrecorded.size > 0;
  }

  /** Creates the broadcasts of occurrences starting before now + lead that do not exist yet. */
  private materialize(now: number): void {
    const { plan, store, graceMs, leadMs } = this.options;
    const horizon = now + leadMs;
    let from = now - graceMs;
    const missedReason = this.firstTick ? 'platform-down' : 'clock-jump';
    if (this.firstTick) {
      // After a restart, occurrences slept through are recorded (as missed) rather than forgotten.
      const last = Number(store.getState(LAST_TICK) ?? now);
      from = Math.min(from, Math.max(last, now - MAX_LOOKBACK_MS));
      this.firstTick = false;
    } else if (this.lastTickAt !== null) {
      // A wall clock that jumped forward skips the time between the last pass and now: what was
      // due in it is dispatched late within the grace, or recorded as missed, never dropped.
      from = Math.min(from, Math.max(this.lastTickAt, now - MAX_LOOKBACK_MS));
    }
    this.lastTickAt = now;
    let occurrences: ReturnType<PlanSource['occurrencesBetween']>;
    try {
      occurrences = plan.occurrencesBetween(from, horizon + 1);
    } catch (error) {
      this.logger.error({ err: error }, 'could not expand schedules');
      return;
    }
    for (const occ of occurrences) {
      if (occ.start < from || occ.start > horizon) continue;
      if (occ.start < Date.parse(occ.schedule.createdAt)) continue;
      if (store.hasOccurrence(occ.schedule.id, occ.start)) continue;
      const tooLate = now > occ.start + graceMs;
      const { schedule } = occ;
      const broadcast: BroadcastRecord = {
        id: `b-${randomBytes(6).toString('hex')}`,
        kind: 'scheduled',
        scheduleId: schedule.id,
        occurrenceAt: occ.start,
        name: schedule.name,
        level: schedule.level,
        content: schedule.content,
        volume: schedule.volume,
        repeat: schedule.repeat,
        startAt: occ.start,
        endAt: occ.end,
        expiresAt: occ.start + graceMs,
        status: tooLate ? 'finished' : 'active',
        createdBy: schedule.createdBy,
        createdAt: now,
        stoppedAt: null,
        stoppedBy: null,
        recordingMediaId: null,
        approvedBy: schedule.approvedBy,
        reviewState: schedule.reviewDue ? 'pending' : null,
        reviewedBy: null,
        bulletinId: schedule.bulletinId,
      };
      store.insert(
        broadcast,
        occ.clusterIds.map((clusterId) => ({
          clusterId,
          commandId: newCommandId(),
          state: tooLate ? ('missed' as const) : ('scheduled' as const),
          reason: tooLate ? missedReason : null,
        })),
      );
      for (const clusterId of occ.clusterIds)
        this.announce(broadcast.id, clusterId, tooLate ? 'missed' : 'scheduled', now);
      this.logger.info(
        {
          broadcastId: broadcast.id,
          scheduleId: schedule.id,
          start: new Date(occ.start).toISOString(),
          tooLate,
        },
        'occurrence planned',
      );
    }
  }

  /**
   * Sends what is due a chunk at a time, one transaction each, the next chunk on the next turn of
   * the event loop: the first clusters of a 10,000-cluster emergency have their command, and are
   * answering, while the platform is still preparing the last ones.
   */
  private sendInChunks(now: number): void {
    let more = false;
    this.options.store.transaction(() => {
      more = this.sendDue(now, SEND_CHUNK);
    });
    if (!more || this.continuing || this.stopped) return;
    this.continuing = new Promise((resolve) =>
      setImmediate(() => {
        this.continuing = null;
        if (!this.stopped) this.sendInChunks(this.options.clock.now());
        resolve();
      }),
    );
  }

  /** Sends up to `limit` due deliveries; true when more may be due. */
  private sendDue(now: number, limit: number): boolean {
    const { store, isOnline } = this.options;
    const broadcasts = new Map<string, BroadcastRecord | null>();
    // Every delivery of a broadcast fetches the same media by the same signed URL: built once a pass.
    const sources = new Map<string, PlaySource>();
    const due = store.due(now, limit);
    // A large pass takes the broker a while to get out and its answers a while to come back: each
    // delivery still due adds to the wait before a retry, so 10,000 clusters acking in 2 s are not
    // all sent their command again (which doubled the load just as the answers arrived).
    const backlog = due.length < limit ? due.length : store.countDue(now);
    const passSlack = backlog * this.settings.retrySlackPerCommandMs;
    for (const d of due) {
      if (!broadcasts.has(d.broadcastId)) broadcasts.set(d.broadcastId, store.get(d.broadcastId));
      const b = broadcasts.get(d.broadcastId);
      if (b?.status !== 'active') continue;
      if (this.unconfirmed.has(d.commandId)) {
        this.askAgain(b, d, now, sources);
        continue;
      }
      if (d.state === 'accepted' || d.state === 'playing') {
        // The cluster has it; nothing to send (a next attempt left over from an earlier release).
        store.update(d, { nextAttemptAt: null, updatedAt: now });
        continue;
      }
      if (now > b.expiresAt) {
        if (d.playAttempt > 1) {
          // Fresh attempts after failed downloads ran out of time: that failure is why it was not heard.
          this.finish(d, 'failed', `fetch-failed on ${d.playAttempt} attempts`, now);
          continue;
        }
        // Never reached: the cluster was offline throughout, or never answered.
        const state = d.state === 'sent' ? 'expired' : 'missed';
        this.finish(d, state, state === 'missed' ? 'offline' : 'no answer before expiry', now);
        continue;
      }
      // Never wait past the expiry, so a missed or expired play is recorded the moment it is.
      const until = (delay: number) => Math.min(now + delay, b.expiresAt + 1);
      if (d.state === 'sent' && d.attempts > 0) {
        // The retry clock runs from when the command reached the cluster's socket.
        const written = this.writtenAt.get(d.commandId);
        const retryAt = this.writing.has(d.commandId)
          ? now + this.backoffMs(d.attempts)
          : written === undefined
            ? now
            : written + this.backoffMs(d.attempts) + passSlack;
        if (retryAt > now) {
          store.update(d, { nextAttemptAt: until(retryAt - now), updatedAt: now });
          continue;
        }
      }
      if (!isOnline(d.clusterId)) {
        store.update(d, { nextAttemptAt: until(this.settings.retryBaseMs), updatedAt: now });
        continue;
      }
      const outcome = this.sendPlay(b, d, now, sources);
      if (outcome === 'later') store.update(d, { nextAttemptAt: until(1_000), updatedAt: now });
      if (outcome !== 'sent') continue;
      const attempts = d.attempts + 1;
      const backoff = this.backoffMs(attempts);
      store.update(d, {
        state: 'sent',
        attempts,
        sentAt: d.sentAt ?? now,
        nextAttemptAt: until(backoff + passSlack),
        updatedAt: now,
      });
      if (d.state !== 'sent') this.announce(d.broadcastId, d.clusterId, 'sent', now);
    }
    return due.length === limit;
  }

  /**
   * A delivery open at the restart: the same command again under its own id makes the cluster
   * repeat where it stands (docs/protocol.md section 7, "After a platform restart") without playing
   * anything twice. It is asked until it answers or its chance to has passed.
   */
  private askAgain(
    b: BroadcastRecord,
    d: DeliveryRecord,
    now: number,
    sources: Map<string, PlaySource>,
  ): void {
    const { store, isOnline } = this.options;
    const deadline = this.reportDeadline(b, d);
    if (now > deadline) {
      this.unconfirmed.delete(d.commandId);
      if (d.state === 'sent') this.finish(d, 'expired', 'no answer after the platform restarted', now);
      else this.finish(d, 'failed', 'no completion report after the platform restarted', now);
      return;
    }
    if (!isOnline(d.clusterId)) {
      store.update(d, {
        nextAttemptAt: Math.min(now + this.settings.retryBaseMs, deadline + 1),
        updatedAt: now,
      });
      return;
    }
    if (this.sendPlay(b, d, now, sources) !== 'sent') return;
    const attempts = d.attempts + 1;
    store.update(d, {
      attempts,
      nextAttemptAt: Math.min(now + this.backoffMs(attempts), deadline + 1),
      updatedAt: now,
    });
  }

  /** The wait after the n-th send of a command: doubling from the base, up to the maximum. */
  private backoffMs(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.settings;
    return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempts - 1, 20));
  }

  /** When an accepted play should long have reported its end; a restart leaves clusters time to answer. */
  private reportDeadline(b: BroadcastRecord, d: DeliveryRecord): number {
    const lateBy = d.startedAt ? Math.max(0, d.startedAt - b.startAt) : 0;
    const deadline = b.endAt + lateBy + REPORT_SLACK_MS;
    return this.unconfirmed.has(d.commandId)
      ? Math.max(deadline, this.startedAt + RECONCILE_WINDOW_MS)
      : deadline;
  }

  private sendPlay(
    b: BroadcastRecord,
    d: DeliveryRecord,
    now: number,
    sources = new Map<string, PlaySource>(),
  ): 'sent' | 'failed' | 'later' {
    let command: Command;
    try {
      let source = sources.get(b.id);
      if (!source) {
        source = this.playSource(b);
        sources.set(b.id, source);
      }
      command = this.playCommand(b, d, source, now);
    } catch (error) {
      if (error instanceof NotFoundError) {
        // The media went missing: nothing can be sent, ever.
        this.finish(d, 'failed', `cannot build play: ${error.message}`, now);
        return 'failed';
      }
      // Anything else is the platform's own passing trouble: the delivery stays due and is tried again.
      this.logger.error({ err: error, broadcastId: b.id, clusterId: d.clusterId }, 'could not build a play');
      return 'later';
    }
    const id = d.commandId;
    this.writing.add(id);
    this.track(this.publish(d.clusterId, 'cmd', command), d.clusterId, () => {
      this.writing.delete(id);
      this.writtenAt.set(id, this.options.clock.now());
    });
    return 'sent';
  }

  /** Where a broadcast's clusters fetch what they play; the signed URL outlives the broadcast. */
  private playSource(b: BroadcastRecord): PlaySource {
    if (b.content.kind === 'stream') return { kind: 'stream', url: b.content.url };
    if (b.content.kind === 'station') {
      if (!this.options.stationUrl) throw new Error('station relays need the stations feature');
      return { kind: 'stream', url: this.options.stationUrl(b.content.stationId) };
    }
    if (b.content.kind === 'programme') {
      return {
        kind: 'programme',
        items: b.content.items.map((item) =>
          item.kind === 'silence'
            ? { kind: 'silence', durationS: item.durationS }
            : this.mediaSource(b, spokenOrFile(item)),
        ),
      };
    }
    return this.mediaSource(b, spokenOrFile(b.content));
  }

  private mediaSource(b: BroadcastRecord, mediaId: string): Extract<PlaySource, { kind: 'media' }> {
    const m = this.options.media.get(mediaId);
    return {
      kind: 'media',
      url: this.options.media.signedUrl(mediaId, b.endAt + URL_SLACK_MS, b.id),
      sizeBytes: m.sizeBytes,
      sha256: m.sha256,
      durationS: m.durationS,
    };
  }

  private playCommand(b: BroadcastRecord, d: DeliveryRecord, source: PlaySource, now: number): Command {
    return {
      id: d.commandId,
      type: 'play',
      issuedAt: now,
      expiresAt: Math.max(b.expiresAt, now + 1),
      broadcastId: b.id,
      level: b.level,
      source,
      startAt: b.startAt,
      ...(isRelay(b.content) ? { endAt: b.endAt } : {}),
      ...(b.volume === null ? {} : { volume: b.volume }),
      repeat: b.content.kind === 'programme' ? 1 : b.repeat,
      ...(d.playAttempt > 1 ? { attempt: d.playAttempt } : {}),
    };
  }

  /**
   * Plays accepted but never reported finished are failed once they should long be over. Returns
   * how many deliveries remain open.
   */
  private watchdog(now: number): number {
    const { store } = this.options;
    const open = store.open();
    // Runs every second while plays are under way: one read per broadcast, not per cluster.
    const broadcasts = new Map<string, BroadcastRecord | null>();
    for (const d of open) {
      if (d.state !== 'accepted' && d.state !== 'playing') continue;
      if (!broadcasts.has(d.broadcastId)) broadcasts.set(d.broadcastId, store.get(d.broadcastId));
      const b = broadcasts.get(d.broadcastId);
      if (!b) continue;
      // A delivery still to be confirmed after a restart is given up by askAgain, with its reason.
      if (this.unconfirmed.has(d.commandId)) continue;
      if (now > this.reportDeadline(b, d)) this.finish(d, 'failed', 'no completion report', now);
    }
    return open.length;
  }

  /**
   * After a restart: clusters may have acked, played or finished while nobody listened, and the
   * platform's own broker has just dropped them all. Every delivery that was sent and not final is
   * marked to be asked again under its own id as soon as its cluster is back (sendDue), so the
   * record says what each cluster actually did.
   */
  private reconcile(): void {
    const { store, clock } = this.options;
    const now = clock.now();
    for (const d of store.open()) {
      if (d.state === 'scheduled') continue;
      const b = store.get(d.broadcastId);
      if (b?.status !== 'active') continue;
      this.unconfirmed.add(d.commandId);
      this.openAtRestart.add(d.commandId);
      store.update(d, { nextAttemptAt: now, updatedAt: now });
    }
    if (this.unconfirmed.size > 0)
      this.logger.info(
        { deliveries: this.unconfirmed.size },
        'asking clusters where their open deliveries stand',
      );
  }

  /**
   * Cluster reports are stored in batches, one transaction per turn of the event loop: an
   * emergency to 10,000 clusters brings 20,000 acks within seconds, and committing each alone
   * cost more than everything else the platform does for them.
   */
  private report(deviceId: string, commandId: string, input: DeliveryInput): void {
    this.reports.push({ deviceId, commandId, input, at: this.options.clock.now() });
    this.reportsTurn ??= setImmediate(() => this.storeReports());
  }

  private storeReports(): void {
    if (this.reportsTurn) clearImmediate(this.reportsTurn);
    this.reportsTurn = null;
    const batch = this.reports.splice(0);
    if (batch.length === 0) return;
    const applyAll = (reports: typeof batch) => {
      const finished = new Set<string>();
      for (const r of reports) {
        const held = this.unrecordedByCommand.get(r.commandId);
        if (held) {
          if (held.clusterId === r.deviceId) this.applyHeld(held, r.input, r.at);
          continue;
        }
        const d = this.options.store.byCommand(r.commandId);
        if (d && d.clusterId === r.deviceId) this.apply(d, r.input, r.at, finished);
      }
      for (const broadcastId of finished) this.closeIfDone(broadcastId);
    };
    try {
      this.options.store.transaction(() => applyAll(batch));
    } catch (error) {
      // One bad report must not cost the others: store them one by one, logging what still fails.
      this.logger.warn(
        { err: error, reports: batch.length },
        'storing a batch of reports failed; retrying singly',
      );
      for (const r of batch) {
        try {
          this.options.store.transaction(() => applyAll([r]));
        } catch (single) {
          this.logger.error(
            { err: single, clusterId: r.deviceId, commandId: r.commandId },
            'could not store a cluster report',
          );
        }
      }
    }
  }

  /** A report on an emergency held in memory (sendUnrecorded): the same steps, kept in memory. */
  private applyHeld(d: DeliveryRecord, input: DeliveryInput, now: number): void {
    const step = stepDelivery(d.state, input);
    if (!step) return;
    d.state = step.state;
    d.reason = step.reason;
    d.updatedAt = now;
    if (step.state === 'accepted' || step.state === 'playing' || isFinal(step.state)) d.nextAttemptAt = null;
    if (step.stamp === 'accepted') d.acceptedAt = now;
    if (step.stamp === 'started') d.startedAt = now;
    if (step.stamp === 'finished') d.finishedAt = now;
    this.announce(d.broadcastId, d.clusterId, step.state, now);
  }

  /** Applies one report; a broadcast whose delivery became final is added to `finished`, or closed at once. */
  private apply(d: DeliveryRecord, input: DeliveryInput, now: number, finished?: Set<string>): void {
    const confirmed = this.isAnswer(d, input, now) && this.unconfirmed.delete(d.commandId);
    if (d.state === 'scheduled' && d.playAttempt > 1 && input.type !== 'stop') return; // the earlier attempt's news
    if (this.retryFresh(d, input, now)) return;
    if (this.correctLate(d, input, now)) return;
    const step = stepDelivery(d.state, input);
    if (!step) {
      const lateStart = d.startedAt === null && d.state === 'done' ? this.reportedStart(input, now) : null;
      if (lateStart !== null) {
        // The start of a play whose record an answer closed before its playback-started arrived
        // (lost while the platform was down): a late event, or the start time a repeated ack carries.
        this.options.store.update(d, { startedAt: lateStart, updatedAt: now });
      } else if (confirmed && d.state !== 'sent') {
        this.options.store.update(d, { nextAttemptAt: null, updatedAt: now });
      }
      // A programme's item outcomes repeated by a cluster answering again complete a record without them.
      if (input.type === 'ack' && input.ack.items && d.items === null && isFinal(d.state))
        this.options.store.update(d, { items: input.ack.items, updatedAt: now });
      return;
    }
    const fields: Parameters<BroadcastStore['update']>[1] = {
      state: step.state,
      reason: step.reason,
      updatedAt: now,
    };
    // Accepted or playing: the cluster has it, nothing is re-sent (reconcile asks again after a restart).
    // Still to be confirmed after a restart: it stays due, so the cluster is asked again.
    if ((step.state === 'accepted' || step.state === 'playing') && !this.unconfirmed.has(d.commandId))
      fields.nextAttemptAt = null;
    // The record says when the cluster says it played, not when its report happened to arrive;
    // a clock more than five minutes off is not believed.
    const reported = input.type === 'ack' ? input.ack.ts : input.type === 'event' ? input.event.ts : now;
    const at = deviceTime(reported, now);
    if (step.stamp === 'accepted') fields.acceptedAt = at;
    if (step.stamp === 'started') {
      fields.startedAt = at;
      fields.speakers = this.options.speakers(d.clusterId);
    }
    if (input.type === 'ack' && input.ack.items) fields.items = input.ack.items;
    if (step.stamp === 'finished') {
      if (d.startedAt === null) {
        const started = this.reportedStart(input, now);
        if (started !== null) fields.startedAt = started;
      }
      fields.finishedAt = at;
      fields.nextAttemptAt = null;
      fields.speakers = this.options.speakers(d.clusterId) ?? d.speakers;
    }
    this.options.store.update(d, fields);
    if (step.state !== d.state) this.announce(d.broadcastId, d.clusterId, step.state, now);
    this.logger.debug(
      { broadcastId: d.broadcastId, clusterId: d.clusterId, state: step.state, reason: step.reason },
      'delivery',
    );
    if (!isFinal(step.state)) return;
    this.forgetWrites(d.commandId);
    if (finished) finished.add(d.broadcastId);
    else this.closeIfDone(d.broadcastId);
  }

  /**
   * A record the platform closed for want of news ("no completion report", "no answer before
   * expiry", missed while offline) is corrected by what the cluster reports later, say after a
   * 4G outage: a final report (done, failed, pre-empted, stopped) replaces the inferred outcome,
   * with the time it arrived in the reason; a late playback-started adds the start time.
   * Returns whether the report was such a correction.
   */
  private correctLate(d: DeliveryRecord, input: DeliveryInput, now: number): boolean {
    if (!isFinal(d.state) || !INFERRED_REASONS.has(d.reason ?? '')) return false;
    const before: DeliveryState = d.startedAt ? 'playing' : d.acceptedAt ? 'accepted' : 'sent';
    const step = stepDelivery(before, input);
    const started = d.startedAt === null ? this.reportedStart(input, now) : null;
    if (!step || !isFinal(step.state)) {
      if (started !== null) this.options.store.update(d, { startedAt: started, updatedAt: now });
      return true;
    }
    const reported = input.type === 'ack' ? input.ack.ts : input.type === 'event' ? input.event.ts : now;
    const arrived = `reported late (arrived ${new Date(now).toISOString()})`;
    this.options.store.update(d, {
      state: step.state,
      reason: step.reason ? `${step.reason}; ${arrived}` : arrived,
      finishedAt: deviceTime(reported, now, LATE_REPORT_WINDOW_MS),
      ...(started !== null ? { startedAt: started } : {}),
      ...(input.type === 'ack' && input.ack.items ? { items: input.ack.items } : {}),
      updatedAt: now,
    });
    this.announce(d.broadcastId, d.clusterId, step.state, now);
    this.logger.info(
      { broadcastId: d.broadcastId, clusterId: d.clusterId, state: step.state, was: d.reason },
      'a late report corrected a delivery',
    );
    return true;
  }

  /** When a report says the play's first sound was heard: a playback-started event, or an ack's startedAt. */
  private reportedStart(input: DeliveryInput, now: number): number | null {
    const at =
      input.type === 'event' && input.event.type === 'playback-started'
        ? input.event.ts
        : input.type === 'ack'
          ? input.ack.startedAt
          : undefined;
    if (at === undefined) return null;
    return deviceTime(at, now, LATE_REPORT_WINDOW_MS);
  }

  /**
   * Whether a report answers the question asked after a restart. Only an ack does: events queued
   * on the cluster before the restart may arrive late and tell an old story. An `accepted` for a
   * play that should be over by now is such a story too, so the cluster is asked again.
   */
  private isAnswer(d: DeliveryRecord, input: DeliveryInput, now: number): boolean {
    if (input.type !== 'ack' || !this.unconfirmed.has(d.commandId)) return false;
    if (input.ack.status !== 'accepted') return true;
    const b = this.options.store.get(d.broadcastId);
    const lateBy = d.startedAt && b ? Math.max(0, d.startedAt - b.startAt) : 0;
    return b !== null && now <= b.endAt + lateBy;
  }

  /**
   * A download cut by the platform's own restart fails `fetch-failed` before the first sound: the
   * play is sent again as a fresh attempt under the same id, which a cluster executes only when
   * that id failed so and never started (docs/protocol.md section 7). An emergency is tried until
   * it can no longer start, whatever cut the download; other levels three times, and only across a
   * restart.
   */
  private retryFresh(d: DeliveryRecord, input: DeliveryInput, now: number): boolean {
    const code =
      input.type === 'ack' && input.ack.status === 'failed'
        ? input.ack.error
        : input.type === 'event' && input.event.type === 'playback-failed'
          ? input.event.code
          : undefined;
    if (code !== 'fetch-failed' || d.startedAt !== null) return false;
    const b = this.options.store.get(d.broadcastId);
    if (b?.status !== 'active' || now > b.expiresAt) return false;
    const emergency = b.level === 'emergency';
    // Across a restart the failure is the platform's own; an emergency is tried again whatever cut
    // its download (the platform's media server, the cluster's link), as long as it can still start.
    if (!emergency && !this.openAtRestart.has(d.commandId)) return false;
    if (!emergency && d.playAttempt >= MAX_FRESH_ATTEMPTS) return false;
    const why = this.openAtRestart.has(d.commandId) ? 'during the platform restart' : 'before any sound';
    this.options.store.update(d, {
      state: 'scheduled',
      reason: `fetch-failed ${why}; attempt ${d.playAttempt + 1}`,
      playAttempt: d.playAttempt + 1,
      nextAttemptAt: now + 1_000 * Math.min(8, d.playAttempt),
      updatedAt: now,
    });
    this.announce(d.broadcastId, d.clusterId, 'scheduled', now);
    this.logger.warn(
      { broadcastId: d.broadcastId, clusterId: d.clusterId, attempt: d.playAttempt + 1 },
      'download failed across a restart; sending a fresh attempt',
    );
    return true;
  }

  private finish(d: DeliveryRecord, state: DeliveryState, reason: string, now: number): void {
    this.forgetWrites(d.commandId);
    this.options.store.update(d, { state, reason, finishedAt: now, nextAttemptAt: null, updatedAt: now });
    this.announce(d.broadcastId, d.clusterId, state, now);
    this.closeIfDone(d.broadcastId);
  }

  private closeIfDone(broadcastId: string): void {
    const { store } = this.options;
    const b = store.get(broadcastId);
    if (b?.status !== 'active') return;
    if (!store.hasDeliveriesIn(broadcastId, OPEN_DELIVERY_STATES)) store.setStatus(broadcastId, 'finished');
  }

  private forgetWrites(commandId: string): void {
    this.writing.delete(commandId);
    this.writtenAt.delete(commandId);
  }

  /** Tells the console a delivery's stored state changed. */
  private announce(broadcastId: string, clusterId: string, state: DeliveryState, at: number): void {
    this.options.events.emit('broadcast.delivery', { broadcastId, clusterId, state, at });
  }

  private track(work: Promise<void>, clusterId: string, written?: () => void): void {
    const tracked = work.then(written, (error: unknown) =>
      this.logger.error({ err: error, clusterId }, 'could not publish a command'),
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private require(id: string): BroadcastRecord {
    const b = this.options.store.get(id);
    if (!b) throw new NotFoundError('broadcast', id);
    return b;
  }
}
