import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { AUDIT_OUTCOMES } from '../../contracts/audit.js';
import type { Clock } from '../../devices/index.js';
import type { Db } from '../storage/database.js';

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

interface Row {
  id: number;
  at: number;
  request_id: string | null;
  actor_type: ActorType;
  actor_id: string | null;
  actor_name: string | null;
  actor_roles: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: string | null;
  after: string | null;
  outcome: AuditOutcome;
  status: number | null;
  address: string | null;
  detail: string | null;
}

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
const text = (value: string | null | undefined) =>
  value === undefined || value === null ? null : bounded(value);
const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/**
 * Who did what to which record, when, from where and with what outcome: every state-changing
 * request and every device-side security event. Append-only.
 */
export class AuditLog {
  private readonly insert;
  private failures = 0;
  private failureLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.insert = db.prepare(
      `INSERT INTO audit_log (at, request_id, actor_type, actor_id, actor_name, actor_roles, action, target_type,
         target_id, before, after, outcome, status, address, detail)
       VALUES (@at, @requestId, @actorType, @actorId, @actorName, @actorRoles, @action, @targetType, @targetId,
         @before, @after, @outcome, @status, @address, @detail)`,
    );
  }

  record(entry: AuditEntryInput): void {
    try {
      // Every field is bounded: names, ids and topics come from whoever is being refused.
      this.insert.run({
        at: this.clock.now(),
        requestId: text(entry.requestId),
        actorType: entry.actor.type,
        actorId: text(entry.actor.id),
        actorName: text(entry.actor.name),
        actorRoles: entry.actor.roles ? json(entry.actor.roles) : null,
        action: text(entry.action) as string,
        targetType: text(entry.target?.type),
        targetId: text(entry.target?.id),
        before: json(entry.before),
        after: json(entry.after),
        outcome: entry.outcome,
        status: entry.status ?? null,
        address: text(entry.address),
        detail: json(entry.detail),
      });
    } catch (error) {
      // The action already happened; losing its record is serious but must not undo it. Counted
      // always, logged once a minute (a full disk fails every write).
      this.failures++;
      const now = this.clock.now();
      if (now - this.failureLoggedAt >= 60_000) {
        this.failureLoggedAt = now;
        this.logger.error(
          { err: error, action: text(entry.action), failures: this.failures },
          'could not write audit entry',
        );
      }
    }
  }

  /**
   * Retention: entries older than `before` are appended to a gzip file of JSON lines in
   * `archiveDir` (owner-readable, one gzip member per batch, so `zcat` reads it whole), then
   * deleted. Returns how many were archived and where.
   */
  prune(before: number, archiveDir: string): { archived: number; file: string | null } {
    const select = this.db.prepare('SELECT * FROM audit_log WHERE at < ? ORDER BY id LIMIT 5000');
    const remove = this.db.prepare('DELETE FROM audit_log WHERE at < ? AND id <= ?');
    let archived = 0;
    let file: string | null = null;
    for (;;) {
      const rows = select.all(before) as Row[];
      if (rows.length === 0) break;
      if (!file) {
        mkdirSync(archiveDir, { recursive: true, mode: 0o700 });
        file = join(archiveDir, `audit-before-${new Date(before).toISOString().slice(0, 10)}.jsonl.gz`);
      }
      const lines = rows.map((row) => JSON.stringify(toEntry(row))).join('\n');
      // Written (and synced by the OS) before the rows go: an entry is never only in neither place.
      appendFileSync(file, gzipSync(`${lines}\n`), { mode: 0o600 });
      remove.run(before, (rows[rows.length - 1] as Row).id);
      archived += rows.length;
    }
    if (archived > 0)
      this.logger.info({ archived, file }, 'audit entries past retention archived and removed');
    return { archived, file };
  }

  get writeFailures(): number {
    return this.failures;
  }

  query(
    filter: AuditFilter,
    page: { limit: number; offset: number },
  ): { items: AuditEntry[]; total: number } {
    const { where, params } = this.where(filter);
    const rows = this.db
      .prepare(`SELECT * FROM audit_log ${where} ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, ...page }) as Row[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM audit_log ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map(toEntry), total: n };
  }

  private where(filter: AuditFilter): { where: string; params: Record<string, unknown> } {
    const clauses: string[] = [];
    const params: Record<string, unknown> = {};
    const add = (clause: string, key: string, value: unknown) => {
      if (value === undefined) return;
      clauses.push(clause);
      params[key] = value;
    };
    add('at >= @from', 'from', filter.from);
    add('at <= @to', 'to', filter.to);
    add('(actor_id = @actor OR actor_name = @actor)', 'actor', filter.actor);
    add('action = @action', 'action', filter.action);
    add('target_type = @targetType', 'targetType', filter.targetType);
    add('target_id = @targetId', 'targetId', filter.targetId);
    add('outcome = @outcome', 'outcome', filter.outcome);
    add('request_id = @requestId', 'requestId', filter.requestId);
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }
}

function toEntry(row: Row): AuditEntry {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    requestId: row.request_id,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    actorRoles: row.actor_roles ? (JSON.parse(row.actor_roles) as string[]) : [],
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    before: parse(row.before),
    after: parse(row.after),
    outcome: row.outcome,
    status: row.status,
    address: row.address,
    detail: parse(row.detail),
  };
}
