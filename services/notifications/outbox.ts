import type { Logger } from 'pino';
import type { NotifyChannel } from '../../contracts/notifications.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { BurstLogger } from '../burst-logger.js';
import { type Channel, DeliveryError } from './channel.js';
import { digestText } from './notice-text.js';
import type { MessageRow, NotificationLog } from './notification-log.js';
import type { RecipientStore } from './recipient-store.js';
import { addressOf } from './routing.js';

export type SendOutcome = 'sent' | 'retry' | 'failed';

export interface OutboxOptions {
  log: NotificationLog;
  recipients: RecipientStore;
  channels: Record<NotifyChannel, Channel>;
  clock: Clock;
  logger: Logger;
  commune(id: string): { name: string; timeZone: string };
  /** The wait after each failed attempt; the last one repeats. */
  retryDelaysMs: readonly number[];
  /** Tries of one message before it is given up. */
  maxAttempts: number;
  /** Sends under way at once, across recipients (one at a time per recipient and channel). */
  concurrency: number;
  /** Finished log rows are kept this long, and at most this many. */
  keepMs: number;
  maxRows: number;
  onOutcome?: (channel: NotifyChannel, outcome: SendOutcome) => void;
}

const PRUNE_EVERY_MS = 3_600_000;

/** The wait before the next attempt after `attempts` failed ones. */
export function retryDelay(delays: readonly number[], attempts: number): number {
  return delays[Math.min(Math.max(attempts, 1), delays.length) - 1] ?? 0;
}

/**
 * Sends what the log queued: gathers each recipient's waiting notices when their digest window or
 * quiet hours end (one becomes its own message, several one digest), sends messages one at a time
 * per recipient and channel, and retries a failed one on a growing delay until it is sent, refused
 * for good or tried `maxAttempts` times. It sleeps when nothing waits: its only timer is the
 * wake-up for the next due row, set only while one is queued.
 */
export class Outbox {
  private timer: TimerHandle | null = null;
  private wakeAt: number | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  private abort = new AbortController();
  private running = false;
  private errors = 0;
  private lastPrune = 0;
  private readonly failures: BurstLogger;

  constructor(private readonly options: OutboxOptions) {
    this.failures = new BurstLogger(options.logger, options.clock, 10 * 60_000);
  }

  start(): void {
    this.running = true;
    this.abort = new AbortController();
    this.options.log.releaseClaims(this.options.clock.now());
    this.wake();
  }

  /** Stops sending; sends under way are abandoned and made again at the next start. */
  async stop(): Promise<void> {
    await this.pause();
    for (const channel of Object.values(this.options.channels)) channel.close?.();
  }

  /**
   * Stops sending but keeps the channels open, for another instance took the outbox over; `start`
   * resumes from the log.
   */
  async pause(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.disarm();
    this.abort.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Something was queued: act on what is due now and sleep until the next. */
  wake(): void {
    this.safely(() => this.pump());
  }

  /** The signal sends are made under (a stop aborts it). */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Failures of the outbox's own work (not of a channel), for sc_errors_kept_running_total. */
  errorCount(): number {
    return this.errors;
  }

  private pump(): void {
    if (!this.running) return;
    const { log, clock, concurrency } = this.options;
    const now = clock.now();
    this.gather(now);
    for (const message of log.dueMessages(now, 100)) {
      if (this.inFlight.size >= concurrency) break; // a send that ends pumps again
      const key = `${message.contactId}|${message.channel}`;
      if (this.inFlight.has(key)) continue;
      this.send(message, key);
    }
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      log.prune(now, this.options.keepMs, this.options.maxRows);
    }
    // Due now but held back by a send under way: that send's end pumps again.
    const next = log.nextDueAt();
    this.arm(next !== null && next > now ? next : null, now);
  }

  /** Waiting notices whose time came become messages: alone as they are, several as one digest. */
  private gather(now: number): void {
    const { log, recipients } = this.options;
    for (const recipient of log.waitingRecipients(now)) {
      const contact = recipients.findContact(recipient.contactId);
      if (!contact) {
        log.dropRecipient(recipient.contactId, now);
        continue;
      }
      const items = log.waitingItems(recipient.contactId, recipient.channel, now);
      if (items.length === 0) continue;
      const windowMs = recipients.settings(contact.communeId).digestWindowMin * 60_000;
      const last = log.lastFormedAt(recipient.contactId, recipient.channel);
      if (last !== null && last + windowMs > now) {
        log.postpone(
          items.map((i) => i.id),
          last + windowMs,
        );
        continue;
      }
      if (items.length === 1) {
        log.formOne((items[0] as { id: string }).id, now);
        continue;
      }
      const commune = this.options.commune(contact.communeId);
      const text = digestText(
        items.map((i) => ({ title: i.title, at: i.createdAt })),
        commune.name,
        commune.timeZone,
      );
      log.formDigest(items, recipient, text, now);
    }
  }

  /** The send, or why it cannot be made: the recipient was removed or disabled, or lost the address. */
  private attempt(message: MessageRow): Promise<void> {
    const contact = message.contactId ? this.options.recipients.findContact(message.contactId) : null;
    const refuse = (why: string) => Promise.reject(new DeliveryError(why, true));
    if (!contact) return refuse('the recipient was removed');
    if (!contact.enabled) return refuse('the recipient is disabled');
    const address = addressOf(contact, message.channel);
    if (address === null) return refuse(`the recipient has no ${message.channel} address any more`);
    return this.options.channels[message.channel].send(address, message, this.abort.signal);
  }

  private send(message: MessageRow, key: string): void {
    this.options.log.claim(message.id);
    const attempt = this.attempt(message);
    const request = attempt
      .then(
        () => this.record(message, null),
        (error: unknown) => this.record(message, error),
      )
      .catch((error: unknown) => {
        this.errors++;
        this.options.logger.error(
          { err: error, notificationId: message.id },
          'could not record a notification',
        );
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.safely(() => this.pump());
      });
    this.inFlight.set(key, request);
  }

  private record(message: MessageRow, error: unknown): void {
    const { log, clock, retryDelaysMs, maxAttempts, onOutcome } = this.options;
    const now = clock.now();
    if (error === null) {
      // Recorded even during a stop: sending it again would tell the person twice.
      log.recordAttempt(message.id, { state: 'sent' }, now);
      onOutcome?.(message.channel, 'sent');
      return;
    }
    // Abandoned by a stop: made again at the next start.
    if (!this.running) return;
    const failure = error instanceof DeliveryError ? error : new DeliveryError(String(error), false);
    const attempts = message.attempts + 1;
    const giveUp = failure.permanent || attempts >= maxAttempts;
    log.recordAttempt(
      message.id,
      giveUp
        ? { state: 'failed', error: failure.message }
        : { state: 'retry', error: failure.message, retryAt: now + retryDelay(retryDelaysMs, attempts) },
      now,
    );
    onOutcome?.(message.channel, giveUp ? 'failed' : 'retry');
    this.failures.warn(
      `failed:${message.channel}`,
      { notificationId: message.id, channel: message.channel, error: failure.message, gaveUp: giveUp },
      giveUp ? 'a notification could not be sent' : 'a notification failed; it will be retried',
    );
  }

  private arm(at: number | null, now: number): void {
    if (at === this.wakeAt && this.timer !== null) return;
    this.disarm();
    if (at === null) return;
    this.wakeAt = at;
    this.timer = this.options.clock.setTimeout(
      () => {
        this.timer = null;
        this.wakeAt = null;
        this.safely(() => this.pump());
      },
      Math.max(0, at - now),
    );
  }

  private disarm(): void {
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.wakeAt = null;
  }

  /** Timer and completion work: a failure (the disk refused a write) is counted and logged. */
  private safely(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.errors++;
      this.failures.warn(
        'outbox',
        { err: error },
        'notification sending failed; it resumes with the next event',
      );
    }
  }
}
