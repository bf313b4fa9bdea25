import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Targets } from '../../contracts/broadcasts.js';
import {
  type ApprovalState,
  type ApprovalStep,
  type CalendarOccurrence,
  type OverlapView,
  type ScheduleCreate,
  type ScheduleCreateInput,
  ScheduleCreateSchema,
  type SchedulePatch,
  SchedulePatchSchema,
  type ScheduleView,
} from '../../contracts/schedules.js';
import type { Clock } from '../../devices/index.js';
import { LEVEL_RANK } from '../broadcasts/types.js';
import { BurstLogger } from '../burst-logger.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { ScheduleChange } from '../event-bus.js';
import { contentDurationS, contentMediaIds, isRelay } from '../media/content-audio.js';
import type { CommuneFilter, Page, Paged, RegistryStore } from '../registry/registry-store.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { isoTime } from '../time.js';
import { ApprovalStore } from './approval-store.js';
import { GroupStore } from './group-store.js';
import { solarToLunar } from './lunar-calendar.js';
import { normalizeRecurrence } from './recurrence-rule.js';
import {
  CONFLICT_HORIZON_MS,
  type ConflictReport,
  type ConflictSubject,
  findConflicts,
  type Overlap,
} from './schedule-conflicts.js';
import { scheduleCopy } from './schedule-copy.js';
import {
  type ExpandableSchedule,
  expandOccurrences,
  type Interval,
  nextOccurrence,
  normalizeWall,
} from './schedule-expansion.js';
import { type ScheduleFields, type ScheduleRecord, ScheduleStore } from './schedule-store.js';
import { instantToWallTime } from './wall-time.js';

export interface ScheduleServiceOptions {
  /** The platform's SQLite file: the schedules and groups, or their read copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL. */
  state: StateDatabase;
  clock: Clock;
  logger: Logger;
  registry: RegistryStore;
  /** A media item's length in seconds; throws NotFoundError for an unknown id. */
  mediaDuration: (mediaId: string) => number;
  /** Throws NotFoundError for a station that does not exist (station relays). */
  checkStation?: (stationId: string) => void;
  /** Zone of schedules that name none. */
  defaultTimezone: string;
  /**
   * Told after every committed change to a schedule or a group, whoever made it (the API, the
   * seed, a command line, another instance): the dispatcher, asleep until the next occurrence it
   * knew of, wakes.
   */
  onChange?: (change: ScheduleChange) => void;
}

/** A schedule the dispatcher cannot expand, since when and how often it has been tried. */
export interface ExpansionFailure {
  scheduleId: string;
  name: string;
  count: number;
  since: number;
  lastError: string;
}

export interface Actor {
  userId: string;
  username: string;
}

/** A saved schedule with what it pre-empts and what pre-empts it (first 200 of each). */
export interface ScheduleResult {
  schedule: ScheduleRecord;
  preempts: OverlapView[];
  preemptedBy: OverlapView[];
}

/** One occurrence for the dispatcher to play. */
export interface DueOccurrence {
  schedule: ScheduleRecord & {
    /** Who approved it, where its communes require approval. */
    approvedBy: string | null;
    /** An emergency where approval is required: it airs, and is reviewed afterwards. */
    reviewDue: boolean;
  };
  start: number;
  end: number;
  clusterIds: string[];
}

/** Lists of overlaps in answers stop here; a 409 also says how many there were in all. */
const MAX_REPORTED = 200;

/** The registry and the groups as they stand, so many schedules' targets resolve with few queries. */
interface TargetIndex {
  clusters: Map<string, { communeId: string; villageId: string }>;
  villages: Map<string, string>;
  groups: Map<string, { communeId: string; clusterIds: string[] }>;
}

const toExpandable = (s: ScheduleFields): ExpandableSchedule => ({
  startsLocal: s.start,
  timezone: s.timezone,
  rrule: s.rrule,
  lunar: s.lunar,
  exdates: s.exdates,
  durationS: s.durationS,
});

export function toOverlapView(overlap: Overlap): OverlapView {
  return {
    scheduleId: overlap.scheduleId,
    scheduleName: overlap.scheduleName,
    level: overlap.level,
    clusterIds: overlap.clusterIds,
    occurrence: { start: isoTime(overlap.occurrence.start), end: isoTime(overlap.occurrence.end) },
    other: { start: isoTime(overlap.other.start), end: isoTime(overlap.other.end) },
  };
}

/** Zod issues as the API words them: `body.rrule: never occurs …`. */
function invalid(error: z.ZodError): InvalidRequestError {
  const details = error.issues.map((issue) => ({
    field: ['body', ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return new InvalidRequestError(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}

/**
 * Schedules of announcements (Circular 39 levels normal, priority, emergency): one-off or
 * recurring by RFC 5545 RRULE in a time zone, aimed at communes, villages, clusters or groups.
 * Saving one that overlaps a same-level schedule on a shared cluster is refused with the clashing
 * occurrences; a higher level is accepted and reported as pre-empting the lower.
 */
export class ScheduleService {
  readonly groups: GroupStore;
  private readonly store: ScheduleStore;
  private readonly approvals: ApprovalStore;
  private readonly logger: Logger;
  private readonly failedExpansions = new Map<string, ExpansionFailure>();
  private readonly expansionLog: BurstLogger;
  private readonly copy: TableCopy;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ScheduleServiceOptions) {
    const now = () => options.clock.now();
    this.logger = options.logger.child({ component: 'schedules' });
    this.copy = scheduleCopy(options.db, options.state, this.logger);
    this.store = new ScheduleStore(options.db, options.state, this.copy, now);
    this.approvals = new ApprovalStore(options.db, this.store, now);
    this.expansionLog = new BurstLogger(this.logger, options.clock, 3_600_000);
    this.groups = new GroupStore({
      db: options.db,
      state: options.state,
      copy: this.copy,
      exclusive: (work) => this.exclusive(work),
      now: () => options.clock.now(),
      registry: options.registry,
      usedBy: (groupId) =>
        this.store
          .all()
          .filter((s) => s.targets.groupIds.includes(groupId))
          .map((s) => s.name),
      onChange: (change) => options.onChange?.({ what: 'group', ...change }),
    });
  }

  /**
   * With PostgreSQL: fills this instance's copy, then follows the other instances' changes, which
   * are told to onChange as if made here. Nothing to do on SQLite alone.
   */
  async start(): Promise<void> {
    await this.copy.start((touch) => this.heard(touch));
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  /**
   * Writes one at a time, on this instance and (with PostgreSQL) across instances: the checks
   * before a write (a clash, a group in use, an approval's state) see every write made before it,
   * here or elsewhere.
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(() =>
      this.store.guarded(work, (touches) => {
        for (const touch of touches) this.heard(touch);
      }),
    );
    this.turn = run.catch(() => undefined);
    return run;
  }

  /** Another instance's change, now in this instance's copy. */
  private heard(touch: TableTouch): void {
    const what = touch.table === 'cluster_groups' ? 'group' : 'schedule';
    if (what === 'schedule' && touch.change === 'deleted') this.failedExpansions.delete(touch.id);
    this.options.onChange?.({ what, id: touch.id, change: touch.change });
  }

  /**
   * Saves a new schedule. One made from a bulletin of the province (`bulletinId`) needs no commune
   * approval: the province's information is the commune's to air or not, not to approve.
   */
  async create(
    input: ScheduleCreateInput,
    actor: Actor | null,
    origin: { bulletinId?: string } = {},
  ): Promise<ScheduleResult> {
    return this.exclusive(async () => {
      const fields = this.toFields(this.parse(input));
      const report = this.vet(null, fields, true);
      const id = `lich-${randomBytes(5).toString('hex')}`;
      const approval = !origin.bulletinId && this.needsApproval(fields) ? 'draft' : 'not-required';
      const schedule = await this.store.insert(
        id,
        fields,
        actor?.username ?? null,
        origin.bulletinId ?? null,
        approval,
      );
      this.logger.info({ scheduleId: id, name: schedule.name, by: actor?.username }, 'schedule created');
      this.options.onChange?.({ what: 'schedule', id, change: 'created' });
      return this.result(schedule, report);
    });
  }

  async update(id: string, patch: SchedulePatch, actor: Actor | null): Promise<ScheduleResult> {
    return this.exclusive(async () => {
      const current = await this.store.present(id);
      const checked = SchedulePatchSchema.safeParse(patch);
      if (!checked.success) throw invalid(checked.error);
      const p = checked.data;
      const content = p.content ?? current.content;
      // A stream keeps its relay window unless told otherwise; media takes its length from the file.
      const durationS =
        p.durationS !== undefined
          ? p.durationS
          : isRelay(content) && isRelay(current.content)
            ? current.durationS
            : undefined;
      const merged: ScheduleCreateInput = {
        name: p.name ?? current.name,
        level: p.level ?? current.level,
        content,
        volume: p.volume === undefined ? current.volume : p.volume,
        repeat: p.repeat ?? current.repeat,
        timezone: p.timezone ?? current.timezone,
        start: p.start ?? current.start,
        rrule: p.rrule === undefined ? current.rrule : p.rrule,
        lunar: p.lunar === undefined ? current.lunar : p.lunar,
        exdates: p.exdates ?? current.exdates,
        durationS,
        targets: p.targets ?? current.targets,
        enabled: p.enabled ?? current.enabled,
      };
      const fields = this.toFields(this.parse(merged));
      // Targets named anew must all exist; kept ones may have lost a cluster since, which is no reason
      // to refuse renaming the schedule.
      const report = this.vet(id, fields, p.targets !== undefined);
      let schedule = await this.store.update(id, fields);
      // Whatever is changed but enabled must be approved again: what the approver saw is not what airs.
      const { enabled: _was, ...before } = { ...current, approval: undefined, createdBy: undefined };
      const { enabled: _is, ...after } = { ...schedule, approval: undefined, createdBy: undefined };
      const material =
        JSON.stringify({ ...before, updatedAt: null }) !== JSON.stringify({ ...after, updatedAt: null });
      if (material && !current.bulletinId) {
        await this.approvals.set(id, this.needsApproval(fields) ? 'draft' : 'not-required');
        schedule = this.store.get(id);
      }
      this.logger.info({ scheduleId: id, by: actor?.username }, 'schedule updated');
      this.options.onChange?.({ what: 'schedule', id, change: 'updated' });
      return this.result(schedule, report);
    });
  }

  /** Schedules that could not be expanded for the dispatcher on its last look, and why. */
  expansionFailures(): ExpansionFailure[] {
    return [...this.failedExpansions.values()].map((f) => ({ ...f }));
  }

  private expansionFailed(schedule: ScheduleRecord, error: unknown): void {
    const now = this.options.clock.now();
    const failure = this.failedExpansions.get(schedule.id) ?? {
      scheduleId: schedule.id,
      name: schedule.name,
      count: 0,
      since: now,
      lastError: '',
    };
    failure.count++;
    failure.lastError = (error instanceof Error ? error.message : String(error)).slice(0, 300);
    this.failedExpansions.set(schedule.id, failure);
    this.expansionLog.warn(
      schedule.id,
      { err: error, scheduleId: schedule.id },
      'a schedule could not be expanded',
    );
  }

  /** An operator sends a draft (or a returned schedule) to the commune's approvers. */
  submit(id: string, actor: Actor): Promise<ScheduleRecord> {
    return this.step(id, ['draft', 'returned'], 'submitted', { step: 'submitted', actor, comment: null });
  }

  /** An approver lets a submitted schedule air. */
  approve(id: string, actor: Actor, comment: string | null): Promise<ScheduleRecord> {
    return this.step(id, ['submitted'], 'approved', { step: 'approved', actor, comment });
  }

  /** An approver sends a submitted schedule back to its operator, saying what to change. */
  sendBack(id: string, actor: Actor, comment: string): Promise<ScheduleRecord> {
    return this.step(id, ['submitted'], 'returned', { step: 'returned', actor, comment });
  }

  private async step(
    id: string,
    from: ApprovalState[],
    to: ApprovalState,
    step: { step: ApprovalStep['step']; actor: Actor; comment: string | null },
  ): Promise<ScheduleRecord> {
    return this.exclusive(async () => {
      const refuse = (current: ScheduleRecord) => {
        const { state } = current.approval;
        return new ConflictError(
          state === 'not-required'
            ? `"${current.name}" needs no approval: its communes do not require it, or it is an emergency`
            : `"${current.name}" is ${state}; only a ${from.join(' or ')} schedule can be ${step.step}`,
          { approval: state },
        );
      };
      const current = await this.store.present(id);
      if (!from.includes(current.approval.state)) throw refuse(current);
      const moved = await this.approvals.set(
        id,
        to,
        { step: step.step, actor: step.actor.username, comment: step.comment },
        from,
      );
      // Another instance's approver was first: answered as if this one had come second here.
      if (!moved) throw refuse(await this.store.present(id));
      this.logger.info({ scheduleId: id, by: step.actor.username, approval: to }, `schedule ${step.step}`);
      this.options.onChange?.({ what: 'schedule', id, change: 'updated' });
      return this.store.get(id);
    });
  }

  /** Removes a schedule and returns what it was; broadcasts it made keep their history. */
  async delete(id: string): Promise<ScheduleRecord> {
    return this.exclusive(async () => {
      const schedule = await this.store.present(id);
      await this.store.delete(id);
      this.failedExpansions.delete(id);
      this.logger.info({ scheduleId: id }, 'schedule deleted');
      this.options.onChange?.({ what: 'schedule', id, change: 'deleted' });
      return schedule;
    });
  }

  get(id: string): ScheduleRecord {
    return this.store.get(id);
  }

  /** The schedule, looked up in PostgreSQL too before it is called missing (before a write). */
  present(id: string): Promise<ScheduleRecord> {
    return this.store.present(id);
  }

  /** Schedules oldest first; with a commune, only those whose targets all lie in it. */
  list(
    page: Page,
    filter: CommuneFilter & { approval?: ApprovalState | undefined } = {},
  ): Paged<ScheduleRecord> {
    let all = this.store.all();
    const { approval } = filter;
    if (approval) all = all.filter((s) => s.approval.state === approval);
    if (filter.communeId || filter.communeIds) {
      const index = this.index();
      all = all.filter((s) => this.within(s.targets, filter, index));
    }
    return { items: all.slice(page.offset, page.offset + page.limit), total: all.length, ...page };
  }

  /** Whether every target of the schedule lies in these communes (what a limited account may see). */
  inCommunes(schedule: ScheduleRecord, communes: readonly string[]): boolean {
    return this.within(schedule.targets, { communeIds: communes }, this.index());
  }

  /**
   * The first target outside the commune, for refusing a commune-limited account's schedule that
   * reaches beyond it; null when all lie inside. Unknown ids are left to resolveTargets.
   */
  targetOutside(targets: Targets, communes: readonly string[]): { kind: string; id: string } | null {
    const index = this.index();
    const outside = (commune: string | undefined) => commune !== undefined && !communes.includes(commune);
    for (const id of targets.communeIds) if (!communes.includes(id)) return { kind: 'commune', id };
    for (const id of targets.villageIds) if (outside(index.villages.get(id))) return { kind: 'village', id };
    for (const id of targets.clusterIds)
      if (outside(index.clusters.get(id)?.communeId)) return { kind: 'cluster', id };
    for (const id of targets.groupIds)
      if (outside(index.groups.get(id)?.communeId)) return { kind: 'group', id };
    return null;
  }

  /** The API's view of schedules: each with the clusters it reaches now and its next occurrence. */
  views(schedules: ScheduleRecord[]): ScheduleView[] {
    const index = this.index();
    const now = this.options.clock.now();
    return schedules.map((s) => {
      const next = s.enabled ? nextOccurrence(toExpandable(s), now) : null;
      return {
        ...s,
        approval: { ...s.approval, steps: this.approvals.steps(s.id) },
        clusterIds: this.clustersWith(s.targets, index),
        next: next ? { start: isoTime(next.start), end: isoTime(next.end) } : null,
      };
    });
  }

  /**
   * The calendar: every occurrence of the enabled schedules overlapping [from, to), one-offs
   * included, each with what it pre-empts, what pre-empts it and any same-level clash. With a
   * commune, only schedules whose targets all lie in it are listed (overlaps with others still show).
   */
  occurrences(from: number, to: number, filter: CommuneFilter = {}): CalendarOccurrence[] {
    const index = this.index();
    const enabled = this.store.all().filter((s) => s.enabled);
    const required = this.options.registry.communesRequiringApproval();
    // Overlaps of an occurrence near the window's edge may lie just outside it.
    const pad = Math.max(0, ...enabled.map((s) => s.durationS * 1000));
    const subjects = enabled.map((s) => ({
      schedule: s,
      subject: {
        id: s.id,
        name: s.name,
        level: s.level,
        clusterIds: this.clustersWith(s.targets, index),
        occurrences: expandOccurrences(toExpandable(s), from - pad, to + pad),
      } satisfies ConflictSubject,
    }));
    const others = subjects.map((x) => x.subject);
    const listed =
      filter.communeId || filter.communeIds
        ? subjects.filter(({ schedule }) => this.within(schedule.targets, filter, index))
        : subjects;
    const calendar: (CalendarOccurrence & { rank: number })[] = [];
    for (const { schedule, subject } of listed) {
      const inWindow = subject.occurrences.filter((o) => o.start < to && o.end > from);
      if (inWindow.length === 0) continue;
      const report = findConflicts({ ...subject, occurrences: inWindow }, others);
      const at = (list: Overlap[], occurrence: Interval) =>
        list.filter((o) => o.occurrence.start === occurrence.start).map(toOverlapView);
      for (const occurrence of inWindow) {
        calendar.push({
          scheduleId: schedule.id,
          name: schedule.name,
          level: schedule.level,
          content: schedule.content,
          start: isoTime(occurrence.start),
          end: isoTime(occurrence.end),
          lunarDate: lunarDateOf(occurrence.start, schedule.timezone),
          approval:
            schedule.approval.state !== 'approved' && this.clears(schedule, index, required)
              ? 'not-required'
              : schedule.approval.state,
          clusterIds: subject.clusterIds as string[],
          preempts: at(report.preempts, occurrence),
          preemptedBy: at(report.preemptedBy, occurrence),
          clashes: at(report.clashes, occurrence),
          rank: LEVEL_RANK[schedule.level],
        });
      }
    }
    calendar.sort(
      (a, b) => a.start.localeCompare(b.start) || b.rank - a.rank || a.name.localeCompare(b.name),
    );
    return calendar.map(({ rank: _rank, ...occurrence }) => occurrence);
  }

  /**
   * What the dispatcher plays: occurrences of enabled schedules overlapping [from, to), with the
   * clusters their targets reach now, sorted by start and then highest level first. Schedules
   * whose targets no longer reach any cluster are left out.
   */
  occurrencesBetween(from: number, to: number): DueOccurrence[] {
    const enabled = this.store.all().filter((s) => s.enabled);
    // Asked on every dispatcher wake-up: without schedules, the registry is not read at all.
    if (enabled.length === 0) return [];
    const index = this.index();
    const required = this.options.registry.communesRequiringApproval();
    const due: DueOccurrence[] = [];
    for (const schedule of enabled) {
      // One schedule that cannot be expanded (a rule this version cannot read) must not stop the
      // others: it is counted, shown on /healthz, and logged once an hour.
      try {
        if (!this.clears(schedule, index, required)) continue;
        const clusterIds = this.clustersWith(schedule.targets, index);
        if (clusterIds.length === 0) continue;
        const reviewDue =
          schedule.level === 'emergency' &&
          this.communesWith(schedule.targets, index).some((c) => required.has(c));
        const approvedBy = schedule.approval.state === 'approved' ? schedule.approval.approvedBy : null;
        for (const o of expandOccurrences(toExpandable(schedule), from, to)) {
          due.push({
            schedule: { ...schedule, approvedBy, reviewDue },
            start: o.start,
            end: o.end,
            clusterIds,
          });
        }
        this.failedExpansions.delete(schedule.id);
      } catch (error) {
        this.expansionFailed(schedule, error);
      }
    }
    return due.sort(
      (a, b) =>
        a.start - b.start ||
        LEVEL_RANK[b.schedule.level] - LEVEL_RANK[a.schedule.level] ||
        a.schedule.id.localeCompare(b.schedule.id),
    );
  }

  /**
   * The cluster ids targets reach, deduplicated and sorted: a commune's or village's clusters, a
   * group's members, clusters as named. An unknown id is a NotFoundError naming its kind.
   */
  resolveTargets(targets: Targets): string[] {
    const { registry } = this.options;
    const index = this.index();
    for (const id of targets.communeIds) registry.getCommune(id);
    for (const id of targets.villageIds) if (!index.villages.has(id)) throw new NotFoundError('village', id);
    for (const id of targets.groupIds) if (!index.groups.has(id)) throw new NotFoundError('group', id);
    for (const id of targets.clusterIds) if (!index.clusters.has(id)) throw new NotFoundError('cluster', id);
    return this.clustersWith(targets, index);
  }

  /** Names of enabled schedules still to play this media item, so it is not deleted under them. */
  referencesMedia(mediaId: string): string[] {
    const now = this.options.clock.now();
    return this.store
      .all()
      .filter(
        (s) =>
          s.enabled &&
          contentMediaIds(s.content).includes(mediaId) &&
          nextOccurrence(toExpandable(s), now) !== null,
      )
      .map((s) => s.name);
  }

  /**
   * Whether a schedule may air: approved, or needing no approval, or aimed only at communes that
   * no longer require it. A schedule saved before its commune began to require approval keeps
   * airing until it is changed (it is `not-required`); a change makes it a draft.
   */
  private clears(schedule: ScheduleRecord, index: TargetIndex, required: Set<string>): boolean {
    const { state } = schedule.approval;
    if (state === 'approved' || state === 'not-required') return true;
    return !this.communesWith(schedule.targets, index).some((c) => required.has(c));
  }

  /** Whether saving these fields calls for approval: not an emergency, and a commune that requires it. */
  private needsApproval(fields: ScheduleFields): boolean {
    if (fields.level === 'emergency') return false;
    const required = this.options.registry.communesRequiringApproval();
    if (required.size === 0) return false;
    return this.communesWith(fields.targets, this.index()).some((c) => required.has(c));
  }

  private parse(input: ScheduleCreateInput): ScheduleCreate {
    const checked = ScheduleCreateSchema.safeParse(input);
    if (!checked.success) throw invalid(checked.error);
    return checked.data;
  }

  /** The stored form: normalized times and rule, the zone filled in, the length worked out. */
  private toFields(input: ScheduleCreate): ScheduleFields {
    const { content } = input;
    if (content.kind === 'station') this.options.checkStation?.(content.stationId);
    const durationS = isRelay(content)
      ? (input.durationS as number)
      : Math.ceil(contentDurationS(content, this.options.mediaDuration) * input.repeat);
    const sorted = (ids: string[]) => [...new Set(ids)].sort();
    return {
      name: input.name,
      level: input.level,
      content,
      volume: input.volume ?? null,
      repeat: input.repeat,
      timezone: input.timezone ?? this.options.defaultTimezone,
      start: normalizeWall(input.start),
      rrule: input.rrule ? normalizeRecurrence(input.rrule) : null,
      lunar: input.lunar ?? null,
      exdates: sorted(input.exdates.map(normalizeWall)),
      durationS,
      targets: {
        communeIds: sorted(input.targets.communeIds),
        villageIds: sorted(input.targets.villageIds),
        clusterIds: sorted(input.targets.clusterIds),
        groupIds: sorted(input.targets.groupIds),
      },
      enabled: input.enabled,
    };
  }

  /**
   * Checks targets and looks for overlaps from now to the end of the rule or 366 days, whichever
   * is sooner. Same-level clashes are refused (409) with the clashing occurrences.
   */
  private vet(id: string | null, fields: ScheduleFields, strictTargets: boolean): ConflictReport {
    const clusterIds = strictTargets
      ? this.resolveTargets(fields.targets)
      : this.clustersWith(fields.targets, this.index());
    if (clusterIds.length === 0) {
      const message = 'the targets contain no clusters';
      throw new InvalidRequestError(`body.targets: ${message}`, [{ field: 'body.targets', message }]);
    }
    const none: ConflictReport = { clashes: [], preempts: [], preemptedBy: [] };
    if (!fields.enabled) return none;
    const from = this.options.clock.now();
    const to = from + CONFLICT_HORIZON_MS;
    const occurrences = expandOccurrences(toExpandable(fields), from, to);
    if (occurrences.length === 0) return none;
    const index = this.index();
    const mine = new Set(clusterIds);
    const others: ConflictSubject[] = [];
    for (const s of this.store.all()) {
      if (!s.enabled || s.id === id) continue;
      const theirs = this.clustersWith(s.targets, index);
      if (!theirs.some((c) => mine.has(c))) continue;
      others.push({
        id: s.id,
        name: s.name,
        level: s.level,
        clusterIds: theirs,
        occurrences: expandOccurrences(toExpandable(s), from, to),
      });
    }
    const report = findConflicts(
      { id, name: fields.name, level: fields.level, clusterIds, occurrences },
      others,
    );
    const [first] = report.clashes;
    if (first) {
      const more = report.clashes.length > 1 ? ` and ${report.clashes.length - 1} more` : '';
      throw new ConflictError(
        `overlaps "${first.scheduleName}" (also ${first.level}) on ${first.clusterIds.join(', ')} at ` +
          `${isoTime(first.other.start)}${more}; move it, change the targets or use a different level`,
        { clashes: report.clashes.slice(0, MAX_REPORTED).map(toOverlapView), total: report.clashes.length },
      );
    }
    return report;
  }

  private result(schedule: ScheduleRecord, report: ConflictReport): ScheduleResult {
    return {
      schedule,
      preempts: report.preempts.slice(0, MAX_REPORTED).map(toOverlapView),
      preemptedBy: report.preemptedBy.slice(0, MAX_REPORTED).map(toOverlapView),
    };
  }

  private index(): TargetIndex {
    const { registry } = this.options;
    const all = { limit: Number.MAX_SAFE_INTEGER, offset: 0 };
    const clusters = new Map(
      registry.clusterPlacements().map((c) => [c.id, { communeId: c.communeId, villageId: c.villageId }]),
    );
    const villages = new Map(registry.listVillages({}, all).items.map((v) => [v.id, v.communeId]));
    return { clusters, villages, groups: this.groups.allMembers() };
  }

  /** Resolution that skips ids gone from the registry since the schedule was saved. */
  private clustersWith(targets: Targets, index: TargetIndex): string[] {
    const communes = new Set(targets.communeIds);
    const villages = new Set(targets.villageIds);
    const found = new Set<string>();
    for (const [id, c] of index.clusters) {
      if (communes.has(c.communeId) || villages.has(c.villageId)) found.add(id);
    }
    for (const id of targets.clusterIds) if (index.clusters.has(id)) found.add(id);
    for (const groupId of targets.groupIds) {
      for (const id of index.groups.get(groupId)?.clusterIds ?? []) if (index.clusters.has(id)) found.add(id);
    }
    return [...found].sort();
  }

  /** Whether every known target lies in the filter's communes (and there is at least one). */
  private within(targets: Targets, filter: CommuneFilter, index: TargetIndex): boolean {
    const communes = this.communesWith(targets, index);
    return (
      communes.length > 0 &&
      communes.every(
        (c) =>
          (!filter.communeId || c === filter.communeId) &&
          (!filter.communeIds || filter.communeIds.includes(c)),
      )
    );
  }

  /** The communes the known targets lie in. */
  private communesWith(targets: Targets, index: TargetIndex): string[] {
    const communes = new Set(targets.communeIds);
    for (const id of targets.villageIds) {
      const commune = index.villages.get(id);
      if (commune !== undefined) communes.add(commune);
    }
    for (const id of targets.clusterIds) {
      const cluster = index.clusters.get(id);
      if (cluster) communes.add(cluster.communeId);
    }
    for (const id of targets.groupIds) {
      const group = index.groups.get(id);
      if (group) communes.add(group.communeId);
    }
    return [...communes];
  }
}

/** An instant's date in the Vietnamese lunar calendar, read in the schedule's zone. */
function lunarDateOf(
  instant: number,
  timeZone: string,
): { day: number; month: number; year: number; leap: boolean } {
  const wall = instantToWallTime(instant, timeZone);
  return solarToLunar(wall.y, wall.m, wall.d);
}
