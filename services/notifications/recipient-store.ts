import { randomBytes } from 'node:crypto';
import type { Severity } from '../../contracts/alarms.js';
import type {
  Contact,
  ContactCreate,
  ContactPatch,
  NoticeKind,
  NotifyChannel,
  QuietHours,
  Rule,
  RuleCreate,
  RulePatch,
  Settings,
} from '../../contracts/notifications.js';
import { NotFoundError } from '../errors.js';
import { type CommuneFilter, communeConditions, type Page, type Paged } from '../registry/registry-store.js';
import type { Db } from '../storage/database.js';
import { isoTime } from '../time.js';

/** Until a commune sets its own: no quiet hours, criticals at once, a message per recipient per 10 min. */
export const DEFAULT_SETTINGS: Omit<Settings, 'communeId' | 'custom'> = {
  quietHours: null,
  criticalBypassesQuiet: true,
  digestWindowMin: 10,
};

/** A recipient as routing and sending use it. */
export interface ContactRecord {
  id: string;
  communeId: string;
  name: string;
  email: string | null;
  telegramChatId: string | null;
  zaloUserId: string | null;
  villageHead: boolean;
  villageId: string | null;
  quietHours: QuietHours | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface RuleRecord {
  id: string;
  communeId: string;
  name: string;
  kinds: NoticeKind[];
  minSeverity: Severity;
  contactIds: string[];
  villageHeads: boolean;
  channels: NotifyChannel[];
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

interface ContactRow {
  id: string;
  commune_id: string;
  name: string;
  email: string | null;
  telegram_chat_id: string | null;
  zalo_user_id: string | null;
  village_head: number;
  village_id: string | null;
  quiet_start: string | null;
  quiet_end: string | null;
  enabled: number;
  created_at: number;
  updated_at: number;
}

interface RuleRow {
  id: string;
  commune_id: string;
  name: string;
  kinds: string;
  min_severity: Severity;
  contact_ids: string;
  village_heads: number;
  channels: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

const quietOf = (start: string | null, end: string | null): QuietHours | null =>
  start !== null && end !== null ? { start, end } : null;

const toContact = (r: ContactRow): ContactRecord => ({
  id: r.id,
  communeId: r.commune_id,
  name: r.name,
  email: r.email,
  telegramChatId: r.telegram_chat_id,
  zaloUserId: r.zalo_user_id,
  villageHead: r.village_head === 1,
  villageId: r.village_id,
  quietHours: quietOf(r.quiet_start, r.quiet_end),
  enabled: r.enabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRule = (r: RuleRow): RuleRecord => ({
  id: r.id,
  communeId: r.commune_id,
  name: r.name,
  kinds: JSON.parse(r.kinds) as NoticeKind[],
  minSeverity: r.min_severity,
  contactIds: JSON.parse(r.contact_ids) as string[],
  villageHeads: r.village_heads === 1,
  channels: JSON.parse(r.channels) as NotifyChannel[],
  enabled: r.enabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const contactView = (c: ContactRecord): Contact => ({
  ...c,
  createdAt: isoTime(c.createdAt),
  updatedAt: isoTime(c.updatedAt),
});

export const ruleView = (r: RuleRecord): Rule => ({
  ...r,
  createdAt: isoTime(r.createdAt),
  updatedAt: isoTime(r.updatedAt),
});

/** A commune may keep at most this many recipients and rules: every stored list is bounded. */
export const MAX_CONTACTS_PER_COMMUNE = 500;
export const MAX_RULES_PER_COMMUNE = 100;

/** Each commune's recipients, routing rules and notification settings, on SQLite (migration 0022). */
export class RecipientStore {
  constructor(private readonly db: Db) {}

  listContacts(filter: CommuneFilter, page: Page): Paged<ContactRecord> {
    const { clauses, params } = communeConditions('commune_id', filter);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.db
      .prepare(
        `SELECT * FROM notification_contacts ${where} ORDER BY commune_id, name, id LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, ...page }) as ContactRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM notification_contacts ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map(toContact), total: n, ...page };
  }

  contactsOf(communeId: string): ContactRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM notification_contacts WHERE commune_id = ? ORDER BY name, id')
        .all(communeId) as ContactRow[]
    ).map(toContact);
  }

  findContact(id: string): ContactRecord | null {
    const row = this.db.prepare('SELECT * FROM notification_contacts WHERE id = ?').get(id) as
      | ContactRow
      | undefined;
    return row ? toContact(row) : null;
  }

  getContact(id: string): ContactRecord {
    const found = this.findContact(id);
    if (!found) throw new NotFoundError('contact', id);
    return found;
  }

  countContacts(communeId: string): number {
    return (
      this.db
        .prepare('SELECT COUNT(*) AS n FROM notification_contacts WHERE commune_id = ?')
        .get(communeId) as {
        n: number;
      }
    ).n;
  }

  createContact(input: ContactCreate, now: number): ContactRecord {
    const id = `nc-${randomBytes(5).toString('hex')}`;
    this.db
      .prepare(
        `INSERT INTO notification_contacts (id, commune_id, name, email, telegram_chat_id, zalo_user_id, village_head,
           village_id, quiet_start, quiet_end, enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.communeId,
        input.name,
        input.email ?? null,
        input.telegramChatId ?? null,
        input.zaloUserId ?? null,
        input.villageHead ? 1 : 0,
        input.villageId ?? null,
        input.quietHours?.start ?? null,
        input.quietHours?.end ?? null,
        input.enabled === false ? 0 : 1,
        now,
        now,
      );
    return this.getContact(id);
  }

  updateContact(id: string, patch: ContactPatch, now: number): ContactRecord {
    const current = this.getContact(id);
    const next = { ...current, ...patch };
    this.db
      .prepare(
        `UPDATE notification_contacts SET name = ?, email = ?, telegram_chat_id = ?, zalo_user_id = ?, village_head = ?,
           village_id = ?, quiet_start = ?, quiet_end = ?, enabled = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        next.name,
        next.email ?? null,
        next.telegramChatId ?? null,
        next.zaloUserId ?? null,
        next.villageHead ? 1 : 0,
        next.villageId ?? null,
        next.quietHours?.start ?? null,
        next.quietHours?.end ?? null,
        next.enabled === false ? 0 : 1,
        now,
        id,
      );
    return this.getContact(id);
  }

  /** Removes a recipient and its name from every rule of its commune. */
  deleteContact(id: string, now: number): void {
    const contact = this.getContact(id);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM notification_contacts WHERE id = ?').run(id);
      for (const rule of this.rulesOf(contact.communeId).filter((r) => r.contactIds.includes(id)))
        this.db
          .prepare('UPDATE notification_rules SET contact_ids = ?, updated_at = ? WHERE id = ?')
          .run(JSON.stringify(rule.contactIds.filter((c) => c !== id)), now, rule.id);
    })();
  }

  listRules(filter: CommuneFilter, page: Page): Paged<RuleRecord> {
    const { clauses, params } = communeConditions('commune_id', filter);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.db
      .prepare(
        `SELECT * FROM notification_rules ${where} ORDER BY commune_id, name, id LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, ...page }) as RuleRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM notification_rules ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map(toRule), total: n, ...page };
  }

  rulesOf(communeId: string): RuleRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM notification_rules WHERE commune_id = ? ORDER BY name, id')
        .all(communeId) as RuleRow[]
    ).map(toRule);
  }

  getRule(id: string): RuleRecord {
    const row = this.db.prepare('SELECT * FROM notification_rules WHERE id = ?').get(id) as
      | RuleRow
      | undefined;
    if (!row) throw new NotFoundError('rule', id);
    return toRule(row);
  }

  countRules(communeId: string): number {
    return (
      this.db.prepare('SELECT COUNT(*) AS n FROM notification_rules WHERE commune_id = ?').get(communeId) as {
        n: number;
      }
    ).n;
  }

  createRule(input: RuleCreate, now: number): RuleRecord {
    const id = `nr-${randomBytes(5).toString('hex')}`;
    this.db
      .prepare(
        `INSERT INTO notification_rules (id, commune_id, name, kinds, min_severity, contact_ids, village_heads, channels,
           enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.communeId,
        input.name,
        JSON.stringify([...new Set(input.kinds ?? [])]),
        input.minSeverity ?? 'warning',
        JSON.stringify([...new Set(input.contactIds ?? [])]),
        input.villageHeads ? 1 : 0,
        JSON.stringify([...new Set(input.channels)]),
        input.enabled === false ? 0 : 1,
        now,
        now,
      );
    return this.getRule(id);
  }

  updateRule(id: string, patch: RulePatch, now: number): RuleRecord {
    const next = { ...this.getRule(id), ...patch };
    this.db
      .prepare(
        `UPDATE notification_rules SET name = ?, kinds = ?, min_severity = ?, contact_ids = ?, village_heads = ?,
           channels = ?, enabled = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        next.name,
        JSON.stringify([...new Set(next.kinds)]),
        next.minSeverity,
        JSON.stringify([...new Set(next.contactIds)]),
        next.villageHeads ? 1 : 0,
        JSON.stringify([...new Set(next.channels)]),
        next.enabled ? 1 : 0,
        now,
        id,
      );
    return this.getRule(id);
  }

  deleteRule(id: string): void {
    if (this.db.prepare('DELETE FROM notification_rules WHERE id = ?').run(id).changes === 0)
      throw new NotFoundError('rule', id);
  }

  settings(communeId: string): Settings {
    const row = this.db.prepare('SELECT * FROM notification_settings WHERE commune_id = ?').get(communeId) as
      | {
          quiet_start: string | null;
          quiet_end: string | null;
          critical_bypasses_quiet: number;
          digest_window_min: number;
        }
      | undefined;
    if (!row) return { communeId, ...DEFAULT_SETTINGS, custom: false };
    return {
      communeId,
      quietHours: quietOf(row.quiet_start, row.quiet_end),
      criticalBypassesQuiet: row.critical_bypasses_quiet === 1,
      digestWindowMin: row.digest_window_min,
      custom: true,
    };
  }

  setSettings(settings: Omit<Settings, 'custom'>, by: string | null, now: number): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO notification_settings (commune_id, quiet_start, quiet_end, critical_bypasses_quiet,
           digest_window_min, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        settings.communeId,
        settings.quietHours?.start ?? null,
        settings.quietHours?.end ?? null,
        settings.criticalBypassesQuiet ? 1 : 0,
        settings.digestWindowMin,
        by,
        now,
      );
  }
}
