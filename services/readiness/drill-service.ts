import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Targets } from '../../contracts/broadcasts.js';
import type { DrillOutcome } from '../../contracts/readiness.js';
import {
  type Ack,
  buildCommand,
  type Clock,
  type SelftestResult,
  type TimerHandle,
  type TypedPublish,
} from '../../devices/index.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { EventBus, OwnedListeners } from '../event-bus.js';
import type { DrillRecord, DrillResultRecord, DrillStore } from './drill-store.js';
import { verdictOf, verdictOfRefusal } from './readiness-verdict.js';

/** How long clusters have to answer a drill: a download of a few KB and a line check. */
export const DRILL_ANSWER_MS = 120_000;

export interface DrillServiceOptions {
  store: DrillStore;
  events: EventBus;
  /** Publishes a command to a cluster (QoS 1), validated against the protocol's schema. */
  publish: TypedPublish;
  isOnline(clusterId: string): boolean;
  placements(): { id: string; villageId: string; communeId: string }[];
  resolveTargets(targets: Targets): string[];
  /** The signed link, size and checksum of the test audio, the link valid until `expiresAt`. */
  testAudio(expiresAt: number): { url: string; sizeBytes: number; sha256: string };
  clock: Clock;
  logger: Logger;
  answerMs?: number;
}

/**
 * Silent readiness drills: every online cluster of the targets is sent a `selftest` (download and
 * decode the test audio, check the amplifier and each speaker line) and its answer becomes a
 * verdict: ready, not ready and why, or not tested (offline, busy, no answer by the deadline).
 */
export class DrillService {
  /** Clusters being tested, by the command id of their selftest. */
  private readonly testing = new Map<string, { drillId: string; clusterId: string }>();
  private listeners: OwnedListeners | null = null;
  private timer: TimerHandle | null = null;
  private readonly logger: Logger;
  /**
   * Answers, deadlines and verdicts, one after the other: every verdict is stored (and with
   * DATABASE_URL copied here) before the next answer reads the drill it changed.
   */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DrillServiceOptions) {
    this.logger = options.logger.child({ component: 'readiness' });
  }

  private get answerMs(): number {
    return this.options.answerMs ?? DRILL_ANSWER_MS;
  }

  /**
   * Hears the clusters' answers and ends drills at their deadline, going on from what the database
   * holds. With several instances only the holder of the `readiness-drills` lease listens.
   */
  start(): void {
    this.listeners = this.options.events.owner('readiness');
    this.listeners.on('device.ack', ({ deviceId, ack }) => this.handle(() => this.onAck(deviceId, ack)));
    this.adoptTesting();
    this.arm();
  }

  /** Takes up drills another instance started: their clusters' answers and deadlines. */
  recheck(): void {
    if (!this.listeners) return;
    this.adoptTesting();
    this.handle(async () => {
      for (const drill of this.options.store.running()) await this.finishIfDone(drill.id);
      this.arm();
    });
  }

  /** Runs `work` after what is queued before it; its result, or its failure. */
  private enqueue<T>(work: () => Promise<T> | T): Promise<T> {
    const next = this.serial.then(work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /** An answer or a deadline, handled in turn; a failure (the database) is logged. */
  private handle(work: () => Promise<void> | void): void {
    this.enqueue(work).catch((error: unknown) =>
      this.logger.error({ err: error }, 'a readiness answer could not be recorded'),
    );
  }

  private adoptTesting(): void {
    for (const result of this.options.store.testing())
      if (result.commandId && !this.testing.has(result.commandId))
        this.testing.set(result.commandId, { drillId: result.drillId, clusterId: result.clusterId });
  }

  async stop(): Promise<void> {
    this.listeners?.removeAll();
    this.listeners = null;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    // What was heard before is recorded first.
    await this.serial;
    this.testing.clear();
  }

  /** Starts a drill of the targets (already limited to what the caller may address). */
  async run(
    targets: Targets,
    options: { tone: boolean; origin: DrillRecord['origin']; createdBy: string | null },
  ): Promise<DrillRecord> {
    const { store, clock, isOnline } = this.options;
    const placements = new Map(this.options.placements().map((p) => [p.id, p]));
    const clusters = [...new Set(this.options.resolveTargets(targets))]
      .sort()
      .flatMap((id) =>
        placements.has(id)
          ? [placements.get(id) as { id: string; villageId: string; communeId: string }]
          : [],
      );
    if (clusters.length === 0) throw new InvalidRequestError('the drill reaches no cluster');
    const now = clock.now();
    const drill: DrillRecord = {
      id: `dr-${randomBytes(5).toString('hex')}`,
      origin: options.origin,
      tone: options.tone,
      targets,
      communeIds: [...new Set(clusters.map((c) => c.communeId))].sort(),
      state: 'running',
      startedAt: now,
      deadlineAt: now + this.answerMs,
      finishedAt: null,
      createdBy: options.createdBy,
    };
    const audio = this.options.testAudio(now + this.answerMs + 60_000);
    const sends: { clusterId: string; command: ReturnType<typeof buildCommand> }[] = [];
    const results: DrillResultRecord[] = clusters.map((c, position) => {
      const base = {
        drillId: drill.id,
        clusterId: c.id,
        position,
        communeId: c.communeId,
        villageId: c.villageId,
      };
      if (!isOnline(c.id))
        return {
          ...base,
          commandId: null,
          outcome: 'not-tested',
          reasons: ['offline'],
          checks: null,
          testedAt: null,
        };
      const command = buildCommand(
        'selftest',
        {
          url: audio.url,
          sizeBytes: audio.sizeBytes,
          sha256: audio.sha256,
          ...(options.tone ? { tone: true } : {}),
        },
        now,
        this.answerMs,
      );
      sends.push({ clusterId: c.id, command });
      // Known before it is sent, so that no answer can arrive ahead of it.
      this.testing.set(command.id, { drillId: drill.id, clusterId: c.id });
      return {
        ...base,
        commandId: command.id,
        outcome: 'testing' as DrillOutcome,
        reasons: [],
        checks: null,
        testedAt: null,
      };
    });
    await store.insert(drill, results);
    const listening = this.listeners !== null;
    this.logger.info(
      {
        drillId: drill.id,
        origin: drill.origin,
        clusters: clusters.length,
        sent: sends.length,
        tone: drill.tone,
      },
      'readiness drill started',
    );
    await Promise.all(
      sends.map(({ clusterId, command }) =>
        this.options.publish(clusterId, 'cmd', command).catch((error: unknown) => {
          this.logger.error({ err: error, clusterId, drillId: drill.id }, 'selftest not sent');
          return this.enqueue(() =>
            this.decide(command.id, {
              outcome: 'not-tested',
              reasons: ['not sent: the broker refused the command'],
            }),
          );
        }),
      ),
    );
    if (!listening) {
      // Another instance holds the lease: it hears the answers and ends the drill.
      for (const { command } of sends) this.testing.delete(command.id);
      return this.get(drill.id);
    }
    await this.enqueue(async () => {
      await this.finishIfDone(drill.id);
      this.arm();
    });
    return this.get(drill.id);
  }

  get(id: string): DrillRecord {
    const drill = this.options.store.get(id);
    if (!drill) throw new NotFoundError('drill', id);
    return drill;
  }

  private async onAck(deviceId: string, ack: Ack): Promise<void> {
    if (ack.status === 'accepted') return;
    // A selftest another instance sent, just now: its drill is in the database already (with
    // DATABASE_URL, perhaps not yet in this instance's copy).
    if (!this.testing.has(ack.cmdId) && (ack.selftest !== undefined || ack.status !== 'done')) {
      this.adoptTesting();
      if (!this.testing.has(ack.cmdId)) {
        await this.options.store.fetchTesting(ack.cmdId);
        this.adoptTesting();
      }
    }
    const entry = this.testing.get(ack.cmdId);
    if (!entry || entry.clusterId !== deviceId) return;
    const verdict =
      ack.status === 'done'
        ? { ...verdictOf(ack.selftest as SelftestResult | undefined), checks: ack.selftest ?? null }
        : verdictOfRefusal(ack.status, ack.error);
    await this.decide(ack.cmdId, verdict);
  }

  private async decide(
    cmdId: string,
    verdict: { outcome: DrillOutcome; reasons: string[]; checks?: SelftestResult | null },
  ): Promise<void> {
    const entry = this.testing.get(cmdId);
    if (!entry) return;
    this.testing.delete(cmdId);
    if (await this.options.store.decide(entry.drillId, entry.clusterId, verdict, this.options.clock.now()))
      this.logger.info({ drillId: entry.drillId, clusterId: entry.clusterId, ...verdict }, 'cluster tested');
    await this.finishIfDone(entry.drillId);
  }

  private async finishIfDone(drillId: string): Promise<void> {
    if ([...this.testing.values()].some((e) => e.drillId === drillId)) return;
    const drill = this.options.store.get(drillId);
    if (drill?.state !== 'running') return;
    await this.options.store.finish(drillId, this.options.clock.now());
    const outcomes = this.options.store.results(drillId).map((r) => r.outcome);
    this.logger.info(
      {
        drillId,
        ready: outcomes.filter((o) => o === 'ready').length,
        notReady: outcomes.filter((o) => o === 'not-ready').length,
        notTested: outcomes.filter((o) => o === 'not-tested').length,
      },
      'readiness drill finished',
    );
    this.arm();
  }

  /** Sleeps until the earliest deadline of a running drill; no timer when none runs. */
  private arm(): void {
    const { clock, store } = this.options;
    if (this.timer) clock.clearTimeout(this.timer);
    this.timer = null;
    if (!this.listeners) return;
    const running = store.running();
    if (running.length === 0) return;
    const earliest = Math.min(...running.map((d) => d.deadlineAt));
    this.timer = clock.setTimeout(
      () => {
        this.timer = null;
        this.handle(() => this.expire());
      },
      Math.max(1, earliest - clock.now()),
    );
  }

  /** Clusters that have not answered by their drill's deadline are not tested. */
  private async expire(): Promise<void> {
    const now = this.options.clock.now();
    const seconds = Math.round(this.answerMs / 1000);
    for (const drill of this.options.store.running()) {
      if (drill.deadlineAt > now) continue;
      for (const [cmdId, entry] of [...this.testing])
        if (entry.drillId === drill.id)
          await this.decide(cmdId, { outcome: 'not-tested', reasons: [`no answer within ${seconds} s`] });
      await this.finishIfDone(drill.id);
    }
    this.arm();
  }
}
