import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Content } from '../../contracts/broadcasts.js';
import type {
  BulletinCreate,
  BulletinSummary,
  BulletinView,
  ProvinceOverviewSchema,
  Receipt,
  ReceiptState,
} from '../../contracts/bulletins.js';
import type { OverlapView } from '../../contracts/schedules.js';
import type { Clock } from '../../devices/index.js';
import type { Principal } from '../accounts/roles.js';
import type { BroadcastRecord, BroadcastStore } from '../broadcasts/broadcast-store.js';
import type { Dispatcher } from '../broadcasts/dispatcher.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import { contentDurationS, isRelay } from '../media/content-audio.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import type { ScheduleRecord } from '../schedules/schedule-store.js';
import { formatWallTime, instantToWallTime } from '../schedules/wall-time.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import type { BulletinRecord, BulletinStore, ClashNote, ReceiptRecord } from './bulletin-store.js';

/** A normal bulletin waits in the inbox this long after its requested start, unless told otherwise. */
const DEFAULT_EXPIRY_MS = 24 * 3_600_000;
/**
 * Two items ordered one after the other keep this gap: a cluster that started the first a little
 * late must not refuse the second as busy.
 */
const ORDER_GAP_MS = 5_000;
/** A commune-first order may find one clash after another; it gives up after this many. */
const MAX_REORDERS = 20;

export interface BulletinServiceOptions {
  store: BulletinStore;
  registry: RegistryStore;
  schedules: ScheduleService;
  dispatcher: Dispatcher;
  broadcasts: BroadcastStore;
  media: { get(id: string): { durationS: number } };
  events: EventBus;
  clock: Clock;
  logger: Logger;
}

type Actor = { userId: string; username: string };
type ProvinceOverview = z.infer<typeof ProvinceOverviewSchema>;

/**
 * Bulletins from the province, with Circular 39's three levels taken literally:
 * - normal: lands in each commune's inbox; the commune operator schedules it (when they choose),
 *   declines it, or lets it expire;
 * - priority: scheduled at the requested time above the commune's normal items; where it clashes
 *   with a commune priority item, the commune operator orders the two;
 * - emergency: airs at once on every cluster of the communes, pre-empting everything.
 * Each commune's decision is its receipt; what its clusters did comes from the broadcasts the
 * bulletin became. Every change of a receipt is a `bulletin.receipt` event (the province's console
 * sees it live).
 */
export class BulletinService {
  private readonly log: Logger;
  private expiryTimer: ReturnType<Clock['setTimeout']> | null = null;
  /** With several instances only the expiry lease's holder expires receipts (each told once). */
  private expiring = false;
  private placementCache: { at: number; map: Map<string, string> } | null = null;

  constructor(private readonly options: BulletinServiceOptions) {
    this.log = options.logger.child({ component: 'bulletins' });
  }

  /** Starts watching for expiries; sleeps while nothing waits in an inbox. */
  start(): void {
    this.expiring = true;
    this.expireSoon();
  }

  stop(): void {
    this.expiring = false;
    if (this.expiryTimer) this.options.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  /** Looks for receipts due to expire again (another instance may have sent a bulletin). */
  recheckExpiries(): void {
    this.expireSoon();
  }

  /**
   * Sends a bulletin (its content already prepared: text read aloud) to the province's communes or
   * some of them. A province account sends for its province; an account of every commune names one.
   */
  async send(input: BulletinCreate, content: Content, actor: Principal): Promise<BulletinView> {
    const { registry, clock } = this.options;
    const provinceId = this.provinceOf(input, actor);
    const inProvince = registry.communesOfProvince(provinceId);
    const communeIds = input.communeIds ?? inProvince;
    for (const id of communeIds) if (!inProvince.includes(id)) throw new NotFoundError('commune', id);
    if (communeIds.length === 0) throw new InvalidRequestError('the province has no communes to send to');
    const now = clock.now();
    const startAt =
      input.level === 'emergency' ? now : Math.max(now, input.start ? Date.parse(input.start) : now);
    const durationS = isRelay(content)
      ? (input.durationS as number)
      : contentDurationS(content, (id) => this.options.media.get(id).durationS);
    const bulletin: BulletinRecord = {
      id: `tb-${randomBytes(6).toString('hex')}`,
      provinceId,
      name: input.name,
      level: input.level,
      content,
      volume: input.volume ?? null,
      startAt,
      durationS,
      expiresAt: input.expiresAt ? Date.parse(input.expiresAt) : startAt + DEFAULT_EXPIRY_MS,
      createdBy: actor.username,
      createdAt: now,
    };
    if (bulletin.expiresAt <= now) {
      const message = 'must be in the future';
      throw new InvalidRequestError(`body.expiresAt: ${message}`, [{ field: 'body.expiresAt', message }]);
    }
    const blank = (communeId: string): ReceiptRecord => ({
      bulletinId: bulletin.id,
      communeId,
      state: 'pending',
      scheduleId: null,
      broadcastId: null,
      clash: [],
      decidedBy: null,
      decidedAt: null,
      reason: null,
      updatedAt: now,
    });
    const receipts = communeIds.map(blank);
    await this.options.store.insert(bulletin, receipts);
    this.log.info(
      { bulletinId: bulletin.id, level: bulletin.level, communes: communeIds.length, by: actor.username },
      'bulletin from the province',
    );
    if (bulletin.level === 'emergency') await this.airNow(bulletin, receipts, actor);
    else if (bulletin.level === 'priority')
      for (const r of receipts) await this.schedulePriority(bulletin, r, actor);
    else for (const r of receipts) this.announce(r);
    await this.expireDue();
    return this.view(bulletin);
  }

  get(id: string, communes: readonly string[] | null = null): BulletinView {
    const bulletin = this.options.store.get(id);
    const view = this.view(bulletin, communes);
    if (communes && view.receipts.length === 0) throw new NotFoundError('bulletin', id);
    return view;
  }

  /** A page of bulletins with their totals, counted in two queries whatever the page's size. */
  list(
    filter: { provinceIds?: readonly string[] | undefined; communes?: readonly string[] | null },
    page: { limit: number; offset: number },
  ): { items: BulletinSummary[]; total: number } {
    // A commune account's list holds only what was sent to its communes, paged in SQL.
    const communes = filter.communes ?? null;
    const found = this.options.store.list({ provinceIds: filter.provinceIds, communes }, page);
    const ids = found.items.map((b) => b.id);
    const states = this.options.store.receiptStates(ids, communes);
    const clusters = this.options.broadcasts.bulletinDeliveryStates(ids, communes);
    const items = found.items.map((b) => {
      const byState = states.get(b.id) ?? {};
      const count = Object.values(byState).reduce((n, k) => n + (k ?? 0), 0);
      return {
        ...this.bulletinFields(b),
        totals: { communes: count, byState, clusters: clusters.get(b.id) ?? {} },
      };
    });
    return { items, total: found.total };
  }

  /** A province at a glance: each commune's clusters online and what waits for it; recent bulletins. */
  async overview(provinceId: string, isOnline: (clusterId: string) => boolean): Promise<ProvinceOverview> {
    const { registry, store } = this.options;
    await this.expireDue();
    const province = registry.getProvince(provinceId);
    const communeIds = registry.communesOfProvince(provinceId);
    const clusters = new Map<string, { clusters: number; online: number }>();
    for (const c of registry.clusterPlacements()) {
      const entry = clusters.get(c.communeId) ?? { clusters: 0, online: 0 };
      entry.clusters++;
      if (isOnline(c.id)) entry.online++;
      clusters.set(c.communeId, entry);
    }
    const villages = registry.villageCounts();
    const waiting = store.waitingPerCommune();
    const communes = communeIds.map((id) => {
      const commune = registry.getCommune(id);
      const fleet = clusters.get(id) ?? { clusters: 0, online: 0 };
      return {
        id,
        code: commune.code,
        name: commune.name,
        villages: villages.get(id) ?? 0,
        ...fleet,
        waiting: waiting.get(id) ?? 0,
      };
    });
    const sum = (key: 'clusters' | 'online' | 'waiting') => communes.reduce((n, c) => n + c[key], 0);
    const recent = store.list({ provinceIds: [provinceId] }, { limit: 10, offset: 0 }).items;
    const states = store.receiptStates(recent.map((b) => b.id));
    return {
      province: { id: province.id, code: province.code, name: province.name },
      communes,
      totals: {
        communes: communes.length,
        clusters: sum('clusters'),
        online: sum('online'),
        waiting: sum('waiting'),
      },
      recent: recent.map((b) => ({
        id: b.id,
        name: b.name,
        level: b.level,
        createdAt: isoTime(b.createdAt),
        byState: states.get(b.id) ?? {},
      })),
    };
  }

  /** Receipts of the caller's communes, each with its bulletin: the communes' inboxes. */
  async inbox(
    communes: readonly string[] | null,
    states: readonly ReceiptState[] | null,
    page: { limit: number; offset: number },
  ): Promise<{
    items: (Receipt & { bulletin: Omit<BulletinView, 'receipts' | 'totals'> })[];
    total: number;
  }> {
    await this.expireDue();
    const found = this.options.store.inbox(communes, states, page);
    const bulletins = new Map<string, BulletinRecord>();
    return {
      total: found.total,
      items: found.items.map((r) => {
        let b = bulletins.get(r.bulletinId);
        if (!b) {
          b = this.options.store.get(r.bulletinId);
          bulletins.set(b.id, b);
        }
        return { ...this.receiptView(r), bulletin: this.bulletinFields(b) };
      }),
    };
  }

  /** A commune operator airs a normal bulletin (or re-times a declined one) in their commune. */
  async schedule(
    bulletinId: string,
    communeId: string,
    choice: { start?: string | undefined; villageIds?: string[] | undefined },
    actor: Actor,
  ): Promise<Receipt> {
    const bulletin = await this.options.store.present(bulletinId);
    await this.expireDue();
    const current = this.options.store.receipt(bulletinId, communeId);
    if (bulletin.level !== 'normal' || !['pending', 'declined'].includes(current.state)) {
      throw new ConflictError(
        `this bulletin is ${current.state === 'expired' ? 'expired' : `a ${bulletin.level} one, ${current.state}`} in the commune; only a pending or declined normal bulletin is scheduled here`,
        { state: current.state },
      );
    }
    const now = this.options.clock.now();
    const startAt = Math.max(now, choice.start ? Date.parse(choice.start) : bulletin.startAt);
    for (const villageId of choice.villageIds ?? []) {
      if (this.options.registry.getVillage(villageId).communeId !== communeId)
        throw new NotFoundError('village', villageId);
    }
    const targets = choice.villageIds?.length
      ? { villageIds: choice.villageIds }
      : { communeIds: [communeId] };
    const schedule = await this.createSchedule(bulletin, communeId, startAt, targets, 'normal', actor);
    return this.decide(
      current,
      { state: 'scheduled', scheduleId: schedule.id, clash: [], reason: null },
      actor,
    );
  }

  async decline(bulletinId: string, communeId: string, reason: string, actor: Actor): Promise<Receipt> {
    const bulletin = await this.options.store.present(bulletinId);
    await this.expireDue();
    const receipt = this.options.store.receipt(bulletinId, communeId);
    if (bulletin.level !== 'normal' || receipt.state !== 'pending') {
      throw new ConflictError(
        `only a pending normal bulletin can be declined; this one is ${receipt.state}`,
        {
          state: receipt.state,
        },
      );
    }
    return this.decide(receipt, { state: 'declined', reason }, actor);
  }

  /**
   * A commune operator orders a priority bulletin and the commune priority items it clashes with:
   * `bulletin` first keeps the province's time and moves each clashing occurrence to right after
   * it; `commune` first airs the bulletin once the commune's items have played.
   */
  async order(
    bulletinId: string,
    communeId: string,
    first: 'bulletin' | 'commune',
    actor: Actor,
  ): Promise<Receipt> {
    const bulletin = await this.options.store.present(bulletinId);
    const receipt = this.options.store.receipt(bulletinId, communeId);
    if (receipt.state !== 'needs-order') {
      throw new ConflictError(`this bulletin needs no ordering here; it is ${receipt.state}`, {
        state: receipt.state,
      });
    }
    const now = this.options.clock.now();
    const targets = { communeIds: [communeId] };
    let schedule: ScheduleRecord;
    if (first === 'bulletin') {
      const end = bulletin.startAt + Math.ceil(bulletin.durationS * 1000) + ORDER_GAP_MS;
      for (const clash of receipt.clash) await this.moveAfter(clash, end, actor);
      schedule = await this.createSchedule(
        bulletin,
        communeId,
        Math.max(now, bulletin.startAt),
        targets,
        'priority',
        actor,
      );
    } else {
      let startAt = Math.max(now, ...receipt.clash.map((c) => Date.parse(c.end) + ORDER_GAP_MS));
      for (let attempt = 0; ; attempt++) {
        try {
          schedule = await this.createSchedule(bulletin, communeId, startAt, targets, 'priority', actor);
          break;
        } catch (error) {
          const clashes = clashesOf(error);
          if (!clashes || attempt >= MAX_REORDERS) throw error;
          startAt = Math.max(startAt, ...clashes.map((c) => Date.parse(c.end) + ORDER_GAP_MS));
        }
      }
    }
    return this.decide(
      receipt,
      { state: 'scheduled', scheduleId: schedule.id, reason: `${first} first` },
      actor,
    );
  }

  /** Pending normal bulletins past their expiry become expired; sleeps until the next expiry. */
  private async expireDue(): Promise<void> {
    if (!this.expiring) return;
    const { clock, store } = this.options;
    for (const receipt of await store.expire(clock.now())) this.announce(receipt);
    // Stopped (the lease lost) while the expiry was written: no timer outlives the stop.
    if (!this.expiring) return;
    if (this.expiryTimer) clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const next = store.nextExpiry();
    if (next !== null)
      this.expiryTimer = clock.setTimeout(() => this.expireSoon(), Math.max(0, next - clock.now()));
  }

  /** expireDue from a timer or the lease: a failure is logged, and the next call tries again. */
  private expireSoon(): void {
    this.expireDue().catch((error: unknown) =>
      this.log.error({ err: error }, 'could not expire the receipts of bulletins'),
    );
  }

  private async airNow(bulletin: BulletinRecord, receipts: ReceiptRecord[], actor: Principal): Promise<void> {
    const communeIds = receipts.map((r) => r.communeId);
    const required = this.options.registry.communesRequiringApproval();
    const broadcast = this.options.dispatcher.emergency(
      {
        name: bulletin.name,
        content: bulletin.content,
        targets: { communeIds, villageIds: [], clusterIds: [], groupIds: [] },
        ...(bulletin.volume === null ? {} : { volume: bulletin.volume }),
        ...(isRelay(bulletin.content) ? { durationS: bulletin.durationS } : {}),
        reviewDue: communeIds.some((c) => required.has(c)),
        bulletinId: bulletin.id,
      },
      actor.username,
    );
    // Hundreds of communes at once: their receipts are stored in one write, then announced.
    const aired = receipts.map((r) =>
      this.changed(r, { state: 'aired', broadcastId: broadcast.id, reason: null }, null),
    );
    await this.options.store.putReceipts(aired);
    for (const receipt of aired) this.announce(receipt);
  }

  /** Priority: scheduled at once, or put to the commune operator when a commune priority item clashes. */
  private async schedulePriority(
    bulletin: BulletinRecord,
    receipt: ReceiptRecord,
    actor: Principal,
  ): Promise<void> {
    try {
      const schedule = await this.createSchedule(
        bulletin,
        receipt.communeId,
        bulletin.startAt,
        { communeIds: [receipt.communeId] },
        'priority',
        actor,
      );
      await this.record(receipt, { state: 'scheduled', scheduleId: schedule.id }, null);
    } catch (error) {
      const clashes = clashesOf(error);
      if (!clashes) throw error;
      await this.record(receipt, { state: 'needs-order', clash: clashes }, null);
    }
  }

  /** A one-off schedule of the bulletin in one commune, at an instant, in the commune's zone. */
  private async createSchedule(
    bulletin: BulletinRecord,
    communeId: string,
    startAt: number,
    targets: { communeIds?: string[]; villageIds?: string[] },
    level: 'normal' | 'priority',
    actor: Actor | null,
  ): Promise<ScheduleRecord> {
    const timezone = this.options.registry.getCommune(communeId).timezone;
    const result = await this.options.schedules.create(
      {
        name: bulletin.name,
        level,
        content: bulletin.content,
        volume: bulletin.volume,
        timezone,
        start: formatWallTime(instantToWallTime(startAt, timezone)),
        ...(isRelay(bulletin.content) ? { durationS: Math.ceil(bulletin.durationS) } : {}),
        targets: { communeIds: [], villageIds: [], clusterIds: [], groupIds: [], ...targets },
      },
      actor ? { userId: actor.userId, username: actor.username } : null,
      { bulletinId: bulletin.id },
    );
    return result.schedule;
  }

  /**
   * Moves one clashing occurrence of a commune item to `after`: a one-off is re-timed; a recurring
   * item skips that occurrence and gets a one-off copy at the new time.
   */
  private async moveAfter(clash: ClashNote, after: number, actor: Actor): Promise<void> {
    const { schedules } = this.options;
    const item = schedules.get(clash.scheduleId);
    const wall = formatWallTime(instantToWallTime(after, item.timezone));
    if (!item.rrule && !item.lunar) {
      await schedules.update(item.id, { start: wall }, actor);
      return;
    }
    const skipped = formatWallTime(instantToWallTime(Date.parse(clash.start), item.timezone));
    await schedules.update(item.id, { exdates: [...item.exdates, skipped] }, actor);
    await schedules.create(
      {
        name: item.name,
        level: item.level,
        content: item.content,
        volume: item.volume,
        repeat: item.repeat,
        timezone: item.timezone,
        start: wall,
        ...(isRelay(item.content) ? { durationS: item.durationS } : {}),
        targets: item.targets,
      },
      actor,
    );
  }

  /** A commune's decision, recorded and returned as the commune sees it. */
  private async decide(
    receipt: ReceiptRecord,
    change: Partial<Pick<ReceiptRecord, 'state' | 'scheduleId' | 'broadcastId' | 'clash' | 'reason'>>,
    actor: Actor | null,
  ): Promise<Receipt> {
    return this.receiptView(await this.record(receipt, change, actor));
  }

  /**
   * Stores and announces a receipt's change. Sending to a whole province records hundreds of
   * receipts and views the bulletin once at the end, so recording builds no view.
   */
  private async record(
    receipt: ReceiptRecord,
    change: Partial<Pick<ReceiptRecord, 'state' | 'scheduleId' | 'broadcastId' | 'clash' | 'reason'>>,
    actor: Actor | null,
  ): Promise<ReceiptRecord> {
    const next = this.changed(receipt, change, actor);
    await this.options.store.putReceipt(next);
    this.announce(next);
    return next;
  }

  /** A receipt with a change, stamped now (and with who decided, for a commune's decision). */
  private changed(
    receipt: ReceiptRecord,
    change: Partial<Pick<ReceiptRecord, 'state' | 'scheduleId' | 'broadcastId' | 'clash' | 'reason'>>,
    actor: Actor | null,
  ): ReceiptRecord {
    const now = this.options.clock.now();
    return {
      ...receipt,
      ...change,
      decidedBy: actor ? actor.username : receipt.decidedBy,
      decidedAt: actor ? now : receipt.decidedAt,
      updatedAt: now,
    };
  }

  private announce(receipt: ReceiptRecord): void {
    this.options.events.emit('bulletin.receipt', {
      bulletinId: receipt.bulletinId,
      communeId: receipt.communeId,
      state: receipt.state,
      at: receipt.updatedAt,
    });
  }

  private provinceOf(input: BulletinCreate, actor: Principal): string {
    if (actor.provinceId) {
      if (input.provinceId && input.provinceId !== actor.provinceId)
        throw new NotFoundError('province', input.provinceId);
      return actor.provinceId;
    }
    if (actor.communes)
      throw new ForbiddenError('bulletins to communes are sent by an account of their province');
    if (!input.provinceId) {
      const message = 'name the province the bulletin goes to';
      throw new InvalidRequestError(`body.provinceId: ${message}`, [{ field: 'body.provinceId', message }]);
    }
    this.options.registry.getProvince(input.provinceId);
    return input.provinceId;
  }

  private view(bulletin: BulletinRecord, communes: readonly string[] | null = null): BulletinView {
    const outcomes = this.outcomes(bulletin.id);
    const receipts = this.options.store
      .receipts(bulletin.id)
      .filter((r) => !communes || communes.includes(r.communeId))
      .map((r) => this.receiptView(r, outcomes));
    const byState: Partial<Record<ReceiptState, number>> = {};
    const clusters: Record<string, number> = {};
    for (const r of receipts) {
      byState[r.state] = (byState[r.state] ?? 0) + 1;
      for (const b of r.broadcasts)
        for (const [state, n] of Object.entries(b.summary))
          clusters[state] = (clusters[state] ?? 0) + (n ?? 0);
    }
    return {
      ...this.bulletinFields(bulletin),
      receipts,
      totals: { communes: receipts.length, byState, clusters },
    };
  }

  /**
   * What the clusters did with every broadcast the bulletin became, per broadcast and commune, read
   * at once (a bulletin to 300 communes is one query, not 300).
   */
  private outcomes(bulletinId: string): Outcomes {
    const { broadcasts, deliveries } = this.options.broadcasts.ofBulletin(bulletinId);
    const communeOf = this.placements();
    const summaries = new Map<string, Map<string, Record<string, number>>>();
    for (const d of deliveries) {
      const communeId = communeOf.get(d.clusterId) ?? '';
      const perCommune = summaries.get(d.broadcastId) ?? new Map<string, Record<string, number>>();
      summaries.set(d.broadcastId, perCommune);
      const summary = perCommune.get(communeId) ?? {};
      perCommune.set(communeId, summary);
      summary[d.state] = (summary[d.state] ?? 0) + 1;
    }
    return { broadcasts, summaries };
  }

  /** Which commune each cluster is in, read once a second at most. */
  private placements(): Map<string, string> {
    const now = this.options.clock.now();
    if (!this.placementCache || now - this.placementCache.at > 1_000) {
      this.placementCache = {
        at: now,
        map: new Map(this.options.registry.clusterPlacements().map((c) => [c.id, c.communeId])),
      };
    }
    return this.placementCache.map;
  }

  private bulletinFields(b: BulletinRecord): Omit<BulletinView, 'receipts' | 'totals'> {
    return {
      id: b.id,
      provinceId: b.provinceId,
      name: b.name,
      level: b.level,
      content: b.content,
      volume: b.volume,
      start: isoTime(b.startAt),
      durationS: b.durationS,
      expiresAt: isoTime(b.expiresAt),
      createdBy: b.createdBy,
      createdAt: isoTime(b.createdAt),
    };
  }

  /** A receipt with what the commune's clusters did with each broadcast the bulletin became. */
  private receiptView(r: ReceiptRecord, outcomes: Outcomes = this.outcomes(r.bulletinId)): Receipt {
    const made = outcomes.broadcasts.filter(
      (b) => b.id === r.broadcastId || (r.scheduleId !== null && b.scheduleId === r.scheduleId),
    );
    return {
      bulletinId: r.bulletinId,
      communeId: r.communeId,
      communeName: this.options.registry.getCommune(r.communeId).name,
      state: r.state,
      scheduleId: r.scheduleId,
      clash: r.clash,
      decidedBy: r.decidedBy,
      decidedAt: isoTimeOrNull(r.decidedAt),
      reason: r.reason,
      broadcasts: made.map((b) => {
        const summary = outcomes.summaries.get(b.id)?.get(r.communeId) ?? {};
        const clusters = Object.values(summary).reduce((sum, n) => sum + n, 0);
        return { broadcastId: b.id, startAt: isoTime(b.startAt), clusters, summary };
      }),
      updatedAt: isoTime(r.updatedAt),
    };
  }
}

/** The broadcasts of a bulletin, and per broadcast and commune the clusters per delivery state. */
interface Outcomes {
  broadcasts: BroadcastRecord[];
  summaries: Map<string, Map<string, Record<string, number>>>;
}

/** The clashing items a refused schedule names (same-level overlaps), or null for another failure. */
function clashesOf(error: unknown): ClashNote[] | null {
  if (!(error instanceof ConflictError)) return null;
  const details = error.details as { clashes?: OverlapView[] } | undefined;
  if (!details?.clashes) return null;
  const seen = new Map<string, ClashNote>();
  for (const c of details.clashes) {
    const key = `${c.scheduleId}@${c.other.start}`;
    if (!seen.has(key))
      seen.set(key, {
        scheduleId: c.scheduleId,
        name: c.scheduleName,
        start: c.other.start,
        end: c.other.end,
      });
  }
  return [...seen.values()];
}
