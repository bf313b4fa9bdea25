import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Targets } from '../../contracts/broadcasts.js';
import type { FirmwareImage, RolloutCreate } from '../../contracts/firmware.js';
import {
  type Ack,
  buildCommand,
  type Clock,
  type Command,
  type DeviceEvent,
  type StateMessage,
  type TimerHandle,
  type TypedPublish,
} from '../../devices/index.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { EventBus, OwnedListeners, PresenceChange } from '../event-bus.js';
import { batchOf, isFailure, nextStep, outcomeOfAck, pickShare } from './rollout-policy.js';
import type { ClusterPatch, RolloutClusterRecord, RolloutRecord, RolloutStore } from './rollout-store.js';

export interface RolloutServiceOptions {
  store: RolloutStore;
  events: EventBus;
  /** Publishes a command to a cluster (QoS 1), validated against the protocol's schema. */
  publish: TypedPublish;
  isOnline(clusterId: string): boolean;
  /** The firmware version a cluster last reported in its state message. */
  firmwareOf(clusterId: string): string | null;
  placements(): { id: string; villageId: string; communeId: string }[];
  resolveTargets(targets: Targets): string[];
  /** An image's checksum and size, from the library. */
  image(imageId: string): Pick<FirmwareImage, 'sha256' | 'sizeBytes'>;
  /** A signed download link of an image, valid until `expiresAt`. */
  imageUrl(imageId: string, expiresAt: number): string;
  clock: Clock;
  logger: Logger;
  /**
   * After a start, how long no new batch starts (default 60 s): the clusters are reconnecting to the
   * restarted platform, and a batch started now would find them offline and skip them.
   */
  resumeGraceMs?: number;
}

const DEFAULT_RESUME_GRACE_MS = 60_000;

/** A cluster updating now, by its command id. */
interface InFlight {
  rolloutId: string;
  clusterId: string;
  version: string;
  deadlineAt: number;
}

/**
 * Staged firmware rollouts: clusters are sent the image batch by batch, each one followed through
 * its `firmware-progress` events, its final ack and its state message (back online with the new
 * version); the rollout halts by itself once failures pass its threshold. Every step is a row, so a
 * platform restart carries on: the clusters still updating are sent their command again (same id)
 * when they are online, and answer with their stored ack (docs/protocol.md 7).
 */
export class RolloutService {
  private readonly inFlight = new Map<string, InFlight>();
  /** Commands to send again once their cluster is online (after a platform restart). */
  private readonly resendWhenOnline = new Map<string, string>();
  /** Each rollout's decisions, one after the other, so a batch never starts twice. */
  private readonly chains = new Map<string, Promise<void>>();
  private listeners: OwnedListeners | null = null;
  private timer: TimerHandle | null = null;
  private resumeTimer: TimerHandle | null = null;
  private resumeAt = 0;
  private readonly logger: Logger;
  /** Carrying out rollouts: always on one instance, on the lease's holder with several. */
  private running = false;
  /**
   * What clusters report and each rollout's steps, one after the other: every write is stored (and
   * with DATABASE_URL copied here) before the next report reads the rows it changed.
   */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RolloutServiceOptions) {
    this.logger = options.logger.child({ component: 'firmware-rollouts' });
  }

  /**
   * Listens to the clusters and carries on every open rollout from what the database holds, as
   * after a restart. With several instances only the holder of the `firmware-rollouts` lease runs.
   */
  start(): void {
    const { store, isOnline } = this.options;
    this.running = true;
    this.inFlight.clear();
    this.resendWhenOnline.clear();
    const listeners = this.options.events.owner('firmware');
    this.listeners = listeners;
    listeners.on('device.event', ({ deviceId, event }) => this.handle(() => this.onEvent(deviceId, event)));
    listeners.on('device.ack', ({ deviceId, ack }) => this.handle(() => this.onAck(deviceId, ack)));
    listeners.on('device.state', ({ deviceId, state }) => this.handle(() => this.onState(deviceId, state)));
    listeners.on('device.presence', (change) => this.handle(() => this.onPresence(change)));
    for (const cluster of store.inFlight()) {
      if (!cluster.commandId || !cluster.command) continue;
      const rollout = store.get(cluster.rolloutId);
      if (!rollout) continue;
      this.inFlight.set(cluster.commandId, {
        rolloutId: cluster.rolloutId,
        clusterId: cluster.clusterId,
        version: rollout.version,
        deadlineAt: cluster.deadlineAt ?? this.options.clock.now(),
      });
      // What happened while the platform was away is asked again (docs/protocol.md 7, "After a platform restart").
      if (isOnline(cluster.clusterId)) this.resend(cluster.clusterId, cluster.command);
      else this.resendWhenOnline.set(cluster.clusterId, cluster.commandId);
    }
    const { clock } = this.options;
    const open = store.open();
    if (open.length > 0) {
      this.resumeAt = clock.now() + (this.options.resumeGraceMs ?? DEFAULT_RESUME_GRACE_MS);
      this.resumeTimer = clock.setTimeout(() => {
        this.resumeTimer = null;
        for (const rollout of store.open()) void this.advance(rollout.id);
      }, this.resumeAt - clock.now());
    }
    this.arm();
  }

  /** Takes up rollouts another instance started (recorded, not begun) while this one runs them. */
  recheck(): void {
    if (!this.running) return;
    for (const rollout of this.options.store.open())
      if (!this.chains.has(rollout.id)) void this.advance(rollout.id);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.listeners?.removeAll();
    this.listeners = null;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    if (this.resumeTimer) this.options.clock.clearTimeout(this.resumeTimer);
    this.timer = null;
    this.resumeTimer = null;
    await Promise.all([...this.chains.values()]);
    await this.serial;
  }

  /** Runs `work` after what is queued before it; its result, or its failure. */
  private enqueue<T>(work: () => Promise<T> | T): Promise<T> {
    const next = this.serial.then(work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /** A cluster's report or a deadline, handled in turn; a failure (the database) is logged. */
  private handle(work: () => Promise<void> | void): void {
    this.enqueue(work).catch((error: unknown) =>
      this.logger.error({ err: error }, 'a firmware report could not be recorded'),
    );
  }

  /**
   * Starts a rollout of an image to clusters the caller may address; its first batch is sent at
   * once (by the lease's holder, with several instances).
   */
  async create(image: FirmwareImage, input: RolloutCreate, createdBy: string | null): Promise<RolloutRecord> {
    const { store, clock } = this.options;
    const placements = new Map(this.options.placements().map((p) => [p.id, p]));
    const ids = input.targets
      ? [...new Set(this.options.resolveTargets(input.targets))].sort()
      : pickShare(
          [...placements.values()].filter((p) => p.communeId === input.communeId).map((p) => p.id),
          input.percentage ?? 100,
        );
    const clusters = ids.flatMap((id) => {
      const place = placements.get(id);
      return place ? [place] : [];
    });
    if (clusters.length === 0) throw new InvalidRequestError('the rollout reaches no cluster');
    const now = clock.now();
    const rollout: RolloutRecord = {
      id: `fwr-${randomBytes(5).toString('hex')}`,
      imageId: image.id,
      version: image.version,
      selection: input.targets
        ? { targets: input.targets }
        : { communeId: input.communeId, percentage: input.percentage },
      communeIds: [...new Set(clusters.map((c) => c.communeId))].sort(),
      batchSize: input.batchSize,
      failureThreshold: input.failureThreshold,
      clusterTimeoutS: input.clusterTimeoutS,
      state: 'running',
      haltReason: null,
      createdBy,
      createdAt: now,
      finishedAt: null,
    };
    await store.insert(
      rollout,
      clusters.map((c, position) => ({
        rolloutId: rollout.id,
        clusterId: c.id,
        position,
        batch: batchOf(position, input.batchSize),
        communeId: c.communeId,
        villageId: c.villageId,
        fromVersion: this.options.firmwareOf(c.id),
        reportedVersion: null,
        stage: 'not-started',
        outcome: 'not-started',
        error: null,
        commandId: null,
        command: null,
        startedAt: null,
        deadlineAt: null,
        updatedAt: now,
      })),
    );
    this.logger.info(
      { rolloutId: rollout.id, version: image.version, clusters: clusters.length },
      'rollout started',
    );
    // Elsewhere the holder of the lease begins it when it next looks (within CLUSTER_LEASE_MS).
    if (this.running) await this.advance(rollout.id);
    return this.get(rollout.id);
  }

  get(id: string): RolloutRecord {
    const rollout = this.options.store.get(id);
    if (!rollout) throw new NotFoundError('rollout', id);
    return rollout;
  }

  /** Stops starting batches; clusters already updating finish and are reported. */
  async halt(id: string, by: string | null): Promise<RolloutRecord> {
    const rollout = this.get(id);
    if (rollout.state === 'running') {
      await this.enqueue(() =>
        this.options.store.setState(
          id,
          'halted',
          `halted by ${by ?? 'an API client'}`,
          this.options.clock.now(),
        ),
      );
      this.logger.warn({ rolloutId: id, by }, 'rollout halted by hand');
    }
    await this.chains.get(id);
    return this.get(id);
  }

  /** Applies the rollout's next step (halt, next batch, complete) until it has to wait for clusters. */
  private advance(rolloutId: string): Promise<void> {
    const previous = this.chains.get(rolloutId) ?? Promise.resolve();
    const next = previous
      .then(() => this.enqueue(() => this.step(rolloutId)))
      .catch((error: unknown) => {
        this.logger.error({ err: error, rolloutId }, 'a rollout step failed');
      });
    this.chains.set(rolloutId, next);
    void next.then(() => {
      if (this.chains.get(rolloutId) === next) this.chains.delete(rolloutId);
    });
    return next;
  }

  private async step(rolloutId: string): Promise<void> {
    const { store, clock } = this.options;
    for (;;) {
      const rollout = store.get(rolloutId);
      if (!rollout) return;
      const clusters = store.clusters(rolloutId);
      const step = nextStep(clusters, rollout.state, rollout.failureThreshold);
      switch (step.kind) {
        case 'wait':
          return;
        case 'halt':
          await store.setState(rolloutId, 'halted', step.reason, clock.now());
          this.logger.warn({ rolloutId, reason: step.reason }, 'rollout halted: too many failures');
          return;
        case 'complete':
          await store.setState(rolloutId, 'completed', null, clock.now());
          this.logger.info({ rolloutId }, 'rollout completed');
          return;
        case 'start-batch':
          // Just restarted: the resume timer starts it once clusters had time to reconnect.
          if (clock.now() < this.resumeAt) return;
          await this.startBatch(
            rollout,
            clusters.filter((c) => c.batch === step.batch),
          );
      }
    }
  }

  /** Sends the image to each cluster of a batch; offline clusters and those already on it are skipped. */
  private async startBatch(rollout: RolloutRecord, batch: RolloutClusterRecord[]): Promise<void> {
    const { store, clock, isOnline, firmwareOf } = this.options;
    const sends: Promise<void>[] = [];
    const now = clock.now();
    const ttlMs = rollout.clusterTimeoutS * 1000;
    for (const cluster of batch) {
      if (cluster.outcome !== 'not-started') continue;
      const { clusterId } = cluster;
      if (!isOnline(clusterId)) {
        await store.updateCluster(rollout.id, clusterId, { outcome: 'skipped', error: 'offline' }, now);
        continue;
      }
      if (firmwareOf(clusterId) === rollout.version) {
        await store.updateCluster(
          rollout.id,
          clusterId,
          { outcome: 'skipped', error: `already runs ${rollout.version}`, reportedVersion: rollout.version },
          now,
        );
        continue;
      }
      const stored = this.command(rollout, now, ttlMs);
      // Known before it is sent, so that no answer can arrive ahead of it.
      this.inFlight.set(stored.id, {
        rolloutId: rollout.id,
        clusterId,
        version: rollout.version,
        deadlineAt: now + ttlMs,
      });
      // Stored before it is sent: the answer reads the row.
      await store.updateCluster(
        rollout.id,
        clusterId,
        {
          stage: 'sent',
          outcome: 'in-progress',
          commandId: stored.id,
          command: stored,
          startedAt: now,
          deadlineAt: now + ttlMs,
        },
        now,
      );
      sends.push(
        this.options.publish(clusterId, 'cmd', stored).catch((error: unknown) => {
          this.logger.error({ err: error, clusterId, rolloutId: rollout.id }, 'firmware command not sent');
          // After this step: it is waiting for these sends.
          this.handle(() =>
            this.finish(stored.id, { outcome: 'failed', error: 'not sent: the broker refused the command' }),
          );
        }),
      );
    }
    this.logger.info(
      { rolloutId: rollout.id, batch: batch[0]?.batch, clusters: batch.length },
      'batch started',
    );
    this.arm();
    await Promise.all(sends);
  }

  /** The firmware command of one cluster; its signed link works until the cluster's deadline. */
  private command(rollout: RolloutRecord, now: number, ttlMs: number): Command {
    const { sha256, sizeBytes } = this.options.image(rollout.imageId);
    const url = this.options.imageUrl(rollout.imageId, now + ttlMs);
    return buildCommand('firmware', { url, sha256, sizeBytes, version: rollout.version }, now, ttlMs);
  }

  // --- what clusters report -----------------------------------------------------------------------

  private current(
    cmdId: string | undefined,
    deviceId: string,
  ): { flight: InFlight; cmdId: string; row: RolloutClusterRecord } | null {
    if (cmdId === undefined) return null;
    const flight = this.inFlight.get(cmdId);
    if (!flight || flight.clusterId !== deviceId) return null;
    const row = this.options.store.cluster(flight.rolloutId, flight.clusterId);
    if (row?.outcome !== 'in-progress') {
      this.inFlight.delete(cmdId);
      return null;
    }
    return { flight, cmdId, row };
  }

  private async onEvent(deviceId: string, event: DeviceEvent): Promise<void> {
    if (event.type !== 'firmware-progress' || event.stage === undefined) return;
    const found = this.current(event.cmdId, deviceId);
    if (!found) return;
    const patch: ClusterPatch = { stage: event.stage };
    if (event.ok === false) patch.error = [event.error, event.message].filter(Boolean).join(': ') || 'failed';
    if (event.stage === 'rollback' && event.version) patch.reportedVersion = event.version;
    await this.options.store.updateCluster(found.flight.rolloutId, deviceId, patch, this.options.clock.now());
  }

  private async onAck(deviceId: string, ack: Ack): Promise<void> {
    const found = this.current(ack.cmdId, deviceId);
    if (!found) return;
    const { flight, row } = found;
    if (ack.status === 'accepted') {
      if (row.stage === 'sent')
        await this.options.store.updateCluster(
          flight.rolloutId,
          deviceId,
          { stage: 'accepted' },
          this.options.clock.now(),
        );
      return;
    }
    const running = this.options.firmwareOf(deviceId);
    const decided = outcomeOfAck(
      { status: ack.status, ...(ack.error === undefined ? {} : { error: ack.error }) },
      { rolledBack: row.stage === 'rollback', runsNewVersion: running === flight.version },
    );
    if (!decided) return;
    await this.finish(found.cmdId, {
      ...decided,
      ...(decided.outcome === 'updated' ? { stage: 'online' as const } : {}),
      reportedVersion: decided.outcome === 'updated' ? flight.version : (row.reportedVersion ?? running),
      error: decided.error === null ? null : withDetail(decided.error, row.error),
    });
  }

  /** Back online with the new version: the update is done, whether or not its ack arrived first. */
  private async onState(deviceId: string, state: StateMessage): Promise<void> {
    if (!state.online || state.fw === undefined) return;
    for (const [cmdId, flight] of this.inFlight) {
      if (flight.clusterId !== deviceId || flight.version !== state.fw) continue;
      if (!this.current(cmdId, deviceId)) continue;
      await this.finish(cmdId, {
        outcome: 'updated',
        stage: 'online',
        reportedVersion: state.fw,
        error: null,
      });
    }
  }

  private onPresence(change: PresenceChange): void {
    if (!change.online) return;
    const cmdId = this.resendWhenOnline.get(change.deviceId);
    if (!cmdId) return;
    this.resendWhenOnline.delete(change.deviceId);
    const flight = this.inFlight.get(cmdId);
    const row = flight && this.options.store.cluster(flight.rolloutId, flight.clusterId);
    if (row?.outcome === 'in-progress' && row.command) this.resend(change.deviceId, row.command);
  }

  private resend(clusterId: string, command: Command): void {
    this.options.publish(clusterId, 'cmd', command).catch((error: unknown) => {
      this.logger.warn({ err: error, clusterId, cmdId: command.id }, 'firmware command not resent');
    });
  }

  /** Records a cluster's final outcome and lets its rollout decide what comes next. */
  private async finish(cmdId: string, patch: ClusterPatch): Promise<void> {
    const flight = this.inFlight.get(cmdId);
    if (!flight) return;
    this.inFlight.delete(cmdId);
    this.resendWhenOnline.delete(flight.clusterId);
    await this.options.store.updateCluster(
      flight.rolloutId,
      flight.clusterId,
      patch,
      this.options.clock.now(),
    );
    const level = patch.outcome && isFailure(patch.outcome) ? 'warn' : 'info';
    this.logger[level](
      { rolloutId: flight.rolloutId, clusterId: flight.clusterId, ...patch },
      'cluster update ended',
    );
    void this.advance(flight.rolloutId);
    this.arm();
  }

  // --- deadlines ----------------------------------------------------------------------------------

  /** Sleeps until the earliest deadline of a cluster still updating; no timer when none is. */
  private arm(): void {
    const { clock } = this.options;
    if (this.timer) clock.clearTimeout(this.timer);
    this.timer = null;
    if (!this.listeners) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const flight of this.inFlight.values()) earliest = Math.min(earliest, flight.deadlineAt);
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.timer = clock.setTimeout(
      () => {
        this.timer = null;
        this.handle(() => this.expire());
      },
      Math.max(1, earliest - clock.now()),
    );
  }

  private async expire(): Promise<void> {
    const now = this.options.clock.now();
    for (const [cmdId, flight] of [...this.inFlight]) {
      if (flight.deadlineAt > now) continue;
      const row = this.options.store.cluster(flight.rolloutId, flight.clusterId);
      const running = this.options.firmwareOf(flight.clusterId);
      await this.finish(cmdId, {
        outcome: 'failed',
        error: `timeout: not back with ${flight.version} in time (last stage ${row?.stage ?? 'unknown'}, reports ${running ?? 'no version'})`,
        reportedVersion: running,
      });
    }
    this.arm();
  }
}

/** The ack's error code, with the detail a failed progress event gave (which may start with it). */
function withDetail(code: string, detail: string | null): string {
  if (!detail) return code;
  return detail.startsWith(code) ? detail : `${code} (${detail})`;
}
