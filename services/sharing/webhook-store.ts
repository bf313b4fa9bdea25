import { randomBytes } from 'node:crypto';
import type {
  WEBHOOK_DELIVERY_STATES,
  Webhook,
  WebhookDelivery,
  WebhookEventType,
} from '../../contracts/sharing.js';
import { open, seal } from '../crypto/secret-box.js';
import { NotFoundError } from '../errors.js';
import type { Page, Paged } from '../registry/registry-store.js';
import type { Db } from '../storage/database.js';
import { isoTime, isoTimeOrNull } from '../time.js';

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

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  description: string | null;
  province_id: string | null;
  secret: string;
  previous_secret: string | null;
  previous_until: number | null;
  created_by: string | null;
  created_at: number;
  secret_rotated_at: number;
}

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

/**
 * Webhooks, their deliveries and every attempt, on SQLite. Secrets are sealed with the key in
 * DATA_DIR (AES-256-GCM, bound to the webhook id) and opened only to sign. What is kept is bounded
 * per webhook: `maxPending` POSTs waiting (beyond, the oldest are dropped and recorded as such)
 * and the `keepFinished` most recent finished ones.
 */
export class WebhookStore {
  constructor(
    private readonly db: Db,
    private readonly key: Buffer,
    private readonly limits: { maxPending: number; keepFinished: number },
  ) {}

  create(input: {
    url: string;
    events: readonly WebhookEventType[];
    description: string | null;
    provinceId: string | null;
    createdBy: string | null;
    secret: string;
    now: number;
  }): string {
    const id = `wh-${randomBytes(6).toString('hex')}`;
    this.db
      .prepare(
        `INSERT INTO webhooks (id, url, events, description, province_id, secret, created_by, created_at, secret_rotated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.url,
        JSON.stringify(input.events),
        input.description,
        input.provinceId,
        seal(this.key, input.secret, id),
        input.createdBy,
        input.now,
        input.now,
      );
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

  delete(id: string): void {
    if (this.db.prepare('DELETE FROM webhooks WHERE id = ?').run(id).changes === 0)
      throw new NotFoundError('webhook', id);
  }

  /** A new secret; the old one still signs beside it until `graceMs` from now (0: not at all). */
  rotate(id: string, secret: string, graceMs: number, now: number): void {
    const row = this.row(id);
    this.db
      .prepare(
        `UPDATE webhooks SET secret = ?, previous_secret = ?, previous_until = ?, secret_rotated_at = ?
         WHERE id = ?`,
      )
      .run(
        seal(this.key, secret, id),
        graceMs > 0 ? row.secret : null,
        graceMs > 0 ? now + graceMs : null,
        now,
        id,
      );
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
  addDelivery(input: {
    webhookId: string;
    body: string;
    types: readonly WebhookEventType[];
    eventCount: number;
    now: number;
  }): { id: string; dropped: number } {
    const id = `whd-${randomBytes(8).toString('hex')}`;
    return this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO webhook_deliveries (id, webhook_id, body, types, event_count, state, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
        )
        .run(
          id,
          input.webhookId,
          input.body,
          JSON.stringify(input.types),
          input.eventCount,
          input.now,
          input.now,
        );
      const dropped = this.db
        .prepare(
          `UPDATE webhook_deliveries SET state = 'dropped', next_attempt_at = NULL, finished_at = @now
           WHERE id IN (
             SELECT id FROM webhook_deliveries
             WHERE webhook_id = @webhookId AND state = 'pending' AND next_attempt_at IS NOT NULL
             ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET @keep)`,
        )
        .run({ webhookId: input.webhookId, now: input.now, keep: this.limits.maxPending }).changes;
      if (dropped > 0) this.prune(input.webhookId);
      return { id, dropped };
    })();
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
  claim(id: string): void {
    this.db.prepare('UPDATE webhook_deliveries SET next_attempt_at = NULL WHERE id = ?').run(id);
  }

  /** Requests under way when the platform stopped are due again at once. */
  releaseClaims(now: number): void {
    this.db
      .prepare(
        "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at IS NULL",
      )
      .run(now);
  }

  /** One attempt and what follows it: delivered, given up, or due again at `nextAttemptAt`. */
  recordAttempt(
    id: string,
    attempt: AttemptRecord,
    next: { state: 'delivered' | 'failed' } | { state: 'pending'; nextAttemptAt: number },
  ): void {
    this.db.transaction(() => {
      const row = this.db
        .prepare('SELECT webhook_id, attempts FROM webhook_deliveries WHERE id = ?')
        .get(id) as { webhook_id: string; attempts: number } | undefined;
      // The webhook was deleted while the request was under way.
      if (!row) return;
      const n = row.attempts + 1;
      this.db
        .prepare(
          'INSERT INTO webhook_attempts (delivery_id, n, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          id,
          n,
          attempt.at,
          attempt.status,
          attempt.error?.slice(0, MAX_ERROR_CHARS) ?? null,
          attempt.durationMs,
        );
      this.db
        .prepare(
          'UPDATE webhook_deliveries SET attempts = ?, state = ?, next_attempt_at = ?, finished_at = ? WHERE id = ?',
        )
        .run(
          n,
          next.state,
          next.state === 'pending' ? next.nextAttemptAt : null,
          next.state === 'pending' ? null : attempt.at,
          id,
        );
      if (next.state !== 'pending') this.prune(row.webhook_id);
    })();
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

  /** Only the most recent finished deliveries of a webhook are kept. */
  private prune(webhookId: string): void {
    this.db
      .prepare(
        `DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries WHERE webhook_id = ? AND state != 'pending'
           ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)`,
      )
      .run(webhookId, this.limits.keepFinished);
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
