import type { Logger } from 'pino';
import type { Clock } from '../../devices/index.js';
import type { Db } from '../storage/database.js';

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
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

const json = (value: unknown) =>
  value === undefined || value === null ? null : JSON.stringify(redact(value));
const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/**
 * Who did what to which record, when, from where and with what outcome: every state-changing
 * request and every device-side security event. Append-only.
 */
export class AuditLog {
  private readonly insert;
  private failures = 0;

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
      this.insert.run({
        at: this.clock.now(),
        requestId: entry.requestId ?? null,
        actorType: entry.actor.type,
        actorId: entry.actor.id ?? null,
        actorName: entry.actor.name ?? null,
        actorRoles: entry.actor.roles ? JSON.stringify(entry.actor.roles) : null,
        action: entry.action,
        targetType: entry.target?.type ?? null,
        targetId: entry.target?.id ?? null,
        before: json(entry.before),
        after: json(entry.after),
        outcome: entry.outcome,
        status: entry.status ?? null,
        address: entry.address ?? null,
        detail: json(entry.detail),
      });
    } catch (error) {
      // The action already happened; losing its record is serious but must not undo it.
      this.failures++;
      this.logger.error(
        { err: error, action: entry.action, failures: this.failures },
        'could not write audit entry',
      );
    }
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
