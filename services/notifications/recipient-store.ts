import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Logger } from 'pino';
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
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { NotificationContactsTable } from '../storage/sql/schema.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { isoTime } from '../time.js';
import { recipientCopy } from './recipient-copy.js';

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

type ContactRow = Selectable<NotificationContactsTable>;

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

/** A committed change to a commune's recipients, rules or settings, whoever made it. */
export interface RecipientChange {
  entity: 'contact' | 'rule' | 'settings';
  /** The contact's or rule's id; the commune's for its settings. */
  id: string;
  change: TableTouch['change'];
}

const ENTITY_OF: Record<string, RecipientChange['entity']> = {
  notification_contacts: 'contact',
  notification_rules: 'rule',
  notification_settings: 'settings',
};

export interface RecipientStoreOptions {
  /** The platform's SQLite file: the recipients themselves, or their read copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL. */
  state: StateDatabase;
  logger: Logger;
  onChange?: (change: RecipientChange) => void;
}

/**
 * Each commune's recipients, routing rules and notification settings. Reads are answered from the
 * platform's SQLite file (every notice is routed from it); writes go through the query layer, to
 * that file or to PostgreSQL, whose changes every instance copies into its file (recipient-copy.ts).
 */
export class RecipientStore {
  private readonly db: Db;
  private readonly state: StateDatabase;
  private readonly onChange: (change: RecipientChange) => void;
  private readonly copy: TableCopy;

  constructor(options: RecipientStoreOptions) {
    this.db = options.db;
    this.state = options.state;
    this.onChange = options.onChange ?? (() => undefined);
    this.copy = recipientCopy(options.db, options.state, options.logger);
  }

  /** With PostgreSQL: fills this instance's copy, then follows the other instances' changes. */
  async start(): Promise<void> {
    await this.copy.start((touch) => this.told(touch));
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  private told(touch: TableTouch): void {
    const entity = ENTITY_OF[touch.table];
    if (entity && !touch.quiet) this.onChange({ entity, id: touch.id, change: touch.change });
  }

  /**
   * One write in one transaction of the query layer, announced to the other instances when it
   * commits, then copied here (with PostgreSQL) before anyone reads it, and told to onChange.
   * `work` tells `touched` of more records it changed, found as it went.
   */
  private async write(
    touches: readonly TableTouch[],
    work: (trx: StateTransaction, touched: (touch: TableTouch) => void) => Promise<unknown>,
  ): Promise<void> {
    const all = [...touches];
    await translateConstraintAsync(
      {
        duplicateId: 'a record with this id already exists',
        reference: 'the commune or village named does not exist',
      },
      () =>
        this.state.transaction(async (trx) => {
          all.splice(touches.length);
          await work(trx, (touch) => all.push(touch));
          for (const touch of all) await this.copy.announce(trx, touch);
        }),
    );
    for (const touch of all) await this.copy.copy(touch);
    for (const touch of all) this.told(touch);
  }

  /**
   * A record a write depends on: read here, and with PostgreSQL copied from there once more before
   * it is called missing, since another instance may have written it a moment ago.
   */
  private async present<T>(table: string, id: string, read: () => T): Promise<T> {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof NotFoundError) || !this.copy.remote) throw error;
      await this.copy.copy({ table, id });
      return read();
    }
  }

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

  async createContact(input: ContactCreate, now: number): Promise<ContactRecord> {
    const id = `nc-${randomBytes(5).toString('hex')}`;
    await this.write([{ table: 'notification_contacts', id, change: 'created' }], (trx) =>
      trx
        .insertInto('notification_contacts')
        .values({
          id,
          commune_id: input.communeId,
          name: input.name,
          email: input.email ?? null,
          telegram_chat_id: input.telegramChatId ?? null,
          zalo_user_id: input.zaloUserId ?? null,
          village_head: input.villageHead ? 1 : 0,
          village_id: input.villageId ?? null,
          quiet_start: input.quietHours?.start ?? null,
          quiet_end: input.quietHours?.end ?? null,
          enabled: input.enabled === false ? 0 : 1,
          created_at: now,
          updated_at: now,
        })
        .execute(),
    );
    return this.getContact(id);
  }

  async updateContact(id: string, patch: ContactPatch, now: number): Promise<ContactRecord> {
    const current = await this.present('notification_contacts', id, () => this.getContact(id));
    const next = { ...current, ...patch };
    await this.write([{ table: 'notification_contacts', id, change: 'updated' }], (trx) =>
      trx
        .updateTable('notification_contacts')
        .set({
          name: next.name,
          email: next.email ?? null,
          telegram_chat_id: next.telegramChatId ?? null,
          zalo_user_id: next.zaloUserId ?? null,
          village_head: next.villageHead ? 1 : 0,
          village_id: next.villageId ?? null,
          quiet_start: next.quietHours?.start ?? null,
          quiet_end: next.quietHours?.end ?? null,
          enabled: next.enabled === false ? 0 : 1,
          updated_at: now,
        })
        .where('id', '=', id)
        .execute(),
    );
    return this.getContact(id);
  }

  /** Removes a recipient and its name from every rule of its commune. */
  async deleteContact(id: string, now: number): Promise<void> {
    const contact = await this.present('notification_contacts', id, () => this.getContact(id));
    // The rules naming it are read where they are written, in the same transaction.
    await this.write([{ table: 'notification_contacts', id, change: 'deleted' }], async (trx, touched) => {
      await trx.deleteFrom('notification_contacts').where('id', '=', id).execute();
      const rules = await trx
        .selectFrom('notification_rules')
        .select(['id', 'contact_ids'])
        .where('commune_id', '=', contact.communeId)
        .execute();
      for (const rule of rules) {
        const contactIds = JSON.parse(rule.contact_ids) as string[];
        if (!contactIds.includes(id)) continue;
        touched({ table: 'notification_rules', id: rule.id, change: 'updated' });
        await trx
          .updateTable('notification_rules')
          .set({ contact_ids: JSON.stringify(contactIds.filter((c) => c !== id)), updated_at: now })
          .where('id', '=', rule.id)
          .execute();
      }
    });
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

  async createRule(input: RuleCreate, now: number): Promise<RuleRecord> {
    const id = `nr-${randomBytes(5).toString('hex')}`;
    await this.write([{ table: 'notification_rules', id, change: 'created' }], (trx) =>
      trx
        .insertInto('notification_rules')
        .values({
          id,
          commune_id: input.communeId,
          name: input.name,
          kinds: JSON.stringify([...new Set(input.kinds ?? [])]),
          min_severity: input.minSeverity ?? 'warning',
          contact_ids: JSON.stringify([...new Set(input.contactIds ?? [])]),
          village_heads: input.villageHeads ? 1 : 0,
          channels: JSON.stringify([...new Set(input.channels)]),
          enabled: input.enabled === false ? 0 : 1,
          created_at: now,
          updated_at: now,
        })
        .execute(),
    );
    return this.getRule(id);
  }

  async updateRule(id: string, patch: RulePatch, now: number): Promise<RuleRecord> {
    const next = { ...(await this.present('notification_rules', id, () => this.getRule(id))), ...patch };
    await this.write([{ table: 'notification_rules', id, change: 'updated' }], (trx) =>
      trx
        .updateTable('notification_rules')
        .set({
          name: next.name,
          kinds: JSON.stringify([...new Set(next.kinds)]),
          min_severity: next.minSeverity,
          contact_ids: JSON.stringify([...new Set(next.contactIds)]),
          village_heads: next.villageHeads ? 1 : 0,
          channels: JSON.stringify([...new Set(next.channels)]),
          enabled: next.enabled ? 1 : 0,
          updated_at: now,
        })
        .where('id', '=', id)
        .execute(),
    );
    return this.getRule(id);
  }

  async deleteRule(id: string): Promise<void> {
    await this.present('notification_rules', id, () => this.getRule(id));
    await this.write([{ table: 'notification_rules', id, change: 'deleted' }], (trx) =>
      trx.deleteFrom('notification_rules').where('id', '=', id).execute(),
    );
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

  async setSettings(settings: Omit<Settings, 'custom'>, by: string | null, now: number): Promise<void> {
    const { communeId } = settings;
    const change = this.settings(communeId).custom ? 'updated' : 'created';
    const row = {
      commune_id: communeId,
      quiet_start: settings.quietHours?.start ?? null,
      quiet_end: settings.quietHours?.end ?? null,
      critical_bypasses_quiet: settings.criticalBypassesQuiet ? 1 : 0,
      digest_window_min: settings.digestWindowMin,
      updated_by: by,
      updated_at: now,
    };
    const { commune_id: _, ...values } = row;
    await this.write([{ table: 'notification_settings', id: communeId, change }], (trx) =>
      trx
        .insertInto('notification_settings')
        .values(row)
        .onConflict((oc) => oc.column('commune_id').doUpdateSet(values))
        .execute(),
    );
  }
}
