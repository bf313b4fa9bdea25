import type { Content, DeliveryState, Level } from '../../contracts/broadcasts.js';
import type { Fallback } from '../../contracts/stations.js';
import type { ItemOutcome } from '../../devices/index.js';
import type { Db } from '../storage/database.js';

/** live: a relayed external stream; talk: the console's microphone. */
export type BroadcastKind = 'scheduled' | 'emergency' | 'live' | 'talk';
export type BroadcastStatus = 'active' | 'finished' | 'stopped';

export interface BroadcastRecord {
  id: string;
  kind: BroadcastKind;
  scheduleId: string | null;
  occurrenceAt: number | null;
  name: string;
  level: Level;
  content: Content;
  volume: number | null;
  repeat: number;
  startAt: number;
  endAt: number;
  expiresAt: number;
  status: BroadcastStatus;
  createdBy: string | null;
  createdAt: number;
  stoppedAt: number | null;
  stoppedBy: string | null;
  /** A live talk's recording in the media library, once it is kept. */
  recordingMediaId: string | null;
  /** Who approved the content (a commune that requires approval), by username. */
  approvedBy: string | null;
  /** An emergency that aired without approval is reviewed afterwards: pending, then reviewed. */
  reviewState: ReviewState | null;
  reviewedBy: string | null;
  /** A bulletin from the province it airs; null for the commune's own. */
  bulletinId: string | null;
}

export type ReviewState = 'pending' | 'reviewed';

export interface DeliveryRecord {
  broadcastId: string;
  clusterId: string;
  commandId: string;
  state: DeliveryState;
  reason: string | null;
  attempts: number;
  /** 1, or more once a play the platform made fail was tried afresh (docs/protocol.md section 7). */
  playAttempt: number;
  nextAttemptAt: number | null;
  sentAt: number | null;
  acceptedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  speakers: { idx: number; ok: boolean | null; fault: string | null }[] | null;
  /** A programme: what became of each item, as the cluster reported it. */
  items: ItemOutcome[] | null;
  updatedAt: number;
}

interface BroadcastRow {
  id: string;
  kind: BroadcastKind;
  schedule_id: string | null;
  occurrence_at: number | null;
  name: string;
  level: Level;
  content: string;
  volume: number | null;
  repeat: number;
  start_at: number;
  end_at: number;
  expires_at: number;
  status: BroadcastStatus;
  created_by: string | null;
  created_at: number;
  stopped_at: number | null;
  stopped_by: string | null;
  recording_media_id: string | null;
  approved_by: string | null;
  review_state: ReviewState | null;
  reviewed_by: string | null;
  bulletin_id: string | null;
}

interface DeliveryRow {
  broadcast_id: string;
  cluster_id: string;
  command_id: string;
  state: DeliveryState;
  reason: string | null;
  attempts: number;
  play_attempt: number;
  next_attempt_at: number | null;
  sent_at: number | null;
  accepted_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  speakers: string | null;
  items: string | null;
  updated_at: number;
}

const toBroadcast = (r: BroadcastRow): BroadcastRecord => ({
  id: r.id,
  kind: r.kind,
  scheduleId: r.schedule_id,
  occurrenceAt: r.occurrence_at,
  name: r.name,
  level: r.level,
  content: JSON.parse(r.content) as Content,
  volume: r.volume,
  repeat: r.repeat,
  startAt: r.start_at,
  endAt: r.end_at,
  expiresAt: r.expires_at,
  status: r.status,
  createdBy: r.created_by,
  createdAt: r.created_at,
  stoppedAt: r.stopped_at,
  stoppedBy: r.stopped_by,
  recordingMediaId: r.recording_media_id,
  approvedBy: r.approved_by,
  reviewState: r.review_state,
  reviewedBy: r.reviewed_by,
  bulletinId: r.bulletin_id,
});

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  broadcastId: r.broadcast_id,
  clusterId: r.cluster_id,
  commandId: r.command_id,
  state: r.state,
  reason: r.reason,
  attempts: r.attempts,
  playAttempt: r.play_attempt,
  nextAttemptAt: r.next_attempt_at,
  sentAt: r.sent_at,
  acceptedAt: r.accepted_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  speakers: r.speakers ? (JSON.parse(r.speakers) as DeliveryRecord['speakers']) : null,
  items: r.items ? (JSON.parse(r.items) as ItemOutcome[]) : null,
  updatedAt: r.updated_at,
});

/** How a media id appears in a content's JSON, whether it is the content's own or a programme item's. */
const mediaNeedle = (mediaId: string) => `"mediaId":${JSON.stringify(mediaId)}`;

const OPEN_STATES: readonly DeliveryState[] = ['scheduled', 'sent', 'accepted', 'playing'];
const isOpen = (state: DeliveryState) => OPEN_STATES.includes(state);

type DeliveryFields = Partial<Omit<DeliveryRecord, 'broadcastId' | 'clusterId' | 'commandId'>> & {
  updatedAt: number;
};

const COLUMNS: Record<string, string> = {
  state: 'state',
  reason: 'reason',
  attempts: 'attempts',
  playAttempt: 'play_attempt',
  nextAttemptAt: 'next_attempt_at',
  sentAt: 'sent_at',
  acceptedAt: 'accepted_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  speakers: 'speakers',
  items: 'items',
  updatedAt: 'updated_at',
};

/**
 * Broadcasts and their per-cluster deliveries: the durable record of what was sent and what played.
 *
 * Open deliveries (not yet final) also live in memory, keyed by command id: an emergency to 10,000
 * clusters brings 20,000 acks within seconds, and the dispatcher's per-ack lookups, its due and
 * open lists and its "any still waiting?" checks read memory, not SQLite. Changes are written
 * behind, in one transaction per turn of the event loop (or at the end of `transaction()`), field
 * by field, so an `accepted` and a `done` arriving together are one write. A write the disk
 * refuses stays pending and is tried again a second later; reads of a broadcast's deliveries
 * write what is pending first, so the API always shows what the dispatcher knows.
 */
export class BroadcastStore {
  private readonly openByCommand = new Map<string, DeliveryRecord>();
  private readonly openByCluster = new Map<string, Set<DeliveryRecord>>();
  /** Open deliveries per broadcast and state: `hasDeliveriesIn` without a query. */
  private readonly counts = new Map<string, Map<DeliveryState, number>>();
  private readonly activeBroadcasts = new Set<string>();
  /** Fields changed in memory and not yet written, per delivery. */
  private readonly pending = new Map<DeliveryRecord, Partial<DeliveryFields>>();
  private flushTurn: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private depth = 0;

  constructor(
    private readonly db: Db,
    /** Told of a write-behind batch that failed (it is kept and tried again). */
    private readonly onWriteError: (error: unknown) => void = () => undefined,
  ) {
    this.load();
  }

  /** Reads the open deliveries and active broadcasts into memory. */
  private load(): void {
    for (const row of this.db
      .prepare(`SELECT * FROM deliveries WHERE state IN (${OPEN_STATES.map(() => '?').join(', ')})`)
      .all(...OPEN_STATES) as DeliveryRow[])
      this.track(toDelivery(row));
    for (const { id } of this.db.prepare("SELECT id FROM broadcasts WHERE status = 'active'").all() as {
      id: string;
    }[])
      this.activeBroadcasts.add(id);
  }

  /**
   * Forgets what memory holds and reads the database again, after writing what is pending: the
   * dispatcher taking over from another instance goes on from what that instance recorded.
   */
  reload(): void {
    this.close();
    this.openByCommand.clear();
    this.openByCluster.clear();
    this.counts.clear();
    this.activeBroadcasts.clear();
    this.load();
  }

  /**
   * Takes into memory a broadcast another instance recorded (a request it served): its open
   * deliveries become due here. False when it is unknown, no longer active, or already known.
   */
  adopt(broadcastId: string): boolean {
    if (this.activeBroadcasts.has(broadcastId)) return false;
    const row = this.db.prepare('SELECT status FROM broadcasts WHERE id = ?').get(broadcastId) as
      | { status: string }
      | undefined;
    if (row?.status !== 'active') return false;
    this.takeOpen(broadcastId);
    this.activeBroadcasts.add(broadcastId);
    return true;
  }

  /**
   * Takes into memory the open deliveries of a broadcast memory knows that were copied here after
   * it (with DATABASE_URL a broadcast to thousands of clusters arrives from another instance in
   * several batches); true when there were any. What memory holds is written first, so a delivery
   * that ended here is not read back as open.
   */
  adoptCopied(broadcastId: string): boolean {
    if (!this.activeBroadcasts.has(broadcastId)) return false;
    this.flush();
    return this.takeOpen(broadcastId) > 0;
  }

  /** Tracks the broadcast's open deliveries in the database that memory does not hold. */
  private takeOpen(broadcastId: string): number {
    let taken = 0;
    for (const d of (
      this.db
        .prepare(
          `SELECT * FROM deliveries WHERE broadcast_id = ? AND state IN (${OPEN_STATES.map(() => '?').join(', ')})`,
        )
        .all(broadcastId, ...OPEN_STATES) as DeliveryRow[]
    ).map(toDelivery))
      if (!this.openByCommand.has(d.commandId)) {
        this.track(d);
        taken++;
      }
    return taken;
  }

  /** Forgets a broadcast this instance recorded for another's dispatcher: that one keeps it in memory. */
  forget(broadcastId: string): void {
    for (const d of [...this.openByCommand.values()]) if (d.broadcastId === broadcastId) this.untrack(d);
    this.counts.delete(broadcastId);
    this.activeBroadcasts.delete(broadcastId);
  }

  /** Active broadcasts in the database that memory does not know: recorded by another instance. */
  unknownActive(): string[] {
    return (this.db.prepare("SELECT id FROM broadcasts WHERE status = 'active'").all() as { id: string }[])
      .map((r) => r.id)
      .filter((id) => !this.activeBroadcasts.has(id));
  }

  /** Whether any delivery of the broadcast is in one of these states, as the database has it. */
  storedIn(broadcastId: string, states: readonly DeliveryState[]): boolean {
    this.flush();
    return (
      this.db
        .prepare(
          `SELECT 1 FROM deliveries WHERE broadcast_id = ? AND state IN (${states.map(() => '?').join(', ')}) LIMIT 1`,
        )
        .get(broadcastId, ...states) !== undefined
    );
  }

  /** Inserts a broadcast with one delivery per cluster, atomically; false if this occurrence exists. */
  insert(
    broadcast: BroadcastRecord,
    deliveries: { clusterId: string; commandId: string; state: DeliveryState; reason: string | null }[],
  ): boolean {
    const inserted = this.db.transaction(() => {
      const added = this.db
        .prepare(
          `INSERT OR IGNORE INTO broadcasts (id, kind, schedule_id, occurrence_at, name, level, content, volume, repeat,
             start_at, end_at, expires_at, status, created_by, created_at, approved_by, review_state, bulletin_id)
           VALUES (@id, @kind, @scheduleId, @occurrenceAt, @name, @level, @content, @volume, @repeat, @startAt, @endAt,
             @expiresAt, @status, @createdBy, @createdAt, @approvedBy, @reviewState, @bulletinId)`,
        )
        .run({
          id: broadcast.id,
          kind: broadcast.kind,
          scheduleId: broadcast.scheduleId,
          occurrenceAt: broadcast.occurrenceAt,
          name: broadcast.name,
          level: broadcast.level,
          content: JSON.stringify(broadcast.content),
          volume: broadcast.volume,
          repeat: broadcast.repeat,
          startAt: broadcast.startAt,
          endAt: broadcast.endAt,
          expiresAt: broadcast.expiresAt,
          status: broadcast.status,
          createdBy: broadcast.createdBy,
          createdAt: broadcast.createdAt,
          approvedBy: broadcast.approvedBy,
          reviewState: broadcast.reviewState,
          bulletinId: broadcast.bulletinId,
        });
      if (added.changes === 0) return false;
      const add = this.db.prepare(
        `INSERT INTO deliveries (broadcast_id, cluster_id, command_id, state, reason, next_attempt_at, updated_at,
           finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const d of deliveries) {
        const final = d.state !== 'scheduled';
        add.run(
          broadcast.id,
          d.clusterId,
          d.commandId,
          d.state,
          d.reason,
          final ? null : broadcast.createdAt,
          broadcast.createdAt,
          final ? broadcast.createdAt : null,
        );
      }
      // The communes it reached, for reading a commune's log by index.
      this.db
        .prepare(
          `INSERT OR IGNORE INTO broadcast_communes (broadcast_id, commune_id)
           SELECT DISTINCT ?, v.commune_id FROM clusters c JOIN villages v ON v.id = c.village_id
           WHERE c.id IN (SELECT value FROM json_each(?))`,
        )
        .run(broadcast.id, JSON.stringify(deliveries.map((d) => d.clusterId)));
      return true;
    })();
    if (!inserted) return false;
    if (broadcast.status === 'active') this.activeBroadcasts.add(broadcast.id);
    for (const d of deliveries) {
      if (d.state !== 'scheduled') continue;
      this.track({
        broadcastId: broadcast.id,
        clusterId: d.clusterId,
        commandId: d.commandId,
        state: d.state,
        reason: d.reason,
        attempts: 0,
        playAttempt: 1,
        nextAttemptAt: broadcast.createdAt,
        sentAt: null,
        acceptedAt: null,
        startedAt: null,
        finishedAt: null,
        speakers: null,
        items: null,
        updatedAt: broadcast.createdAt,
      });
    }
    return true;
  }

  hasOccurrence(scheduleId: string, occurrenceAt: number): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM broadcasts WHERE schedule_id = ? AND occurrence_at = ?')
        .get(scheduleId, occurrenceAt) !== undefined
    );
  }

  get(id: string): BroadcastRecord | null {
    const row = this.db.prepare('SELECT * FROM broadcasts WHERE id = ?').get(id) as BroadcastRow | undefined;
    return row ? toBroadcast(row) : null;
  }

  list(
    range: { from: number; to: number },
    page: { limit: number; offset: number },
    filter: { reviewState?: ReviewState | undefined; communeIds?: readonly string[] | undefined } = {},
  ): { items: BroadcastRecord[]; total: number } {
    const clauses = ['start_at < @to AND end_at >= @from'];
    if (filter.reviewState) clauses.push('review_state = @review');
    // A limited caller's log: broadcasts that reached at least one cluster of their communes.
    if (filter.communeIds)
      clauses.push(`id IN (SELECT broadcast_id FROM broadcast_communes
        WHERE commune_id IN (SELECT value FROM json_each(@communes)))`);
    const where = clauses.join(' AND ');
    const params = {
      ...range,
      review: filter.reviewState ?? null,
      communes: filter.communeIds ? JSON.stringify(filter.communeIds) : null,
    };
    const rows = this.db
      .prepare(`SELECT * FROM broadcasts WHERE ${where} ORDER BY start_at, id LIMIT @limit OFFSET @offset`)
      .all({ ...params, ...page }) as BroadcastRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM broadcasts WHERE ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map(toBroadcast), total: n };
  }

  active(): BroadcastRecord[] {
    return (this.db.prepare("SELECT * FROM broadcasts WHERE status = 'active'").all() as BroadcastRow[]).map(
      toBroadcast,
    );
  }

  setStatus(id: string, status: BroadcastStatus, stopped?: { at: number; by: string | null }): void {
    this.db
      .prepare(
        'UPDATE broadcasts SET status = ?, stopped_at = COALESCE(?, stopped_at), stopped_by = COALESCE(?, stopped_by) WHERE id = ?',
      )
      .run(status, stopped?.at ?? null, stopped?.by ?? null, id);
    if (status === 'active') this.activeBroadcasts.add(id);
    else this.activeBroadcasts.delete(id);
  }

  /** A station relay switched to its fallback (the new broadcast, or none when it stopped). */
  recordSwitch(entry: {
    broadcastId: string;
    at: number;
    reason: string;
    fallback: Fallback;
    toBroadcastId: string | null;
  }): void {
    this.db
      .prepare(
        'INSERT INTO relay_switches (broadcast_id, at, reason, fallback, to_broadcast_id) VALUES (?, ?, ?, ?, ?)',
      )
      .run(entry.broadcastId, entry.at, entry.reason, JSON.stringify(entry.fallback), entry.toBroadcastId);
  }

  switches(
    broadcastId: string,
  ): { at: number; reason: string; to: Fallback; toBroadcastId: string | null }[] {
    return (
      this.db.prepare('SELECT * FROM relay_switches WHERE broadcast_id = ? ORDER BY at').all(broadcastId) as {
        at: number;
        reason: string;
        fallback: string;
        to_broadcast_id: string | null;
      }[]
    ).map((r) => ({
      at: r.at,
      reason: r.reason,
      to: JSON.parse(r.fallback) as Fallback,
      toBroadcastId: r.to_broadcast_id,
    }));
  }

  /** Active broadcasts (status active), for watching the relays among them. */
  activeIds(): string[] {
    return [...this.activeBroadcasts];
  }

  /** Links a live talk's recording (a media item) to its broadcast. */
  setRecording(id: string, mediaId: string): void {
    this.db.prepare('UPDATE broadcasts SET recording_media_id = ? WHERE id = ?').run(mediaId, id);
  }

  /** The broadcasts whose recording a media item is, by name: the item is kept while they are. */
  recordingsUsing(mediaId: string): string[] {
    return (
      this.db.prepare('SELECT name FROM broadcasts WHERE recording_media_id = ?').all(mediaId) as {
        name: string;
      }[]
    ).map((r) => r.name);
  }

  /** A broadcast's deliveries as stored, after writing what is pending. */
  deliveries(broadcastId: string): DeliveryRecord[] {
    this.flush();
    return (
      this.db
        .prepare('SELECT * FROM deliveries WHERE broadcast_id = ? ORDER BY cluster_id')
        .all(broadcastId) as DeliveryRow[]
    ).map(toDelivery);
  }

  /**
   * Every broadcast a bulletin of the province became, with each delivery's state: one query for
   * a bulletin to hundreds of communes.
   */
  ofBulletin(bulletinId: string): {
    broadcasts: BroadcastRecord[];
    deliveries: { broadcastId: string; clusterId: string; state: DeliveryState }[];
  } {
    this.flush();
    const broadcasts = (
      this.db
        .prepare('SELECT * FROM broadcasts WHERE bulletin_id = ? ORDER BY start_at')
        .all(bulletinId) as BroadcastRow[]
    ).map(toBroadcast);
    const deliveries = this.db
      .prepare(
        `SELECT d.broadcast_id AS broadcastId, d.cluster_id AS clusterId, d.state FROM deliveries d
         JOIN broadcasts b ON b.id = d.broadcast_id WHERE b.bulletin_id = ?`,
      )
      .all(bulletinId) as { broadcastId: string; clusterId: string; state: DeliveryState }[];
    return { broadcasts, deliveries };
  }

  /**
   * Deliveries per state of every broadcast each bulletin became, for a page of bulletins at once;
   * with communes, only their clusters' deliveries.
   */
  bulletinDeliveryStates(
    bulletinIds: readonly string[],
    communes: readonly string[] | null,
  ): Map<string, Partial<Record<DeliveryState, number>>> {
    this.flush();
    const scoped = communes
      ? `JOIN clusters c ON c.id = d.cluster_id JOIN villages v ON v.id = c.village_id
         AND v.commune_id IN (SELECT value FROM json_each(@communes))`
      : '';
    const rows = this.db
      .prepare(
        `SELECT b.bulletin_id AS id, d.state, COUNT(*) AS n FROM broadcasts b
         JOIN deliveries d ON d.broadcast_id = b.id ${scoped}
         WHERE b.bulletin_id IN (SELECT value FROM json_each(@ids)) GROUP BY b.bulletin_id, d.state`,
      )
      .all({ ids: JSON.stringify(bulletinIds), communes: communes ? JSON.stringify(communes) : null }) as {
      id: string;
      state: DeliveryState;
      n: number;
    }[];
    const out = new Map<string, Partial<Record<DeliveryState, number>>>();
    for (const r of rows) out.set(r.id, { ...out.get(r.id), [r.state]: r.n });
    return out;
  }

  /** Whether any delivery of the broadcast is in one of these states. */
  hasDeliveriesIn(broadcastId: string, states: readonly DeliveryState[]): boolean {
    const open = states.filter(isOpen);
    const counts = this.counts.get(broadcastId);
    if (counts && open.some((state) => (counts.get(state) ?? 0) > 0)) return true;
    if (open.length === states.length) return false;
    // Final states are not kept in memory.
    this.flush();
    const finals = states.filter((state) => !isOpen(state));
    return (
      this.db
        .prepare(
          `SELECT 1 FROM deliveries WHERE broadcast_id = ? AND state IN (${finals.map(() => '?').join(', ')}) LIMIT 1`,
        )
        .get(broadcastId, ...finals) !== undefined
    );
  }

  /** Runs several writes as one transaction: one commit for a whole pass of sends. */
  transaction(work: () => void): void {
    this.depth++;
    try {
      this.db.transaction(() => {
        work();
        if (this.depth === 1) this.writePending();
      })();
    } catch (error) {
      // Rolled back: what changed in memory stays pending and is written with a later batch.
      this.depth--;
      if (this.depth === 0) this.scheduleFlush();
      throw error;
    }
    this.depth--;
    if (this.depth === 0) this.pending.clear();
  }

  byCommand(commandId: string): DeliveryRecord | null {
    const open = this.openByCommand.get(commandId);
    if (open) return { ...open };
    this.flush();
    const row = this.db.prepare('SELECT * FROM deliveries WHERE command_id = ?').get(commandId) as
      | DeliveryRow
      | undefined;
    return row ? toDelivery(row) : null;
  }

  /**
   * Deliveries of active broadcasts still waiting to be sent or answered whose next attempt is
   * due, oldest first; every one needs handling, so a limited read always makes progress.
   */
  due(now: number, limit = -1): DeliveryRecord[] {
    const due = this.dueNow(now).sort((a, b) => (a.nextAttemptAt as number) - (b.nextAttemptAt as number));
    return (limit >= 0 ? due.slice(0, limit) : due).map((d) => ({ ...d }));
  }

  /** How many deliveries are due. */
  countDue(now: number): number {
    return this.dueNow(now).length;
  }

  /** Deliveries not yet final, for reconciliation and expiry. */
  open(): DeliveryRecord[] {
    return [...this.openByCommand.values()].map((d) => ({ ...d }));
  }

  /** Changes a delivery: in memory at once, on disk with the next batch. */
  update(d: Pick<DeliveryRecord, 'broadcastId' | 'clusterId' | 'commandId'>, fields: DeliveryFields): void {
    const record = this.openByCommand.get(d.commandId);
    if (!record) {
      // A final delivery (a late detail of its record): written now.
      this.writeRow(d, fields);
      return;
    }
    const before = record.state;
    Object.assign(record, fields);
    this.pending.set(record, { ...this.pending.get(record), ...fields });
    if (record.state !== before) {
      this.count(record.broadcastId, before, -1);
      if (isOpen(record.state)) this.count(record.broadcastId, record.state, 1);
      else this.untrack(record);
    }
    this.scheduleFlush();
  }

  /** Writes every pending change now. */
  flush(): void {
    if (this.pending.size === 0 || this.depth > 0) return;
    this.db.transaction(() => this.writePending())();
    this.pending.clear();
  }

  /**
   * Whether a cluster was sent this media to play, in a broadcast still under way or ended less
   * than `graceMs` ago: a device's own credential fetches only the media of its own deliveries.
   */
  deliversMediaTo(clusterId: string, mediaId: string, now: number, graceMs: number): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
           WHERE d.cluster_id = ? AND instr(b.content, ?) > 0
             AND (b.status = 'active' OR b.end_at > ?) LIMIT 1`,
        )
        .get(clusterId, mediaNeedle(mediaId), now - graceMs) !== undefined
    );
  }

  /** The broadcasts a schedule made, newest last. */
  ofSchedule(scheduleId: string): BroadcastRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM broadcasts WHERE schedule_id = ? ORDER BY start_at')
        .all(scheduleId) as BroadcastRow[]
    ).map(toBroadcast);
  }

  /** Names of broadcasts still under way that play this media. */
  activeUsingMedia(mediaId: string): string[] {
    return (
      this.db
        .prepare("SELECT name FROM broadcasts WHERE status = 'active' AND instr(content, ?) > 0")
        .all(mediaNeedle(mediaId)) as { name: string }[]
    ).map((r) => r.name);
  }

  /**
   * Marks an emergency reviewed after it aired, the step kept beside the approval steps of
   * schedules; false when it had no review pending.
   */
  review(broadcastId: string, by: string, comment: string | null, at: number): boolean {
    return this.db.transaction(() => {
      const changed = this.db
        .prepare(
          "UPDATE broadcasts SET review_state = 'reviewed', reviewed_by = ? WHERE id = ? AND review_state = 'pending'",
        )
        .run(by, broadcastId).changes;
      if (changed === 0) return false;
      this.db
        .prepare(
          `INSERT INTO approval_steps (subject_type, subject_id, step, actor, comment, at)
           VALUES ('broadcast', ?, 'reviewed', ?, ?, ?)`,
        )
        .run(broadcastId, by, comment, at);
      return true;
    })();
  }

  /** A cluster came back: its waiting deliveries are tried at once rather than at their backoff. */
  retryNow(clusterId: string, now: number): void {
    for (const d of this.openByCluster.get(clusterId) ?? []) {
      if (d.nextAttemptAt !== null) this.update(d, { nextAttemptAt: now, updatedAt: d.updatedAt });
    }
  }

  getState(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM service_state WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  setState(key: string, value: string, now: number): void {
    this.db
      .prepare(
        'INSERT INTO service_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      )
      .run(key, value, now);
  }

  /** Writes what is pending before the database closes. */
  close(): void {
    if (this.flushTurn) {
      clearImmediate(this.flushTurn as NodeJS.Immediate);
      clearTimeout(this.flushTurn as NodeJS.Timeout);
    }
    this.flushTurn = null;
    this.flush();
  }

  // --- internals -------------------------------------------------------------------------------

  private dueNow(now: number): DeliveryRecord[] {
    const due: DeliveryRecord[] = [];
    for (const d of this.openByCommand.values()) {
      if (d.nextAttemptAt !== null && d.nextAttemptAt <= now && this.activeBroadcasts.has(d.broadcastId))
        due.push(d);
    }
    return due;
  }

  private scheduleFlush(): void {
    if (this.flushTurn || this.depth > 0) return;
    this.flushTurn = setImmediate(() => this.flushLater());
  }

  private flushLater(): void {
    this.flushTurn = null;
    try {
      this.flush();
    } catch (error) {
      // Kept and tried again: the dispatcher goes on from memory meanwhile.
      this.onWriteError(error);
      this.flushTurn = setTimeout(() => this.flushLater(), 1_000);
      this.flushTurn.unref();
    }
  }

  private writePending(): void {
    for (const [record, fields] of this.pending) this.writeRow(record, fields as DeliveryFields);
  }

  private writeRow(
    d: Pick<DeliveryRecord, 'broadcastId' | 'clusterId'>,
    fields: Partial<DeliveryFields>,
  ): void {
    const sets: string[] = [];
    const params: Record<string, unknown> = { broadcastId: d.broadcastId, clusterId: d.clusterId };
    for (const [key, value] of Object.entries(fields)) {
      const column = COLUMNS[key];
      if (!column) continue;
      sets.push(`${column} = @${key}`);
      params[key] = (key === 'speakers' || key === 'items') && value !== null ? JSON.stringify(value) : value;
    }
    if (sets.length === 0) return;
    this.db
      .prepare(
        `UPDATE deliveries SET ${sets.join(', ')} WHERE broadcast_id = @broadcastId AND cluster_id = @clusterId`,
      )
      .run(params);
  }

  private track(d: DeliveryRecord): void {
    this.openByCommand.set(d.commandId, d);
    let own = this.openByCluster.get(d.clusterId);
    if (!own) {
      own = new Set();
      this.openByCluster.set(d.clusterId, own);
    }
    own.add(d);
    this.count(d.broadcastId, d.state, 1);
  }

  private untrack(d: DeliveryRecord): void {
    this.openByCommand.delete(d.commandId);
    const own = this.openByCluster.get(d.clusterId);
    own?.delete(d);
    if (own?.size === 0) this.openByCluster.delete(d.clusterId);
  }

  private count(broadcastId: string, state: DeliveryState, delta: number): void {
    let counts = this.counts.get(broadcastId);
    if (!counts) {
      counts = new Map();
      this.counts.set(broadcastId, counts);
    }
    const n = (counts.get(state) ?? 0) + delta;
    if (n > 0) counts.set(state, n);
    else counts.delete(state);
    if (counts.size === 0) this.counts.delete(broadcastId);
  }
}
