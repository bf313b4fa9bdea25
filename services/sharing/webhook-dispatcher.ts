import type { Logger } from 'pino';
import type { WebhookEvent, WebhookEventType } from '../../contracts/sharing.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { BurstLogger } from '../burst-logger.js';
import type { WebhookAddressPolicy } from './webhook-address-policy.js';
import { type PostOutcome, postWebhook } from './webhook-http.js';
import { signatureHeader } from './webhook-signature.js';
import type { DueDelivery, WebhookStore, WebhookTarget } from './webhook-store.js';

export interface WebhookDispatcherOptions {
  store: WebhookStore;
  policy: WebhookAddressPolicy;
  clock: Clock;
  logger: Logger;
  /** How long one POST may take, connection to answer. */
  timeoutMs: number;
  /** Events for one receiver within this window go in one POST (a JSON array when several). */
  batchWindowMs: number;
  /** At most this many events in one POST; a fuller window is sent at once. */
  maxBatch: number;
  /** One receiver gets at most one POST this often. */
  minIntervalMs: number;
  /** Requests under way at once, across receivers. */
  concurrency: number;
  /** The wait after each failed attempt; the last one repeats. */
  retryDelaysMs: readonly number[];
  /** A POST not delivered this long after its events is given up. */
  giveUpAfterMs: number;
  /** Told of each outcome, for the metrics. */
  onOutcome?: (outcome: 'delivered' | 'retry' | 'failed' | 'dropped', count: number) => void;
}

/** The wait before the next attempt after `attempts` failed ones. */
export function retryDelay(delays: readonly number[], attempts: number): number {
  return delays[Math.min(Math.max(attempts, 1), delays.length) - 1] ?? 0;
}

/**
 * Sends webhook events: gathers each receiver's events for a second into one POST, records the
 * POST before making it, signs it (HMAC-SHA256 over `${timestamp}.${body}`), and retries a failed
 * one on a growing delay until it is delivered or a day has passed. One request at a time per
 * receiver, at most one a `minIntervalMs`; what waits lives in SQLite (bounded per receiver), so a
 * restart resumes it. It sleeps when nothing waits: the only timers are the gathering window and
 * the wake-up for the next due POST, each set only while there is something to do.
 */
export class WebhookDispatcher {
  private targets: WebhookTarget[] = [];
  private readonly windows = new Map<string, WebhookEvent[]>();
  private windowTimer: TimerHandle | null = null;
  private wakeTimer: TimerHandle | null = null;
  private wakeAt: number | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly lastStart = new Map<string, number>();
  private abort = new AbortController();
  private running = false;
  /** Sending (and retrying) what waits; with several instances only on the lease's holder. */
  private sending = false;
  private errors = 0;
  /**
   * Recording and sending run one after another: a pump reads what waits only after the writes
   * before it (a new POST, a claim) are stored.
   */
  private work: Promise<void> = Promise.resolve();
  private readonly failures: BurstLogger;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.failures = new BurstLogger(options.logger, options.clock, 10 * 60_000);
  }

  start(): void {
    this.open();
    this.resume();
  }

  /** Takes events (gathered and recorded as POSTs that wait) without sending them. */
  open(): void {
    this.running = true;
    this.reload();
  }

  /** Sends what waits, from the store, as after a restart: claims left by a former sender are free again. */
  resume(): void {
    if (!this.running) return;
    this.sending = true;
    this.abort = new AbortController();
    const now = this.options.clock.now();
    this.reload();
    this.safely(async () => {
      await this.options.store.releaseClaims(now);
      await this.pump();
    });
  }

  /** Looks at the store again for POSTs another instance recorded. */
  recheck(): void {
    this.safely(() => this.pump());
  }

  /** Stops sending (another instance took it over); requests under way are abandoned and made again there. */
  async pause(): Promise<void> {
    if (!this.sending) return;
    this.sending = false;
    this.clearTimer('wake');
    this.abort.abort();
    await this.work;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /**
   * Stops sending: what was being gathered is recorded; requests under way are abandoned, and made
   * again at the next start.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.safely(() => this.flushWindows());
    this.clearTimer('window');
    await this.work;
    await this.pause();
    this.running = false;
  }

  /** Reads the webhooks again (after one is registered, rotated or deleted). */
  reload(): void {
    this.targets = this.options.store.targets();
    const ids = new Set(this.targets.map((t) => t.id));
    for (const id of this.windows.keys()) if (!ids.has(id)) this.windows.delete(id);
  }

  /** Whether any webhook takes events of this type (so the caller can skip building them). */
  wants(type: WebhookEventType): boolean {
    return this.running && this.targets.some((t) => t.events.includes(type));
  }

  /** Queues an event for every webhook that takes its type and may see its province. */
  publish(event: WebhookEvent, provinceId: string | null): void {
    if (!this.running) return;
    let full = false;
    for (const target of this.targets) {
      if (!target.events.includes(event.type)) continue;
      if (target.provinceId !== null && target.provinceId !== provinceId) continue;
      const window = this.windows.get(target.id) ?? [];
      window.push(event);
      this.windows.set(target.id, window);
      if (window.length >= this.options.maxBatch) {
        const events = this.take(target.id);
        this.safely(() => this.persist(target.id, events));
        full = true;
      }
    }
    if (this.windows.size > 0 && this.windowTimer === null) {
      this.windowTimer = this.options.clock.setTimeout(() => {
        this.windowTimer = null;
        this.safely(async () => {
          await this.flushWindows();
          await this.pump();
        });
      }, this.options.batchWindowMs);
    }
    if (full) this.safely(() => this.pump());
  }

  private async flushWindows(): Promise<void> {
    for (const id of [...this.windows.keys()]) await this.persist(id, this.take(id));
  }

  /** What a receiver's window gathered, taken from it. */
  private take(webhookId: string): WebhookEvent[] | undefined {
    const events = this.windows.get(webhookId);
    this.windows.delete(webhookId);
    return events;
  }

  /** One POST of what a receiver's window gathered, recorded as due now. */
  private async persist(webhookId: string, events: WebhookEvent[] | undefined): Promise<void> {
    if (!events || events.length === 0) return;
    const { dropped } = await this.options.store.addDelivery({
      webhookId,
      body: JSON.stringify(events.length === 1 ? events[0] : events),
      types: [...new Set(events.map((e) => e.type))],
      eventCount: events.length,
      now: this.options.clock.now(),
    });
    if (dropped > 0) {
      this.options.onOutcome?.('dropped', dropped);
      this.failures.warn(
        `dropped:${webhookId}`,
        { webhookId, dropped },
        'a webhook receiver has too many POSTs waiting; the oldest were dropped',
      );
    }
  }

  /** Starts what is due (each receiver's earliest), then sleeps until the next thing to do. */
  private async pump(): Promise<void> {
    if (!this.running || !this.sending) return;
    const { store, clock, concurrency, minIntervalMs } = this.options;
    const now = clock.now();
    let pacedUntil: number | null = null;
    for (const due of store.due(now)) {
      // Paused while a claim was stored: the new holder sends it.
      if (!this.sending) return;
      if (this.inFlight.size >= concurrency) break; // a request that ends pumps again
      if (this.inFlight.has(due.webhookId)) continue;
      const last = this.lastStart.get(due.webhookId);
      if (last !== undefined && now < last + minIntervalMs) {
        pacedUntil = Math.min(pacedUntil ?? Number.POSITIVE_INFINITY, last + minIntervalMs);
        continue;
      }
      await this.send(due, now);
    }
    const next = store.nextDueAt();
    const later = next !== null && next > now ? next : null;
    const wake = pacedUntil === null ? later : later === null ? pacedUntil : Math.min(pacedUntil, later);
    this.arm(wake, now);
  }

  private arm(at: number | null, now: number): void {
    if (at === this.wakeAt && this.wakeTimer !== null) return;
    this.clearTimer('wake');
    if (at === null) return;
    this.wakeAt = at;
    this.wakeTimer = this.options.clock.setTimeout(
      () => {
        this.wakeTimer = null;
        this.wakeAt = null;
        this.safely(() => this.pump());
      },
      Math.max(0, at - now),
    );
  }

  /**
   * Runs timer and completion work: a failure (the disk refused a write) is counted and logged, and
   * the next event or wake-up tries again, instead of ending the process from a timer.
   */
  private safely(work: () => void | Promise<void>): void {
    this.work = this.work.then(work).catch((error: unknown) => {
      this.errors++;
      this.failures.warn(
        'dispatch',
        { err: error },
        'webhook dispatch failed; it resumes with the next event',
      );
    });
  }

  /** Failures of the dispatch work itself (not of receivers), for sc_errors_kept_running_total. */
  errorCount(): number {
    return this.errors;
  }

  private clearTimer(which: 'window' | 'wake'): void {
    const timer = which === 'window' ? this.windowTimer : this.wakeTimer;
    if (timer !== null) this.options.clock.clearTimeout(timer);
    if (which === 'window') this.windowTimer = null;
    else {
      this.wakeTimer = null;
      this.wakeAt = null;
    }
  }

  private async send(due: DueDelivery, now: number): Promise<void> {
    const { store, policy, timeoutMs } = this.options;
    const target = this.targets.find((t) => t.id === due.webhookId);
    if (!target) return; // deleted: its deliveries went with it
    let secrets: string[] | null;
    try {
      secrets = store.secretsOf(due.webhookId, now);
    } catch (error) {
      // A database restored without its key file: this receiver cannot be signed for until its
      // secret is rotated; the others go on.
      this.options.logger.error({ err: error, webhookId: due.webhookId }, 'cannot open a webhook secret');
      const detail = 'the secret cannot be opened (DATA_DIR/webhook-secrets.key changed?): rotate it';
      await this.record(due, target, { ok: false, status: null, error: detail, durationMs: 0 }, now);
      return;
    }
    if (!secrets) return;
    await store.claim(due.id);
    this.lastStart.set(due.webhookId, now);
    const timestamp = Math.floor(now / 1000);
    const request = postWebhook({
      url: target.url,
      body: due.body,
      headers: {
        'x-webhook-id': due.id,
        'x-webhook-timestamp': String(timestamp),
        'x-webhook-signature': signatureHeader(secrets, timestamp, due.body),
      },
      policy,
      timeoutMs,
      signal: this.abort.signal,
    })
      .then((outcome) => this.record(due, target, outcome, now))
      .catch((error: unknown) => {
        this.errors++;
        this.options.logger.error(
          { err: error, webhookId: due.webhookId },
          'could not record a webhook attempt',
        );
      })
      .finally(() => {
        this.inFlight.delete(due.webhookId);
        this.safely(() => this.pump());
      });
    this.inFlight.set(due.webhookId, request);
  }

  private async record(
    due: DueDelivery,
    target: WebhookTarget,
    outcome: PostOutcome,
    startedAt: number,
  ): Promise<void> {
    // Abandoned by a stop: recorded nowhere, sent again at the next start.
    if (!this.sending) return;
    const { store, clock, retryDelaysMs, giveUpAfterMs, onOutcome } = this.options;
    const attempt = {
      at: startedAt,
      status: outcome.status,
      error: outcome.error,
      durationMs: outcome.durationMs,
    };
    if (outcome.ok) {
      await store.recordAttempt(due.id, attempt, { state: 'delivered' });
      onOutcome?.('delivered', 1);
      return;
    }
    const nextAttemptAt = clock.now() + retryDelay(retryDelaysMs, due.attempts + 1);
    const giveUp = nextAttemptAt > due.createdAt + giveUpAfterMs;
    await store.recordAttempt(
      due.id,
      attempt,
      giveUp ? { state: 'failed' } : { state: 'pending', nextAttemptAt },
    );
    onOutcome?.(giveUp ? 'failed' : 'retry', 1);
    this.failures.warn(
      `failed:${target.id}`,
      { webhookId: target.id, url: target.url, status: outcome.status, error: outcome.error, gaveUp: giveUp },
      giveUp
        ? 'a webhook POST was given up after a day of retries'
        : 'a webhook POST failed; it will be retried',
    );
  }
}
