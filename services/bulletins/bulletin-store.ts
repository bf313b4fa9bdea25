import type { Logger } from 'pino';
import type { Content, Level } from '../../contracts/broadcasts.js';
import type { ReceiptState } from '../../contracts/bulletins.js';
import { NotFoundError } from '../errors.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy } from '../storage/sql/table-copy.js';
import { bulletinCopy } from './bulletin-copy.js';

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

const bulletinRow = (b: BulletinRecord): BulletinRow => ({
  id: b.id,
  province_id: b.provinceId,
  name: b.name,
  level: b.level,
  content: JSON.stringify(b.content),
  volume: b.volume,
  start_at: b.startAt,
  duration_s: b.durationS,
  expires_at: b.expiresAt,
  created_by: b.createdBy,
  created_at: b.createdAt,
});

const receiptRow = (r: ReceiptRecord): ReceiptRow => ({
  bulletin_id: r.bulletinId,
  commune_id: r.communeId,
  state: r.state,
  schedule_id: r.scheduleId,
  broadcast_id: r.broadcastId,
  clash: JSON.stringify(r.clash),
  decided_by: r.decidedBy,
  decided_at: r.decidedAt,
  reason: r.reason,
  updated_at: r.updatedAt,
});

/** Constraint failures (either engine's) become conflicts that say what clashed. */
const constrained = <T>(write: () => Promise<T>): Promise<T> =>
  translateConstraintAsync(
    {
      duplicateId: 'a bulletin with this id already exists',
      reference: 'the bulletin, its province or one of its communes does not exist',
    },
    write,
  );

/** A committed change of a bulletin or of its receipts, made here or by another instance. */
export interface BulletinChange {
  bulletinId: string;
  change: 'created' | 'updated' | 'deleted';
  /** Whether another instance made it (it reached this instance's copy). */
  elsewhere: boolean;
}

export interface BulletinStoreOptions {
  /** The platform's SQLite file: the bulletins themselves, or this instance's copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL. */
  state: StateDatabase;
  logger: Logger;
}

/**
 * Bulletins from the province and each commune's receipt (tables of migration 0016). Reads are
 * answered from the platform's SQLite file; writes go through the query layer, to that file or to
 * PostgreSQL, whose changes every instance copies into its file (bulletin-copy.ts).
 */
export class BulletinStore {
  private readonly db: Db;
  private readonly state: StateDatabase;
  private readonly copy: TableCopy;
  private readonly log: Logger;
  private readonly listeners = new Set<(change: BulletinChange) => void>();

  constructor(options: BulletinStoreOptions) {
    this.db = options.db;
    this.state = options.state;
    this.copy = bulletinCopy(options.db, options.state, options.logger);
    this.log = options.logger.child({ component: 'bulletin-store' });
  }

  /** With PostgreSQL: fills this instance's copy, then follows the other instances' changes. */
  async start(): Promise<void> {
    await this.copy.start(({ id, change }) => this.tell({ bulletinId: id, change, elsewhere: true }));
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  /** Told after every committed change, whoever made it; returns the unsubscribe. */
  onChange(listener: (change: BulletinChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Each listener on its own: one that throws neither fails the write nor keeps the others from hearing. */
  private tell(change: BulletinChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.log.error({ err: error, change }, 'a listener of bulletin changes failed');
      }
    }
  }

  /**
   * One write in one transaction of the query layer, announced to the other instances when it
   * commits, then copied here (with PostgreSQL) before anyone reads it.
   */
  private async write<T>(
    touched: (result: T) => { ids: readonly string[]; change: 'created' | 'updated' },
    work: (trx: StateTransaction) => Promise<T>,
  ): Promise<T> {
    const result = await constrained(() =>
      this.state.transaction(async (trx) => {
        const done = await work(trx);
        const { ids, change } = touched(done);
        for (const id of ids) await this.copy.announce(trx, { table: 'provincial_bulletins', id, change });
        return done;
      }),
    );
    const { ids, change } = touched(result);
    for (const id of ids) {
      await this.copy.copy({ table: 'provincial_bulletins', id });
      this.tell({ bulletinId: id, change, elsewhere: false });
    }
    return result;
  }

  /**
   * A bulletin a decision is about: read here, and with PostgreSQL looked up there once more before
   * it is called missing, since another instance may have sent it a moment ago.
   */
  async present(id: string): Promise<BulletinRecord> {
    try {
      return this.get(id);
    } catch (error) {
      if (!(error instanceof NotFoundError) || !this.copy.remote) throw error;
      await this.copy.copy({ table: 'provincial_bulletins', id });
      return this.get(id);
    }
  }

  async insert(bulletin: BulletinRecord, receipts: readonly ReceiptRecord[]): Promise<void> {
    // A commune named twice has one receipt, as it always had.
    const rows = [...new Map(receipts.map((r) => [r.communeId, receiptRow(r)])).values()];
    await this.write(
      () => ({ ids: [bulletin.id], change: 'created' }),
      async (trx) => {
        await trx.insertInto('provincial_bulletins').values(bulletinRow(bulletin)).execute();
        for (let i = 0; i < rows.length; i += 500)
          await trx
            .insertInto('bulletin_receipts')
            .values(rows.slice(i, i + 500))
            .execute();
      },
    );
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

  /**
   * Pending receipts whose bulletin expired by `now` become `expired`, in one statement: with
   * several callers (or instances) each receipt expires, and is returned, once.
   */
  async expire(now: number): Promise<ReceiptRecord[]> {
    const rows = await this.write(
      (expired: ReceiptRow[]) => ({
        ids: [...new Set(expired.map((r) => r.bulletin_id))],
        change: 'updated',
      }),
      async (trx) =>
        (await trx
          .updateTable('bulletin_receipts')
          .set({ state: 'expired', updated_at: now })
          .where('state', '=', 'pending')
          .where('bulletin_id', 'in', (eb) =>
            eb.selectFrom('provincial_bulletins').select('id').where('expires_at', '<=', now),
          )
          .returningAll()
          .execute()) as ReceiptRow[],
    );
    return rows
      .map(toReceipt)
      .sort((a, b) => a.bulletinId.localeCompare(b.bulletinId) || a.communeId.localeCompare(b.communeId));
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

  /** Stores a receipt's new state (one commune's decision, or what became of the bulletin there). */
  async putReceipt(receipt: ReceiptRecord): Promise<void> {
    await this.putReceipts([receipt]);
  }

  /** Stores several receipts' new states at once (an emergency aired in every commune). */
  async putReceipts(receipts: readonly ReceiptRecord[]): Promise<void> {
    if (receipts.length === 0) return;
    await this.write(
      () => ({ ids: [...new Set(receipts.map((r) => r.bulletinId))], change: 'updated' }),
      async (trx) => {
        for (const receipt of receipts) {
          const { bulletin_id: _b, commune_id: _c, ...fields } = receiptRow(receipt);
          await trx
            .insertInto('bulletin_receipts')
            .values(receiptRow(receipt))
            .onConflict((oc) => oc.columns(['bulletin_id', 'commune_id']).doUpdateSet(fields))
            .execute();
        }
      },
    );
  }
}
