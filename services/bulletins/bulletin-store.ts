import type { Content, Level } from '../../contracts/broadcasts.js';
import type { ReceiptState } from '../../contracts/bulletins.js';
import { NotFoundError } from '../errors.js';
import type { Db } from '../storage/database.js';

export interface BulletinRecord {
  id: string;
  provinceId: string;
  name: string;
  level: Level;
  content: Content;
  volume: number | null;
  startAt: number;
  durationS: number;
  expiresAt: number;
  createdBy: string | null;
  createdAt: number;
}

export interface ClashNote {
  scheduleId: string;
  name: string;
  start: string;
  end: string;
}

export interface ReceiptRecord {
  bulletinId: string;
  communeId: string;
  state: ReceiptState;
  scheduleId: string | null;
  broadcastId: string | null;
  clash: ClashNote[];
  decidedBy: string | null;
  decidedAt: number | null;
  reason: string | null;
  updatedAt: number;
}

interface BulletinRow {
  id: string;
  province_id: string;
  name: string;
  level: Level;
  content: string;
  volume: number | null;
  start_at: number;
  duration_s: number;
  expires_at: number;
  created_by: string | null;
  created_at: number;
}

interface ReceiptRow {
  bulletin_id: string;
  commune_id: string;
  state: ReceiptState;
  schedule_id: string | null;
  broadcast_id: string | null;
  clash: string;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
  updated_at: number;
}

const toBulletin = (r: BulletinRow): BulletinRecord => ({
  id: r.id,
  provinceId: r.province_id,
  name: r.name,
  level: r.level,
  content: JSON.parse(r.content) as Content,
  volume: r.volume,
  startAt: r.start_at,
  durationS: r.duration_s,
  expiresAt: r.expires_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

const toReceipt = (r: ReceiptRow): ReceiptRecord => ({
  bulletinId: r.bulletin_id,
  communeId: r.commune_id,
  state: r.state,
  scheduleId: r.schedule_id,
  broadcastId: r.broadcast_id,
  clash: JSON.parse(r.clash) as ClashNote[],
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  reason: r.reason,
  updatedAt: r.updated_at,
});

/** Bulletins from the province and each commune's receipt (tables of migration 0016). */
export class BulletinStore {
  constructor(private readonly db: Db) {}

  insert(bulletin: BulletinRecord, receipts: ReceiptRecord[]): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO provincial_bulletins (id, province_id, name, level, content, volume, start_at, duration_s,
             expires_at, created_by, created_at)
           VALUES (@id, @provinceId, @name, @level, @content, @volume, @startAt, @durationS, @expiresAt, @createdBy,
             @createdAt)`,
        )
        .run({ ...bulletin, content: JSON.stringify(bulletin.content) });
      for (const receipt of receipts) this.putReceipt(receipt);
    })();
  }

  get(id: string): BulletinRecord {
    const row = this.db.prepare('SELECT * FROM provincial_bulletins WHERE id = ?').get(id) as
      | BulletinRow
      | undefined;
    if (!row) throw new NotFoundError('bulletin', id);
    return toBulletin(row);
  }

  /** Newest first; with provinces, only theirs. */
  list(
    filter: {
      provinceIds?: readonly string[] | undefined;
      communes?: readonly string[] | null | undefined;
      since?: number | undefined;
    },
    page: { limit: number; offset: number },
  ): { items: BulletinRecord[]; total: number } {
    const clauses: string[] = [];
    if (filter.provinceIds) clauses.push('province_id IN (SELECT value FROM json_each(@provinces))');
    if (filter.communes)
      clauses.push(
        'id IN (SELECT bulletin_id FROM bulletin_receipts WHERE commune_id IN (SELECT value FROM json_each(@communes)))',
      );
    if (filter.since !== undefined) clauses.push('created_at >= @since');
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const params = {
      provinces: filter.provinceIds ? JSON.stringify(filter.provinceIds) : null,
      communes: filter.communes ? JSON.stringify(filter.communes) : null,
      since: filter.since ?? null,
    };
    const rows = this.db
      .prepare(
        `SELECT * FROM provincial_bulletins ${where} ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, ...page }) as BulletinRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM provincial_bulletins ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map(toBulletin), total: n };
  }

  receipts(bulletinId: string): ReceiptRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM bulletin_receipts WHERE bulletin_id = ? ORDER BY commune_id')
        .all(bulletinId) as ReceiptRow[]
    ).map(toReceipt);
  }

  receipt(bulletinId: string, communeId: string): ReceiptRecord {
    const row = this.db
      .prepare('SELECT * FROM bulletin_receipts WHERE bulletin_id = ? AND commune_id = ?')
      .get(bulletinId, communeId) as ReceiptRow | undefined;
    if (!row) throw new NotFoundError('bulletin', bulletinId);
    return toReceipt(row);
  }

  /** Receipts of these communes (null: all), newest bulletin first, optionally in some states. */
  inbox(
    communes: readonly string[] | null,
    states: readonly ReceiptState[] | null,
    page: { limit: number; offset: number },
  ): { items: ReceiptRecord[]; total: number } {
    const clauses: string[] = [];
    if (communes) clauses.push('r.commune_id IN (SELECT value FROM json_each(@communes))');
    if (states) clauses.push('r.state IN (SELECT value FROM json_each(@states))');
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const params = {
      communes: communes ? JSON.stringify(communes) : null,
      states: states ? JSON.stringify(states) : null,
    };
    const rows = this.db
      .prepare(
        `SELECT r.* FROM bulletin_receipts r JOIN provincial_bulletins b ON b.id = r.bulletin_id ${where}
         ORDER BY b.created_at DESC, r.bulletin_id, r.commune_id LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, ...page }) as ReceiptRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM bulletin_receipts r ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map(toReceipt), total: n };
  }

  /** Receipts waiting for a decision (pending, needs-order), per commune. */
  waitingPerCommune(): Map<string, number> {
    const rows = this.db
      .prepare(
        `SELECT commune_id AS communeId, COUNT(*) AS n FROM bulletin_receipts WHERE state IN ('pending', 'needs-order')
         GROUP BY commune_id`,
      )
      .all() as { communeId: string; n: number }[];
    return new Map(rows.map((r) => [r.communeId, r.n]));
  }

  /** Receipts per state of each of these bulletins; with communes, only theirs. */
  receiptStates(
    bulletinIds: readonly string[],
    communes: readonly string[] | null = null,
  ): Map<string, Partial<Record<ReceiptState, number>>> {
    const rows = this.db
      .prepare(
        `SELECT bulletin_id AS id, state, COUNT(*) AS n FROM bulletin_receipts
         WHERE bulletin_id IN (SELECT value FROM json_each(@ids))
           AND (@communes IS NULL OR commune_id IN (SELECT value FROM json_each(@communes)))
         GROUP BY bulletin_id, state`,
      )
      .all({ ids: JSON.stringify(bulletinIds), communes: communes ? JSON.stringify(communes) : null }) as {
      id: string;
      state: ReceiptState;
      n: number;
    }[];
    const out = new Map<string, Partial<Record<ReceiptState, number>>>();
    for (const r of rows) out.set(r.id, { ...out.get(r.id), [r.state]: r.n });
    return out;
  }

  /** Pending receipts whose bulletin expired by `now`: they become `expired`. */
  expire(now: number): ReceiptRecord[] {
    const rows = this.db
      .prepare(
        `SELECT r.* FROM bulletin_receipts r JOIN provincial_bulletins b ON b.id = r.bulletin_id
         WHERE r.state = 'pending' AND b.expires_at <= ?`,
      )
      .all(now) as ReceiptRow[];
    const expired = rows.map((row) => ({ ...toReceipt(row), state: 'expired' as const, updatedAt: now }));
    for (const receipt of expired) this.putReceipt(receipt);
    return expired;
  }

  /** The earliest expiry of a pending receipt, to sleep until. */
  nextExpiry(): number | null {
    const row = this.db
      .prepare(
        `SELECT MIN(b.expires_at) AS at FROM bulletin_receipts r JOIN provincial_bulletins b ON b.id = r.bulletin_id
         WHERE r.state = 'pending'`,
      )
      .get() as { at: number | null };
    return row.at;
  }

  putReceipt(receipt: ReceiptRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO bulletin_receipts (bulletin_id, commune_id, state, schedule_id, broadcast_id, clash,
           decided_by, decided_at, reason, updated_at)
         VALUES (@bulletinId, @communeId, @state, @scheduleId, @broadcastId, @clash, @decidedBy, @decidedAt, @reason,
           @updatedAt)`,
      )
      .run({ ...receipt, clash: JSON.stringify(receipt.clash) });
  }
}
