import type { Content, DeliveryState, Level } from '../announcements/types.js';
import type { Db } from '../storage/database.js';

export type BroadcastKind = 'scheduled' | 'emergency' | 'live';
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
}

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
  updatedAt: r.updated_at,
});

// Accepted and playing deliveries have a next attempt only while they are to be confirmed after a restart.
const DUE_WHERE = `WHERE b.status = 'active' AND d.state IN ('scheduled', 'sent', 'accepted', 'playing')
  AND d.next_attempt_at <= ?`;

/** Broadcasts and their per-cluster deliveries: the durable record of what was sent and what played. */
export class BroadcastStore {
  constructor(private readonly db: Db) {}

  /** Inserts a broadcast with one delivery per cluster, atomically; false if this occurrence exists. */
  insert(
    broadcast: BroadcastRecord,
    deliveries: { clusterId: string; commandId: string; state: DeliveryState; reason: string | null }[],
  ): boolean {
    return this.db.transaction(() => {
      const inserted = this.db
        .prepare(
          `INSERT OR IGNORE INTO broadcasts (id, kind, schedule_id, occurrence_at, name, level, content, volume, repeat,
             start_at, end_at, expires_at, status, created_by, created_at)
           VALUES (@id, @kind, @scheduleId, @occurrenceAt, @name, @level, @content, @volume, @repeat, @startAt, @endAt,
             @expiresAt, @status, @createdBy, @createdAt)`,
        )
        .run({ ...broadcast, content: JSON.stringify(broadcast.content) });
      if (inserted.changes === 0) return false;
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
      return true;
    })();
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
  ): { items: BroadcastRecord[]; total: number } {
    const where = 'start_at < @to AND end_at >= @from';
    const rows = this.db
      .prepare(`SELECT * FROM broadcasts WHERE ${where} ORDER BY start_at, id LIMIT @limit OFFSET @offset`)
      .all({ ...range, ...page }) as BroadcastRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM broadcasts WHERE ${where}`).get(range) as {
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
  }

  deliveries(broadcastId: string): DeliveryRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM deliveries WHERE broadcast_id = ? ORDER BY cluster_id')
        .all(broadcastId) as DeliveryRow[]
    ).map(toDelivery);
  }

  /** Whether any delivery of the broadcast is in one of these states (an index lookup). */
  hasDeliveriesIn(broadcastId: string, states: readonly DeliveryState[]): boolean {
    const marks = states.map(() => '?').join(', ');
    return (
      this.db
        .prepare(`SELECT 1 FROM deliveries WHERE broadcast_id = ? AND state IN (${marks}) LIMIT 1`)
        .get(broadcastId, ...states) !== undefined
    );
  }

  /** Runs several writes as one transaction: one commit for a whole pass of sends. */
  transaction(work: () => void): void {
    this.db.transaction(work)();
  }

  byCommand(commandId: string): DeliveryRecord | null {
    const row = this.db.prepare('SELECT * FROM deliveries WHERE command_id = ?').get(commandId) as
      | DeliveryRow
      | undefined;
    return row ? toDelivery(row) : null;
  }

  /** Deliveries still waiting to be sent or answered whose next attempt is due. */
  /**
   * Deliveries of active broadcasts still waiting to be sent or answered whose next attempt is
   * due, oldest first; every one needs handling, so a limited read always makes progress.
   */
  due(now: number, limit = -1): DeliveryRecord[] {
    return (
      this.db
        .prepare(`SELECT d.* FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id ${DUE_WHERE}
           ORDER BY d.next_attempt_at LIMIT ?`)
        .all(now, limit) as DeliveryRow[]
    ).map(toDelivery);
  }

  /** How many deliveries are due, without reading them. */
  countDue(now: number): number {
    const { n } = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id ${DUE_WHERE}`,
      )
      .get(now) as { n: number };
    return n;
  }

  /** Deliveries not yet final, for reconciliation and expiry. */
  open(): DeliveryRecord[] {
    return (
      this.db
        .prepare("SELECT * FROM deliveries WHERE state IN ('scheduled', 'sent', 'accepted', 'playing')")
        .all() as DeliveryRow[]
    ).map(toDelivery);
  }

  update(
    d: Pick<DeliveryRecord, 'broadcastId' | 'clusterId'>,
    fields: Partial<Omit<DeliveryRecord, 'broadcastId' | 'clusterId' | 'commandId'>> & { updatedAt: number },
  ): void {
    const columns: Record<string, string> = {
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
      updatedAt: 'updated_at',
    };
    const sets: string[] = [];
    const params: Record<string, unknown> = { broadcastId: d.broadcastId, clusterId: d.clusterId };
    for (const [key, value] of Object.entries(fields)) {
      const column = columns[key];
      if (!column) continue;
      sets.push(`${column} = @${key}`);
      params[key] = key === 'speakers' && value !== null ? JSON.stringify(value) : value;
    }
    this.db
      .prepare(
        `UPDATE deliveries SET ${sets.join(', ')} WHERE broadcast_id = @broadcastId AND cluster_id = @clusterId`,
      )
      .run(params);
  }

  /** Names of broadcasts still under way that play this media. */
  activeUsingMedia(mediaId: string): string[] {
    return (
      this.db
        .prepare(
          "SELECT name FROM broadcasts WHERE status = 'active' AND json_extract(content, '$.mediaId') = ?",
        )
        .all(mediaId) as { name: string }[]
    ).map((r) => r.name);
  }

  /** A cluster came back: its waiting deliveries are tried at once rather than at their backoff. */
  retryNow(clusterId: string, now: number): void {
    this.db
      .prepare(
        `UPDATE deliveries SET next_attempt_at = ? WHERE cluster_id = ? AND next_attempt_at IS NOT NULL
           AND state IN ('scheduled', 'sent', 'accepted', 'playing')`,
      )
      .run(now, clusterId);
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
}
