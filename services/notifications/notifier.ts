import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { NotifyChannel } from '../../contracts/notifications.js';
import type { Clock } from '../../devices/index.js';
import type { AlarmRecord, IncidentRecord } from '../alarms/alarm-store.js';
import type { EventBus } from '../event-bus.js';
import { type AlarmNotice, alarmNotice, incidentNotice } from './alarm-notices.js';
import { type Channel, DeliveryError } from './channel.js';
import { noticeText, testText } from './notice-text.js';
import type { NotificationLog } from './notification-log.js';
import type { Outbox } from './outbox.js';
import { quietUntil } from './quiet-hours.js';
import type { ContactRecord, RecipientStore } from './recipient-store.js';
import { addressOf, route } from './routing.js';

/** What the words and the decisions need from the rest of the platform. */
export interface NoticeLookups {
  commune(id: string): { name: string; timeZone: string };
  villageName(id: string): string | null;
  deviceName(id: string): string | null;
  /** Whether every device of the outage was under a maintenance window at `at`. */
  heldOutage(incident: IncidentRecord, at: number): boolean;
}

export interface NotifierOptions {
  recipients: RecipientStore;
  log: NotificationLog;
  outbox: Outbox;
  channels: Record<NotifyChannel, Channel>;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  lookups: NoticeLookups;
  /** Beyond this many notices waiting for one recipient and channel, the oldest are dropped. */
  maxWaitingPerRecipient: number;
  onSuppressed?: (channel: NotifyChannel, reason: string) => void;
}

/**
 * Decides who is told of each alarm and village outage, and when. An alarm opened as part of an
 * outage is told as the outage, once, and so is the outage's clearing; a held alarm (maintenance)
 * or an outage of devices all under maintenance is logged for its recipients and told to nobody;
 * a clearing is told only when the opening was. Each recipient's notice waits for the end of its
 * quiet hours (a critical opening may skip them) and of its digest window; the outbox sends.
 * Notices people are told of also go on the bus (`alarm.notice`) for the `alarm` webhooks.
 */
export class Notifier {
  private readonly log: Logger;

  constructor(private readonly options: NotifierOptions) {
    this.log = options.logger.child({ component: 'notifications' });
  }

  alarmChanged(alarm: AlarmRecord, change: 'opened' | 'acknowledged' | 'cleared', at: number): void {
    const base = alarmNotice(alarm, change, at);
    if (!base) return;
    if (base.change === 'cleared') {
      const opened = this.options.log.notice(alarm.id, 'opened');
      if (!opened) return;
      base.held = opened.held;
    }
    this.decide(base);
  }

  incidentChanged(incident: IncidentRecord, at: number): void {
    const opened = this.options.log.notice(incident.id, 'opened');
    if (incident.clearedAt === null) {
      if (opened) return; // a device joined or came back: the outage was told already
      this.decide(incidentNotice(incident, this.options.lookups.heldOutage(incident, at), at));
    } else if (opened) {
      this.decide(incidentNotice(incident, opened.held, at));
    }
  }

  /** Sends a test message on each channel the contact has an address for, now, and says how each went. */
  async sendTest(
    contact: ContactRecord,
  ): Promise<{ channel: NotifyChannel; ok: boolean; error: string | null; notificationId: string }[]> {
    const { log, channels, clock, outbox, lookups } = this.options;
    const commune = lookups.commune(contact.communeId);
    const text = testText(contact.name, commune.name);
    const sends = (Object.keys(channels) as NotifyChannel[]).flatMap((channel) => {
      const address = addressOf(contact, channel);
      if (address === null) return [];
      const row = log.addTest({
        communeId: contact.communeId,
        contactId: contact.id,
        contactName: contact.name,
        channel,
        text,
        now: clock.now(),
      });
      return [
        channels[channel].send(address, row, outbox.signal).then(
          () => {
            log.recordAttempt(row.id, { state: 'sent' }, clock.now());
            return { channel, ok: true, error: null, notificationId: row.id };
          },
          (error: unknown) => {
            const message = error instanceof DeliveryError ? error.message : String(error);
            log.recordAttempt(row.id, { state: 'failed', error: message }, clock.now());
            return { channel, ok: false, error: message, notificationId: row.id };
          },
        ),
      ];
    });
    return Promise.all(sends);
  }

  private decide(base: Omit<AlarmNotice, 'id'>): void {
    const { log, recipients, lookups, clock, events } = this.options;
    const notice: AlarmNotice = { ...base, id: `nt-${randomBytes(6).toString('hex')}` };
    if (!log.recordNotice(notice)) return; // decided already (a repeated event, a restart)
    const routes = route(
      notice,
      recipients.rulesOf(notice.communeId),
      recipients.contactsOf(notice.communeId),
    );
    const commune = lookups.commune(notice.communeId);
    const text = noticeText(notice, {
      communeName: commune.name,
      villageName: notice.villageId ? lookups.villageName(notice.villageId) : null,
      timeZone: commune.timeZone,
      deviceName: lookups.deviceName,
    });
    this.log.info(
      {
        noticeId: notice.id,
        subject: notice.subject,
        change: notice.change,
        alarmId: notice.alarmId,
        incidentId: notice.incidentId,
        held: notice.held,
        recipients: routes.length,
      },
      notice.held ? 'alarm notice held (maintenance)' : 'alarm notice',
    );
    const now = clock.now();
    if (notice.held) {
      for (const { recipient, channel } of routes) {
        log.addNotice({
          notice,
          contactId: recipient.id,
          contactName: recipient.name,
          channel,
          text,
          status: 'suppressed',
          reason: 'held',
          dueAt: null,
          now,
        });
        this.options.onSuppressed?.(channel, 'held');
      }
      return;
    }
    events.emit('alarm.notice', notice);
    const settings = recipients.settings(notice.communeId);
    // A critical alarm may wake people; its clearing can wait for the morning.
    const bypass =
      notice.change === 'opened' && notice.severity === 'critical' && settings.criticalBypassesQuiet;
    for (const { recipient, channel } of routes) {
      const quietEnd = bypass
        ? null
        : quietUntil(now, recipient.quietHours ?? settings.quietHours, commune.timeZone);
      const last = log.lastFormedAt(recipient.id, channel);
      const windowEnd = last === null ? null : last + settings.digestWindowMin * 60_000;
      const dueAt = Math.max(now, quietEnd ?? now, windowEnd ?? now);
      log.addNotice({
        notice,
        contactId: recipient.id,
        contactName: recipient.name,
        channel,
        text,
        status: 'queued',
        reason: quietEnd !== null && quietEnd >= dueAt ? 'quiet' : dueAt > now ? 'digest-window' : null,
        dueAt,
        now,
      });
      const dropped = log.overflow(recipient.id, channel, this.options.maxWaitingPerRecipient, now);
      for (let i = 0; i < dropped; i++) this.options.onSuppressed?.(channel, 'overflow');
    }
    this.options.outbox.wake();
  }
}
