import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Logger } from 'pino';
import type {
  WEBHOOK_DELIVERY_STATES,
  Webhook,
  WebhookDelivery,
  WebhookEventType,
} from '../../contracts/sharing.js';
import { open, seal } from '../crypto/secret-box.js';
import { NotFoundError } from '../errors.js';
import type { Page, Paged } from '../registry/registry-store.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { WebhooksTable } from '../storage/sql/schema.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import { webhookCopy } from './webhook-copy.js';

export type DeliveryState = (typeof WEBHOOK_DELIVERY_STATES)[number];

/** A webhook as the dispatcher uses it: where, what, whose, and its secrets in the clear. */
export interface WebhookTarget {
  id: string;
  url: string;
  events: readonly WebhookEventType[];
  provinceId: string | null;
}

/** A POST waiting to be made (or made again). */
export interface DueDelivery {
  id: string;
  webhookId: string;
  body: string;
  attempts: number;
  createdAt: number;
}

export interface AttemptRecord {
  at: number;
  status: number | null;
  error: string | null;
  durationMs: number;
}

type WebhookRow = Selectable<WebhooksTable>;

interface DeliveryRow {
  id: string;
  webhook_id: string;
  body: string;
  types: string;
  event_count: number;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number | null;
  created_at: number;
  finished_at: number | null;
}

interface AttemptRow {
  delivery_id: string;
  n: number;
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

/** Error texts are the receiver's or the network's words: bounded like every stored field. */
const MAX_ERROR_CHARS = 500;

export interface WebhookStoreOptions {
  /** The platform's SQLite file: the store itself, or its read copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL. */
  state: StateDatabase;
  logger: Logger;
  /** Seals the signing secrets (DATA_DIR/webhook-secrets.key). */
  key: Buffer;
  limits: { maxPending: number; keepFinished: number };
}

const touch = (
  table: 'webhooks' | 'webhook_deliveries',
  id: string,
  change: TableTouch['change'],
): TableTouch => ({ table, id, change });

/**
 * Webhooks, their deliveries and every attempt. Reads are answered from the platform's SQLite file;
 * writes go through the query layer, to that file or to PostgreSQL, whose changes every instance
 * copies into its file (webhook-copy.ts). Secrets are sealed with the key in
 * DATA_DIR (AES-256-GCM, bound to the webhook id) and opened only to sign. What is kept is bounded
 * per webhook: `maxPending` POSTs waiting (beyond, the oldest are dropped and recorded as such)
 * and the `keepFinished` most recent finished ones.
 */
export class WebhookStore {
  private readonly db: Db;
  private readonly state: StateDatabase;
  private readonly key: Buffer;
  private readonly limits: { maxPending: number; keepFinished: number };
  private readonly copy: TableCopy;

  constructor(options: WebhookStoreOptions) {
    this.db = options.db;
    this.state = options.state;
    this.key = options.key;
    this.limits = options.limits;
    this.copy = webhookCopy(options.db, options.state, options.logger);
  }

  /**
   * With PostgreSQL: fills this instance's copy, then follows the other instances' changes;
   * `onWebhookCopied` hears of webhooks another instance registered, rotated or deleted.
   */
  async start(onWebhookCopied: () => void = () => undefined): Promise<void> {
    await this.copy.start((t) => {
      if (t.table === 'webhooks') onWebhookCopied();
    });
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  /**
   * One write in one transaction of the query layer, announced to the other instances when it
   * commits, then copied here (with PostgreSQL) before anyone reads it. `work` returns what it
   * touched.
   */
  private async write<T>(
    work: (trx: StateTransaction) => Promise<{ touched: TableTouch[]; result: T }>,
  ): Promise<T> {
    const { touched, result } = await translateConstraintAsync(
      {
        duplicateId: 'a webhook with this id already exists',
        reference: 'the province named does not exist',
      },
      () =>
        this.state.transaction(async (trx) => {
          const done = await work(trx);
          for (const t of done.touched) await this.copy.announce(trx, t);
          return done;
        }),
    );
    for (const t of touched) await this.copy.copy(t);
    return result;
  }

  /**
   * A webhook a write depends on: read here, and with PostgreSQL copied from there once more before
   * it is called missing, since another instance may have registered it a moment ago.
   */
  async present(id: string): Promise<void> {
    if (!this.copy.remote) return;
    if (!this.db.prepare('SELECT 1 FROM webhooks WHERE id = ?').get(id))
      await this.copy.copy({ table: 'webhooks', id });
  }

  async create(input: {
    url: string;
    events: readonly WebhookEventType[];
    description: string | null;
    provinceId: string | null;
    createdBy: string | null;
    secret: string;
    now: number;
  }): Promise<string> {
    const id = `wh-${randomBytes(6).toString('hex')}`;
    await this.write(async (trx) => {
      await trx
        .insertInto('webhooks')
        .values({
          id,
          url: input.url,
          events: JSON.stringify(input.events),
          description: input.description,
          province_id: input.provinceId,
          secret: seal(this.key, input.secret, id),
          created_by: input.createdBy,
          created_at: input.now,
          secret_rotated_at: input.now,
        })
        .execute();
      return { touched: [touch('webhooks', id, 'created')], result: undefined };
    });
    return id;
  }

  /** Webhooks, newest first: all of them, or one province's. */
  list(filter: { provinceId?: string | undefined }, page: Page): Paged<Webhook> {
    const where = filter.provinceId !== undefined ? 'WHERE province_id = @provinceId' : '';
    const params = { provinceId: filter.provinceId, ...page };
    const rows = this.db
      .prepare(`SELECT * FROM webhooks ${where} ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset`)
      .all(params) as WebhookRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM webhooks ${where}`).get(params) as { n: number };
    return { items: rows.map((r) => this.toWebhook(r)), total: n, ...page };
  }

  get(id: string): Webhook {
    return this.toWebhook(this.row(id));
  }

  async delete(id: string): Promise<void> {
    await this.present(id);
    await this.write(async (trx) => {
      const done = await trx.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      if (Number(done.numDeletedRows) === 0) throw new NotFoundError('webhook', id);
      return { touched: [touch('webhooks', id, 'deleted')], result: undefined };
    });
  }

  /** A new secret; the old one still signs beside it until `graceMs` from now (0: not at all). */
  async rotate(id: string, secret: string, graceMs: number, now: number): Promise<void> {
    await this.present(id);
    await this.write(async (trx) => {
      const row = await trx.selectFrom('webhooks').select('secret').where('id', '=', id).executeTakeFirst();
      if (!row) throw new NotFoundError('webhook', id);
      await trx
        .updateTable('webhooks')
        .set({
          secret: seal(this.key, secret, id),
          previous_secret: graceMs > 0 ? row.secret : null,
          previous_until: graceMs > 0 ? now + graceMs : null,
          secret_rotated_at: now,
        })
        .where('id', '=', id)
        .execute();
      return { touched: [touch('webhooks', id, 'updated')], result: undefined };
    });
  }

  /** Every webhook, for the dispatcher's matching of events. */
  targets(): WebhookTarget[] {
    return (this.db.prepare('SELECT * FROM webhooks').all() as WebhookRow[]).map((r) => ({
      id: r.id,
      url: r.url,
      events: JSON.parse(r.events) as WebhookEventType[],
      provinceId: r.province_id,
    }));
  }

  /** The secrets that sign a POST now: the current one, and the previous one during its grace. */
  secretsOf(id: string, now: number): string[] | null {
    const row = this.db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
    if (!row) return null;
    const secrets = [open(this.key, row.secret, id)];
    if (row.previous_secret && row.previous_until !== null && row.previous_until > now)
      secrets.push(open(this.key, row.previous_secret, id));
    return secrets;
  }

  /**
   * Records a POST to make now; when the webhook already has `maxPending` waiting, the oldest are
   * dropped. Returns how many were dropped.
   */
  async addDelivery(input: {
    webhookId: string;
    body: string;
    types: readonly WebhookEventType[];
    eventCount: number;
    now: number;
  }): Promise<{ id: string; dropped: number }> {
    const id = `whd-${randomBytes(8).toString('hex')}`;
    return this.write(async (trx) => {
      await trx
        .insertInto('webhook_deliveries')
        .values({
          id,
          webhook_id: input.webhookId,
          body: input.body,
          types: JSON.stringify(input.types),
          event_count: input.eventCount,
          state: 'pending',
          attempts: 0,
          next_attempt_at: input.now,
          created_at: input.now,
        })
        .execute();
      const touched = [touch('webhook_deliveries', id, 'created')];
      // Beyond the newest `maxPending` waiting (none under way), the oldest are dropped.
      const waiting = await trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('webhook_id', '=', input.webhookId)
        .where('state', '=', 'pending')
        .where('next_attempt_at', 'is not', null)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      const drop = waiting.slice(this.limits.maxPending).map((r) => r.id);
      if (drop.length > 0) {
        await trx
          .updateTable('webhook_deliveries')
          .set({ state: 'dropped', next_attempt_at: null, finished_at: input.now })
          .where('id', 'in', drop)
          .execute();
        touched.push(...drop.map((d) => touch('webhook_deliveries', d, 'updated')));
        touched.push(...(await this.prune(trx, input.webhookId)));
      }
      return { touched, result: { id, dropped: drop.length } };
    });
  }

  /** Of each webhook, its earliest delivery due by `now` (one request at a time per receiver). */
  due(now: number): DueDelivery[] {
    return (
      this.db
        .prepare(
          `SELECT id, webhook_id, body, attempts, created_at FROM (
             SELECT *, ROW_NUMBER() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at, created_at, id) AS rn
             FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?)
           WHERE rn = 1 ORDER BY next_attempt_at, created_at`,
        )
        .all(now) as Pick<DeliveryRow, 'id' | 'webhook_id' | 'body' | 'attempts' | 'created_at'>[]
    ).map((r) => ({
      id: r.id,
      webhookId: r.webhook_id,
      body: r.body,
      attempts: r.attempts,
      createdAt: r.created_at,
    }));
  }

  /** When the next waiting delivery falls due, or null when none waits. */
  nextDueAt(): number | null {
    const { at } = this.db
      .prepare(
        "SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at IS NOT NULL",
      )
      .get() as { at: number | null };
    return at;
  }

  /** A request for it is under way: not due again until its outcome is recorded. */
  async claim(id: string): Promise<void> {
    await this.write(async (trx) => {
      await trx
        .updateTable('webhook_deliveries')
        .set({ next_attempt_at: null })
        .where('id', '=', id)
        .execute();
      return { touched: [touch('webhook_deliveries', id, 'updated')], result: undefined };
    });
  }

  /** Requests under way when the platform stopped are due again at once. */
  async releaseClaims(now: number): Promise<void> {
    await this.write(async (trx) => {
      const claimed = await trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('state', '=', 'pending')
        .where('next_attempt_at', 'is', null)
        .execute();
      if (claimed.length === 0) return { touched: [], result: undefined };
      const ids = claimed.map((r) => r.id);
      await trx
        .updateTable('webhook_deliveries')
        .set({ next_attempt_at: now })
        .where('id', 'in', ids)
        .execute();
      return { touched: ids.map((d) => touch('webhook_deliveries', d, 'updated')), result: undefined };
    });
  }

  /** One attempt and what follows it: delivered, given up, or due again at `nextAttemptAt`. */
  async recordAttempt(
    id: string,
    attempt: AttemptRecord,
    next: { state: 'delivered' | 'failed' } | { state: 'pending'; nextAttemptAt: number },
  ): Promise<void> {
    await this.write(async (trx) => {
      const row = await trx
        .selectFrom('webhook_deliveries')
        .select(['webhook_id', 'attempts'])
        .where('id', '=', id)
        .executeTakeFirst();
      // The webhook was deleted while the request was under way.
      if (!row) return { touched: [], result: undefined };
      const n = row.attempts + 1;
      await trx
        .insertInto('webhook_attempts')
        .values({
          delivery_id: id,
          n,
          at: attempt.at,
          status: attempt.status,
          error: attempt.error?.slice(0, MAX_ERROR_CHARS) ?? null,
          duration_ms: attempt.durationMs,
        })
        .execute();
      await trx
        .updateTable('webhook_deliveries')
        .set({
          attempts: n,
          state: next.state,
          next_attempt_at: next.state === 'pending' ? next.nextAttemptAt : null,
          finished_at: next.state === 'pending' ? null : attempt.at,
        })
        .where('id', '=', id)
        .execute();
      const touched = [touch('webhook_deliveries', id, 'updated')];
      if (next.state !== 'pending') touched.push(...(await this.prune(trx, row.webhook_id)));
      return { touched, result: undefined };
    });
  }

  /** The most recent deliveries of a webhook (at most `keepFinished` finished ones are kept), newest first. */
  deliveries(webhookId: string, page: Page): Paged<WebhookDelivery> {
    this.row(webhookId);
    const rows = this.db
      .prepare(
        'SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?',
      )
      .all(webhookId, page.limit, page.offset) as DeliveryRow[];
    const { n } = this.db
      .prepare('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?')
      .get(webhookId) as { n: number };
    const attempts = this.db
      .prepare(
        `SELECT * FROM webhook_attempts WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY delivery_id, n`,
      )
      .all(JSON.stringify(rows.map((r) => r.id))) as AttemptRow[];
    const byDelivery = new Map<string, AttemptRow[]>();
    for (const a of attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), a]);
    const items = rows.map((r) => ({
      id: r.id,
      state: r.state,
      types: JSON.parse(r.types) as WebhookEventType[],
      events: r.event_count,
      createdAt: isoTime(r.created_at),
      nextAttemptAt: isoTimeOrNull(r.next_attempt_at),
      finishedAt: isoTimeOrNull(r.finished_at),
      attempts: (byDelivery.get(r.id) ?? []).map((a) => ({
        at: isoTime(a.at),
        status: a.status,
        error: a.error,
        durationMs: a.duration_ms,
      })),
    }));
    return { items, total: n, ...page };
  }

  /** Deliveries waiting, across every webhook (for /healthz). */
  pendingCount(): number {
    const { n } = this.db
      .prepare("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state = 'pending'")
      .get() as { n: number };
    return n;
  }

  /** Only the most recent finished deliveries of a webhook are kept; returns those removed. */
  private async prune(trx: StateTransaction, webhookId: string): Promise<TableTouch[]> {
    const finished = await trx
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('webhook_id', '=', webhookId)
      .where('state', '!=', 'pending')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const gone = finished.slice(this.limits.keepFinished).map((r) => r.id);
    if (gone.length === 0) return [];
    await trx.deleteFrom('webhook_deliveries').where('id', 'in', gone).execute();
    return gone.map((d) => touch('webhook_deliveries', d, 'deleted'));
  }

  private row(id: string): WebhookRow {
    const row = this.db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
    if (!row) throw new NotFoundError('webhook', id);
    return row;
  }

  private toWebhook(r: WebhookRow): Webhook {
    const pending = this.db
      .prepare("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ? AND state = 'pending'")
      .get(r.id) as { n: number };
    const last = this.db
      .prepare(
        `SELECT d.state, a.at, a.status, a.error FROM webhook_deliveries d
         JOIN webhook_attempts a ON a.delivery_id = d.id
         WHERE d.webhook_id = ? ORDER BY a.at DESC, a.n DESC LIMIT 1`,
      )
      .get(r.id) as { state: string; at: number; status: number | null; error: string | null } | undefined;
    return {
      id: r.id,
      url: r.url,
      events: JSON.parse(r.events) as WebhookEventType[],
      description: r.description,
      provinceId: r.province_id,
      createdBy: r.created_by,
      createdAt: isoTime(r.created_at),
      secretRotatedAt: isoTime(r.secret_rotated_at),
      previousSecretUntil: isoTimeOrNull(r.previous_until),
      pending: pending.n,
      lastDelivery: last
        ? { state: last.state, at: isoTime(last.at), status: last.status, error: last.error }
        : null,
    };
  }
}
