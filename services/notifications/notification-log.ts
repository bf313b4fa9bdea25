import { randomBytes } from 'node:crypto';
import type { Severity } from '../../contracts/alarms.js';
import type { Notification, NotificationStatus, NotifyChannel } from '../../contracts/notifications.js';
import type { Page, Paged } from '../registry/registry-store.js';
import type { Db } from '../storage/database.js';
import type { ShippedTable } from '../storage/sql/shipped-log.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import type { AlarmNotice } from './alarm-notices.js';

/** Error texts are a server's or the network's words: bounded like every stored field. */
const MAX_ERROR_CHARS = 500;
/** Stored message bodies are bounded; a digest lists at most DIGEST_MAX_LINES notices anyway. */
const MAX_BODY_CHARS = 8_000;

export type NotificationKind = 'notice' | 'digest' | 'test';

/** A row of the log that is, or becomes, a message to send. */
export interface MessageRow {
  id: string;
  communeId: string;
  kind: NotificationKind;
  contactId: string | null;
  channel: NotifyChannel;
  subject: string;
  body: string;
  attempts: number;
  formedAt: number;
}

/** A notice waiting for its recipient's digest window or quiet hours to end. */
export interface WaitingItem {
  id: string;
  communeId: string;
  contactName: string | null;
  title: string;
  createdAt: number;
}

interface Row {
  id: string;
  commune_id: string;
  kind: NotificationKind;
  notice_id: string | null;
  alarm_id: string | null;
  incident_id: string | null;
  broadcast_id: string | null;
  village_id: string | null;
  change: 'opened' | 'cleared' | null;
  severity: Severity | null;
  contact_id: string | null;
  contact_name: string | null;
  channel: NotifyChannel;
  status: NotificationStatus;
  reason: string | null;
  subject: string;
  title: string;
  body: string;
  digest_id: string | null;
  items: number;
  formed: number;
  attempts: number;
  last_error: string | null;
  due_at: number | null;
  created_at: number;
  formed_at: number | null;
  sent_at: number | null;
}

const newId = () => `nf-${randomBytes(8).toString('hex')}`;

const view = (r: Row): Notification => ({
  id: r.id,
  communeId: r.commune_id,
  kind: r.kind,
  alarmId: r.alarm_id,
  incidentId: r.incident_id,
  broadcastId: r.broadcast_id,
  villageId: r.village_id,
  change: r.change,
  severity: r.severity,
  contactId: r.contact_id,
  contactName: r.contact_name,
  channel: r.channel,
  status: r.status,
  reason: r.reason,
  title: r.title,
  digestId: r.digest_id,
  items: r.items,
  attempts: r.attempts,
  lastError: r.last_error,
  createdAt: isoTime(r.created_at),
  dueAt: r.status === 'queued' ? isoTimeOrNull(r.due_at) : null,
  sentAt: isoTimeOrNull(r.sent_at),
});

/**
 * The notices decided on and the log of every notification, which is the outbox too: a queued row
 * not yet `formed` waits for its recipient's digest window or quiet hours; a formed one is a
 * message (one notice, a digest or a test) sent or retried at `due_at`. On SQLite, so a restart
 * resumes what waits; bounded by age and count (prune).
 */
/**
 * The notification log as shipped to PostgreSQL with DATABASE_URL (shipped-log.ts): queued on the
 * instance that decided a notice, sent by the outbox's holder, read on every instance.
 */
export const NOTIFICATION_LOG_TABLES: readonly ShippedTable[] = [
  {
    name: 'notification_notices',
    key: ['id'],
    columns: ['id', 'ref_id', 'change', 'commune_id', 'held', 'at'],
  },
  {
    name: 'notifications',
    key: ['id'],
    columns: [
      'id',
      'commune_id',
      'kind',
      'notice_id',
      'alarm_id',
      'incident_id',
      'change',
      'severity',
      'contact_id',
      'contact_name',
      'channel',
      'status',
      'reason',
      'subject',
      'title',
      'body',
      'digest_id',
      'items',
      'formed',
      'attempts',
      'last_error',
      'due_at',
      'created_at',
      'formed_at',
      'sent_at',
      'finished_at',
      'broadcast_id',
      'village_id',
    ],
  },
];

export class NotificationLog {
  constructor(private readonly db: Db) {}

  /** Records that an alarm's or outage's change was decided on; false when it already was. */
  recordNotice(notice: AlarmNotice): boolean {
    return (
      this.db
        .prepare(
          'INSERT OR IGNORE INTO notification_notices (id, ref_id, change, commune_id, held, at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          notice.id,
          notice.subject === 'village-outage' ? notice.incidentId : notice.alarmId,
          notice.change,
          notice.communeId,
          notice.held ? 1 : 0,
          notice.at,
        ).changes > 0
    );
  }

  /** The decision on an alarm's or outage's change, if one was made. */
  notice(refId: string, change: 'opened' | 'cleared'): { held: boolean } | null {
    const row = this.db
      .prepare('SELECT held FROM notification_notices WHERE ref_id = ? AND change = ?')
      .get(refId, change) as { held: number } | undefined;
    return row ? { held: row.held === 1 } : null;
  }

  /** A notice to one recipient on one channel: suppressed, or queued until `dueAt`. */
  addNotice(input: {
    notice: AlarmNotice;
    contactId: string;
    contactName: string;
    channel: NotifyChannel;
    text: { subject: string; title: string; body: string };
    status: 'queued' | 'suppressed';
    reason: string | null;
    dueAt: number | null;
    now: number;
  }): string {
    const id = newId();
    const { notice, text } = input;
    this.db
      .prepare(
        `INSERT INTO notifications (id, commune_id, kind, notice_id, alarm_id, incident_id, change, severity, contact_id,
           contact_name, channel, status, reason, subject, title, body, due_at, created_at, finished_at)
         VALUES (?, ?, 'notice', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        notice.communeId,
        notice.id,
        notice.alarmId,
        notice.incidentId,
        notice.change,
        notice.severity,
        input.contactId,
        input.contactName,
        input.channel,
        input.status,
        input.reason,
        text.subject,
        text.title,
        text.body.slice(0, MAX_BODY_CHARS),
        input.status === 'queued' ? input.dueAt : null,
        input.now,
        input.status === 'queued' ? null : input.now,
      );
    return id;
  }

  /**
   * Records that a village's reach gap for a broadcast was followed up (automatically or by an
   * operator); false when it already was: each village is told of each broadcast once.
   */
  recordReach(input: {
    noticeId: string;
    broadcastId: string;
    villageId: string;
    communeId: string;
    at: number;
  }): boolean {
    return (
      this.db
        .prepare(
          "INSERT OR IGNORE INTO notification_notices (id, ref_id, change, commune_id, held, at) VALUES (?, ?, 'reach-gap', ?, 0, ?)",
        )
        .run(input.noticeId, `${input.broadcastId}/${input.villageId}`, input.communeId, input.at).changes > 0
    );
  }

  /** A reach-gap follow-up to one recipient on one channel, queued until `dueAt`. */
  addReach(input: {
    noticeId: string;
    communeId: string;
    broadcastId: string;
    villageId: string;
    severity: Severity;
    contactId: string;
    contactName: string;
    channel: NotifyChannel;
    text: { subject: string; title: string; body: string };
    reason: string | null;
    dueAt: number;
    now: number;
  }): string {
    const id = newId();
    this.db
      .prepare(
        `INSERT INTO notifications (id, commune_id, kind, notice_id, broadcast_id, village_id, severity, contact_id,
           contact_name, channel, status, reason, subject, title, body, due_at, created_at)
         VALUES (?, ?, 'notice', ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.communeId,
        input.noticeId,
        input.broadcastId,
        input.villageId,
        input.severity,
        input.contactId,
        input.contactName,
        input.channel,
        input.reason,
        input.text.subject,
        input.text.title,
        input.text.body.slice(0, MAX_BODY_CHARS),
        input.dueAt,
        input.now,
      );
    return id;
  }

  /** A test message, formed and due at once (the caller sends it itself). */
  addTest(input: {
    communeId: string;
    contactId: string;
    contactName: string;
    channel: NotifyChannel;
    text: { subject: string; title: string; body: string };
    now: number;
  }): MessageRow {
    const id = newId();
    this.db
      .prepare(
        `INSERT INTO notifications (id, commune_id, kind, contact_id, contact_name, channel, status, subject, title, body,
           formed, due_at, created_at, formed_at) VALUES (?, ?, 'test', ?, ?, ?, 'queued', ?, ?, ?, 1, NULL, ?, ?)`,
      )
      .run(
        id,
        input.communeId,
        input.contactId,
        input.contactName,
        input.channel,
        input.text.subject,
        input.text.title,
        input.text.body,
        input.now,
        input.now,
      );
    return {
      id,
      communeId: input.communeId,
      kind: 'test',
      contactId: input.contactId,
      channel: input.channel,
      subject: input.text.subject,
      body: input.text.body,
      attempts: 0,
      formedAt: input.now,
    };
  }

  /** When the recipient's last message on the channel was formed (its digest window starts there). */
  lastFormedAt(contactId: string, channel: NotifyChannel): number | null {
    const { at } = this.db
      .prepare(
        "SELECT MAX(formed_at) AS at FROM notifications WHERE contact_id = ? AND channel = ? AND kind <> 'test'",
      )
      .get(contactId, channel) as { at: number | null };
    return at;
  }

  /** Recipients and channels with notices waiting that are due to be gathered by `now`. */
  waitingRecipients(now: number): { contactId: string; channel: NotifyChannel }[] {
    return (
      this.db
        .prepare(
          `SELECT DISTINCT contact_id, channel FROM notifications
           WHERE status = 'queued' AND formed = 0 AND due_at <= ? AND contact_id IS NOT NULL`,
        )
        .all(now) as { contact_id: string; channel: NotifyChannel }[]
    ).map((r) => ({ contactId: r.contact_id, channel: r.channel }));
  }

  /** A recipient's notices waiting on a channel and due by `now`, oldest first. */
  waitingItems(contactId: string, channel: NotifyChannel, now: number): WaitingItem[] {
    return (
      this.db
        .prepare(
          `SELECT id, commune_id, contact_name, title, created_at FROM notifications
           WHERE status = 'queued' AND formed = 0 AND contact_id = ? AND channel = ? AND due_at <= ?
           ORDER BY created_at, id`,
        )
        .all(contactId, channel, now) as Pick<
        Row,
        'id' | 'commune_id' | 'contact_name' | 'title' | 'created_at'
      >[]
    ).map((r) => ({
      id: r.id,
      communeId: r.commune_id,
      contactName: r.contact_name,
      title: r.title,
      createdAt: r.created_at,
    }));
  }

  /** Waiting notices put off to `dueAt` (a message went to the recipient within its window). */
  postpone(ids: readonly string[], dueAt: number): void {
    this.db
      .prepare(
        "UPDATE notifications SET due_at = ?, reason = 'digest-window' WHERE id IN (SELECT value FROM json_each(?))",
      )
      .run(dueAt, JSON.stringify(ids));
  }

  /** A lone waiting notice becomes its own message, due now. */
  formOne(id: string, now: number): void {
    this.db
      .prepare('UPDATE notifications SET formed = 1, formed_at = ?, due_at = ?, reason = NULL WHERE id = ?')
      .run(now, now, id);
  }

  /** Several waiting notices become one digest message, due now; they are logged as digested in it. */
  formDigest(
    items: readonly WaitingItem[],
    recipient: { contactId: string; channel: NotifyChannel },
    text: { subject: string; title: string; body: string },
    now: number,
  ): string {
    const id = newId();
    const first = items[0] as WaitingItem;
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO notifications (id, commune_id, kind, contact_id, contact_name, channel, status, subject, title,
             body, items, formed, due_at, created_at, formed_at)
           VALUES (?, ?, 'digest', ?, ?, ?, 'queued', ?, ?, ?, ?, 1, ?, ?, ?)`,
        )
        .run(
          id,
          first.communeId,
          recipient.contactId,
          first.contactName,
          recipient.channel,
          text.subject,
          text.title,
          text.body.slice(0, MAX_BODY_CHARS),
          items.length,
          now,
          now,
          now,
        );
      this.db
        .prepare(
          `UPDATE notifications SET status = 'suppressed', reason = 'digested', digest_id = ?, due_at = NULL,
             finished_at = ? WHERE id IN (SELECT value FROM json_each(?))`,
        )
        .run(id, now, JSON.stringify(items.map((i) => i.id)));
    })();
    return id;
  }

  /**
   * Beyond `keep` notices waiting for one recipient and channel, the oldest are logged as
   * overflow and not sent: one recipient cannot fill the disk. Returns how many.
   */
  overflow(contactId: string, channel: NotifyChannel, keep: number, now: number): number {
    return this.db
      .prepare(
        `UPDATE notifications SET status = 'suppressed', reason = 'overflow', due_at = NULL, finished_at = @now
         WHERE id IN (SELECT id FROM notifications
           WHERE status = 'queued' AND formed = 0 AND contact_id = @contactId AND channel = @channel
           ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET @keep)`,
      )
      .run({ contactId, channel, keep, now }).changes;
  }

  /** Messages due to be sent by `now`, earliest first. */
  dueMessages(now: number, limit: number): MessageRow[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM notifications WHERE status = 'queued' AND formed = 1 AND due_at <= ?
           ORDER BY due_at, created_at, id LIMIT ?`,
        )
        .all(now, limit) as Row[]
    ).map((r) => ({
      id: r.id,
      communeId: r.commune_id,
      kind: r.kind,
      contactId: r.contact_id,
      channel: r.channel,
      subject: r.subject,
      body: r.body,
      attempts: r.attempts,
      formedAt: r.formed_at ?? r.created_at,
    }));
  }

  /** When anything queued is next due (a gathering, a send or a retry), or null when nothing waits. */
  nextDueAt(): number | null {
    const { at } = this.db
      .prepare("SELECT MIN(due_at) AS at FROM notifications WHERE status = 'queued' AND due_at IS NOT NULL")
      .get() as { at: number | null };
    return at;
  }

  /** A send is under way: not due again until its outcome is recorded. */
  claim(id: string): void {
    this.db.prepare('UPDATE notifications SET due_at = NULL WHERE id = ?').run(id);
  }

  /** Sends under way when the platform stopped are due again at once. */
  releaseClaims(now: number): void {
    this.db
      .prepare(
        "UPDATE notifications SET due_at = ? WHERE status = 'queued' AND formed = 1 AND due_at IS NULL",
      )
      .run(now);
  }

  /** One attempt and what follows: sent, given up, or tried again at `retryAt`. */
  recordAttempt(
    id: string,
    outcome:
      | { state: 'sent' }
      | { state: 'failed'; error: string }
      | { state: 'retry'; error: string; retryAt: number },
    now: number,
  ): void {
    const error = outcome.state === 'sent' ? null : outcome.error.slice(0, MAX_ERROR_CHARS);
    this.db
      .prepare(
        `UPDATE notifications SET attempts = attempts + 1, status = ?, reason = ?, last_error = COALESCE(?, last_error),
           due_at = ?, sent_at = ?, finished_at = ? WHERE id = ?`,
      )
      .run(
        outcome.state === 'retry' ? 'queued' : outcome.state,
        outcome.state === 'retry' ? 'retry' : error,
        error,
        outcome.state === 'retry' ? outcome.retryAt : null,
        outcome.state === 'sent' ? now : null,
        outcome.state === 'retry' ? null : now,
        id,
      );
  }

  /** A removed recipient's queued notices and messages are logged as such and not sent. */
  dropRecipient(contactId: string, now: number): void {
    this.db
      .prepare(
        `UPDATE notifications SET status = 'suppressed', reason = 'recipient-removed', due_at = NULL, finished_at = ?
         WHERE contact_id = ? AND status = 'queued'`,
      )
      .run(now, contactId);
  }

  queuedCount(): number {
    return (
      this.db.prepare("SELECT COUNT(*) AS n FROM notifications WHERE status = 'queued'").get() as {
        n: number;
      }
    ).n;
  }

  get(id: string): Notification | null {
    const row = this.db.prepare('SELECT * FROM notifications WHERE id = ?').get(id) as Row | undefined;
    return row ? view(row) : null;
  }

  /** The log, newest first. */
  list(
    filter: {
      communeIds?: readonly string[] | undefined;
      communeId?: string | undefined;
      alarmId?: string | undefined;
      incidentId?: string | undefined;
      broadcastId?: string | undefined;
      contactId?: string | undefined;
      status?: NotificationStatus | undefined;
    },
    page: Page,
  ): Paged<Notification> {
    const clauses: string[] = [];
    if (filter.communeIds) clauses.push('commune_id IN (SELECT value FROM json_each(@communeIds))');
    if (filter.communeId) clauses.push('commune_id = @communeId');
    if (filter.alarmId) clauses.push('alarm_id = @alarmId');
    if (filter.incidentId) clauses.push('incident_id = @incidentId');
    if (filter.broadcastId) clauses.push('broadcast_id = @broadcastId');
    if (filter.contactId) clauses.push('contact_id = @contactId');
    if (filter.status) clauses.push('status = @status');
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const params = {
      communeIds: filter.communeIds ? JSON.stringify(filter.communeIds) : null,
      communeId: filter.communeId ?? null,
      alarmId: filter.alarmId ?? null,
      incidentId: filter.incidentId ?? null,
      broadcastId: filter.broadcastId ?? null,
      contactId: filter.contactId ?? null,
      status: filter.status ?? null,
    };
    const rows = this.db
      .prepare(
        `SELECT * FROM notifications ${where} ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, ...page }) as Row[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM notifications ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map(view), total: n, ...page };
  }

  /**
   * Finished rows older than `keepMs`, and the oldest finished ones beyond `maxRows`, are removed
   * with the decisions of the same age; queued rows stay until they finish.
   */
  prune(now: number, keepMs: number, maxRows: number): number {
    return this.db.transaction(() => {
      let removed = this.db
        .prepare('DELETE FROM notifications WHERE finished_at IS NOT NULL AND finished_at < ?')
        .run(now - keepMs).changes;
      removed += this.db
        .prepare(
          `DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE finished_at IS NOT NULL
             ORDER BY finished_at DESC, id DESC LIMIT -1 OFFSET ?)`,
        )
        .run(maxRows).changes;
      this.db.prepare('DELETE FROM notification_notices WHERE at < ?').run(now - keepMs);
      return removed;
    })();
  }
}
