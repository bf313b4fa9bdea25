import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Insertable, Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { AUDIT_OUTCOMES } from '../../contracts/audit.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { AuditLogTable } from '../storage/sql/schema.js';
import type { StateDatabase } from '../storage/sql/state-database.js';

export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export type ActorType = 'user' | 'token' | 'device' | 'system' | 'anonymous';

export interface AuditEntryInput {
  requestId?: string | null;
  actor: { type: ActorType; id?: string | null; name?: string | null; roles?: readonly string[] | null };
  action: string;
  target?: { type: string; id: string | null } | null;
  before?: unknown;
  after?: unknown;
  outcome: AuditOutcome;
  status?: number | null;
  address?: string | null;
  detail?: unknown;
}

export interface AuditEntry {
  id: number;
  at: string;
  requestId: string | null;
  actorType: ActorType;
  actorId: string | null;
  actorName: string | null;
  actorRoles: string[];
  action: string;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  outcome: AuditOutcome;
  status: number | null;
  address: string | null;
  detail: unknown;
}

export interface AuditFilter {
  from?: number | undefined;
  to?: number | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  outcome?: AuditOutcome | undefined;
  requestId?: string | undefined;
}

type Row = Selectable<AuditLogTable>;

const SECRET_KEY = /password|secret|token|hash/i;

/** Summaries never carry credentials, whatever a caller hands in. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1),
    ]),
  );
}

/** A stored summary (before, after, detail) longer than this is replaced by its size. */
const JSON_MAX = 16 * 1024;
/** Names, ids and addresses are cut to this. */
const TEXT_MAX = 256;

const json = (value: unknown) => {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(redact(value));
  return text.length <= JSON_MAX ? text : JSON.stringify({ truncated: true, chars: text.length });
};
/** Cuts a string someone else chose to a bounded length, saying how long it was. */
export function bounded(value: string, max = TEXT_MAX): string {
  return value.length <= max ? value : `${value.slice(0, max)}…(${value.length} chars)`;
}
// NUL is replaced: PostgreSQL's text refuses it, and a device's username may carry one.
const text = (value: string | null | undefined) =>
  value === undefined || value === null ? null : bounded(value).replaceAll('\u0000', '\uFFFD');
const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** Entries written in one INSERT: 16 parameters each, well within either engine's limit. */
const BATCH = 500;
/** Entries waiting for the store are kept up to this many characters (an outage of hours). */
const DEFAULT_MAX_PENDING_CHARS = 64 * 1024 * 1024;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * A write refused for what the entry holds (a constraint, a value the column cannot take), as
 * opposed to a store that cannot be reached or written now; such an entry would be refused forever.
 */
function entryRefused(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  // SQLite's constraint codes; PostgreSQL's SQLSTATE classes 22 (data exception) and 23 (integrity).
  return (
    code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || /^2[23][0-9A-Z]{3}$/.test(code)
  );
}

function sizeOf(row: Insertable<AuditLogTable>): number {
  let chars = 64;
  for (const value of Object.values(row)) if (typeof value === 'string') chars += value.length;
  return chars;
}

export interface AuditLogOptions {
  /** Entries waiting for the store are kept up to this many characters; beyond, new ones are refused. */
  maxPendingChars?: number;
}

/**
 * Who did what to which record, when, from where and with what outcome: every state-changing
 * request and every device-side security event. Append-only.
 *
 * Recording never waits and never fails the action it records: an entry takes its time at once
 * and joins a queue that is written in order, in batches, through the query layer. When the store
 * cannot take them (PostgreSQL unreachable, a full disk) the entries stay queued and the write is
 * tried again with a growing delay, so an outage delays entries but loses none, up to
 * maxPendingChars; reads wait for the entries recorded before them.
 */
export class AuditLog {
  private pending: Insertable<AuditLogTable>[] = [];
  private pendingChars = 0;
  /** Entries accepted, and entries settled (written, or refused by the store for their content). */
  private accepted = 0;
  private settled = 0;
  private flushing: Promise<void> | null = null;
  private retryTimer: TimerHandle | null = null;
  private retryMs = RETRY_MIN_MS;
  private failures = 0;
  private lost = 0;
  private failureLoggedAt = Number.NEGATIVE_INFINITY;
  private readonly maxPendingChars: number;

  constructor(
    private readonly state: StateDatabase,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: AuditLogOptions = {},
  ) {
    this.maxPendingChars = options.maxPendingChars ?? DEFAULT_MAX_PENDING_CHARS;
  }

  record(entry: AuditEntryInput): void {
    // Every field is bounded: names, ids and topics come from whoever is being refused.
    const row: Insertable<AuditLogTable> = {
      at: this.clock.now(),
      request_id: text(entry.requestId),
      actor_type: entry.actor.type,
      actor_id: text(entry.actor.id),
      actor_name: text(entry.actor.name),
      actor_roles: entry.actor.roles ? json(entry.actor.roles) : null,
      action: text(entry.action) as string,
      target_type: text(entry.target?.type),
      target_id: text(entry.target?.id),
      before: json(entry.before),
      after: json(entry.after),
      outcome: entry.outcome,
      status: entry.status ?? null,
      address: text(entry.address),
      detail: json(entry.detail),
    };
    const chars = sizeOf(row);
    if (this.pendingChars + chars > this.maxPendingChars) {
      // The store has been away so long the queue is full: the oldest entries are kept.
      this.lost++;
      this.failed(new Error('audit queue full while the store is unavailable'), row.action);
      return;
    }
    this.pending.push(row);
    this.pendingChars += chars;
    this.accepted++;
    if (!this.retryTimer) this.startFlush();
  }

  private startFlush(): void {
    if (this.flushing) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
      // Entries recorded while the last batch was being written.
      if (this.pending.length > 0 && !this.retryTimer) this.startFlush();
    });
  }

  /** Writes the queue in order, a batch at a time; on failure leaves the rest queued and retries later. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, BATCH);
      try {
        try {
          await this.state.db.insertInto('audit_log').values(batch).execute();
          this.settle(batch.length);
        } catch (error) {
          if (!entryRefused(error)) throw error;
          await this.writeOneByOne(batch);
        }
      } catch (error) {
        this.failed(error, batch[0]?.action);
        this.scheduleRetry();
        return;
      }
    }
    this.retryMs = RETRY_MIN_MS;
  }

  /** A batch the store refused for its content: each entry alone, dropping (and counting) the bad ones. */
  private async writeOneByOne(batch: Insertable<AuditLogTable>[]): Promise<void> {
    for (const row of batch) {
      try {
        await this.state.db.insertInto('audit_log').values(row).execute();
      } catch (error) {
        if (!entryRefused(error)) throw error;
        this.lost++;
        this.failed(error, row.action);
      }
      this.settle(1);
    }
  }

  private settle(count: number): void {
    for (const row of this.pending.splice(0, count)) this.pendingChars -= sizeOf(row);
    this.settled += count;
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.startFlush();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /**
   * The action already happened; not storing its record yet is serious but must not undo it.
   * Counted always, logged once a minute (a full disk or a lost database fails every write).
   */
  private failed(error: unknown, action: string | undefined): void {
    this.failures++;
    const now = this.clock.now();
    if (now - this.failureLoggedAt >= 60_000) {
      this.failureLoggedAt = now;
      this.logger.error(
        { err: error, action, failures: this.failures, queued: this.pending.length, lost: this.lost },
        'could not write audit entries; queued entries are tried again',
      );
    }
  }

  /**
   * Resolves once every entry recorded before the call is stored, or as soon as the store is found
   * unavailable (the entries stay queued for the next try).
   */
  async flushed(): Promise<void> {
    const target = this.accepted;
    while (this.settled < target && this.flushing) await this.flushing;
  }

  /** Tries to write the queue now, whatever the retry delay; true when nothing is left queued. */
  async flush(): Promise<boolean> {
    if (this.retryTimer) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.startFlush();
    await this.flushed();
    return this.pending.length === 0;
  }

  /** Writes what is queued before the platform stops; what the store still refuses is logged as lost. */
  async stop(): Promise<void> {
    if (await this.flush()) return;
    if (this.retryTimer) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.logger.error(
      { lost: this.pending.length, first: this.pending[0]?.at, last: this.pending.at(-1)?.at },
      'audit entries could not be written before stopping and are lost',
    );
  }

  /** Failed write attempts and entries lost (a full queue, an entry the store refused). */
  get writeFailures(): number {
    return this.failures;
  }

  /** Entries recorded but not stored yet. */
  get queued(): number {
    return this.pending.length;
  }

  /**
   * Retention: entries older than `before` are appended to a gzip file of JSON lines in
   * `archiveDir` (owner-readable, one gzip member per batch, so `zcat` reads it whole), then
   * deleted. Returns how many were archived and where.
   */
  async prune(before: number, archiveDir: string): Promise<{ archived: number; file: string | null }> {
    await this.flushed();
    const { db } = this.state;
    let archived = 0;
    let file: string | null = null;
    for (;;) {
      const rows = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('at', '<', before)
        .orderBy('id')
        .limit(5000)
        .execute();
      if (rows.length === 0) break;
      if (!file) {
        mkdirSync(archiveDir, { recursive: true, mode: 0o700 });
        file = join(archiveDir, `audit-before-${new Date(before).toISOString().slice(0, 10)}.jsonl.gz`);
      }
      const lines = rows.map((row) => JSON.stringify(toEntry(row))).join('\n');
      // Written (and synced by the OS) before the rows go: an entry is never only in neither place.
      appendFileSync(file, gzipSync(`${lines}\n`), { mode: 0o600 });
      await db
        .deleteFrom('audit_log')
        .where('at', '<', before)
        .where('id', '<=', (rows[rows.length - 1] as Row).id)
        .execute();
      archived += rows.length;
    }
    if (archived > 0)
      this.logger.info({ archived, file }, 'audit entries past retention archived and removed');
    return { archived, file };
  }

  /** Entries matching `filter`, newest first; waits for the entries recorded before it. */
  async query(
    filter: AuditFilter,
    page: { limit: number; offset: number },
  ): Promise<{ items: AuditEntry[]; total: number }> {
    await this.flushed();
    const matching = this.state.db.selectFrom('audit_log').where((eb) => {
      const clauses = [];
      if (filter.from !== undefined) clauses.push(eb('at', '>=', filter.from));
      if (filter.to !== undefined) clauses.push(eb('at', '<=', filter.to));
      if (filter.actor !== undefined)
        clauses.push(eb.or([eb('actor_id', '=', filter.actor), eb('actor_name', '=', filter.actor)]));
      if (filter.action !== undefined) clauses.push(eb('action', '=', filter.action));
      if (filter.targetType !== undefined) clauses.push(eb('target_type', '=', filter.targetType));
      if (filter.targetId !== undefined) clauses.push(eb('target_id', '=', filter.targetId));
      if (filter.outcome !== undefined) clauses.push(eb('outcome', '=', filter.outcome));
      if (filter.requestId !== undefined) clauses.push(eb('request_id', '=', filter.requestId));
      return eb.and(clauses);
    });
    const rows = await matching
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const { n } = await matching.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { items: rows.map(toEntry), total: Number(n) };
  }
}

function toEntry(row: Row): AuditEntry {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    requestId: row.request_id,
    actorType: row.actor_type as ActorType,
    actorId: row.actor_id,
    actorName: row.actor_name,
    actorRoles: row.actor_roles ? (JSON.parse(row.actor_roles) as string[]) : [],
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    before: parse(row.before),
    after: parse(row.after),
    outcome: row.outcome as AuditOutcome,
    status: row.status,
    address: row.address,
    detail: parse(row.detail),
  };
}
