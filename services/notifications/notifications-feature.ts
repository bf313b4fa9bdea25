import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { NotifyChannel } from '../../contracts/notifications.js';
import { routePlugin } from '../api/route-plugin.js';
import { FINAL_DELIVERY_STATES } from '../broadcasts/types.js';
import type { Lease } from '../cluster/lease.js';
import { runWhileHeld, type SingletonRun } from '../cluster/singleton-loop.js';
import { NotFoundError } from '../errors.js';
import type { Feature } from '../platform/feature.js';
import { WebhookAddressPolicy } from '../sharing/webhook-address-policy.js';
import { exposeShippedLog, ShippedLog } from '../storage/sql/shipped-log.js';
import type { Channel } from './channel.js';
import { TelegramChannel, ZaloChannel } from './chat-channels.js';
import { EmailChannel } from './email-channel.js';
import { NOTIFICATION_LOG_TABLES, NotificationLog } from './notification-log.js';
import { notificationRoutes } from './notification-routes.js';
import { type NoticeLookups, Notifier } from './notifier.js';
import { Outbox } from './outbox.js';
import { ReachNotices } from './reach-notices.js';
import { RecipientStore } from './recipient-store.js';

declare module '../platform/feature.js' {
  interface Provides {
    notifications: { notifier: Notifier; recipients: RecipientStore; log: NotificationLog };
  }
}

/** Retries after 30 s, 2 min, 10 min, 30 min, then hourly; a message is given up after 10 tries. */
const RETRY_DELAYS_MS = [30_000, 120_000, 600_000, 1_800_000, 3_600_000] as const;
const MAX_ATTEMPTS = 10;
/** One SMTP exchange or chat API call, connection to answer. */
const SEND_TIMEOUT_MS = 15_000;
/** The log keeps 90 days and at most 100 000 finished rows. */
const KEEP_MS = 90 * 86_400_000;
const MAX_ROWS = 100_000;

/**
 * Alarms that reach people (docs/notifications.md): per-commune recipients and routing rules,
 * e-mail (SMTP), Telegram and Zalo bots, quiet hours, digests instead of floods, and a log of
 * every notification with its outcome, retried on failure. Held alarms notify nobody; a village
 * outage is told once. Machines get the same notices as `alarm` webhooks (services/sharing).
 */
export function notificationsFeature(): Feature<'notifications'> {
  let outbox: Outbox | null = null;
  let lease: Lease | null = null;
  let run: SingletonRun | null = null;
  let recheckEveryMs: number | null = null;
  let logger: Logger | null = null;
  let recipientStore: RecipientStore | null = null;
  let shippedLog: ShippedLog | null = null;
  return {
    name: 'notifications',
    dependsOn: ['storage', 'registry', 'cameras', 'alarms', 'broadcasts', 'cluster'],
    async start(ctx) {
      const { config, clock, endpoints } = ctx;
      const cluster = ctx.get('cluster');
      // One instance sends (each message once); the others only queue into the shared log.
      lease = cluster.lease('notification-outbox');
      recheckEveryMs = cluster.redis ? cluster.leaseMs : null;
      logger = ctx.logger;
      const { db, state } = ctx.get('storage');
      const registry = ctx.get('registry');
      const cameras = ctx.get('cameras').store;
      const alarms = ctx.get('alarms').store;
      const broadcasts = ctx.get('broadcasts');
      const recipients = new RecipientStore({
        db,
        state,
        logger: ctx.logger.child({ component: 'notification-recipients' }),
      });
      recipientStore = recipients;
      await recipients.start();
      const log = new NotificationLog(db);
      // With DATABASE_URL, shipped to PostgreSQL and copied from the other instances: what one
      // queued, the outbox's holder sends. A notice queued elsewhere wakes the holder when copied.
      const shipped = new ShippedLog(
        db,
        state,
        ctx.logger.child({ component: 'notification-log' }),
        'notification_log',
        NOTIFICATION_LOG_TABLES,
      );
      shippedLog = shipped;
      await shipped.start((changes) => {
        if (changes.some((c) => c.table === 'notifications')) outbox?.wake();
      });
      exposeShippedLog(ctx.metrics, ctx.keptRunning, shipped);
      // Chat APIs are reached like webhooks: no loopback, private or link-local addresses, nor the
      // platform's own ports, unless WEBHOOK_ALLOW_* says so (SSRF).
      const policy = new WebhookAddressPolicy({
        allowHttp: config.WEBHOOK_ALLOW_HTTP,
        allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
        allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK,
        deniedPorts: () => [
          endpoints.httpPort() ?? config.HTTP_PORT,
          endpoints.mqttPort() ?? config.MQTT_PORT,
        ],
      });
      const channels: Record<NotifyChannel, Channel> = {
        email: new EmailChannel({ url: config.SMTP_URL, from: config.SMTP_FROM, timeoutMs: SEND_TIMEOUT_MS }),
        telegram: new TelegramChannel({
          apiBase: config.TELEGRAM_API_BASE,
          token: config.TELEGRAM_BOT_TOKEN,
          policy,
          timeoutMs: SEND_TIMEOUT_MS,
        }),
        zalo: new ZaloChannel({
          apiBase: config.ZALO_API_BASE,
          token: config.ZALO_ACCESS_TOKEN,
          policy,
          timeoutMs: SEND_TIMEOUT_MS,
        }),
      };
      const lookups: NoticeLookups = {
        commune(id) {
          try {
            const commune = registry.getCommune(id);
            return { name: commune.name, timeZone: commune.timezone };
          } catch (error) {
            if (!(error instanceof NotFoundError)) throw error;
            return { name: id, timeZone: config.TZ_DEFAULT };
          }
        },
        villageName(id) {
          try {
            return registry.getVillage(id).name;
          } catch (error) {
            if (!(error instanceof NotFoundError)) throw error;
            return null;
          }
        },
        deviceName: (id) => registry.findCluster(id)?.name ?? cameras.known(id)?.name ?? null,
        heldOutage: (incident, at) => {
          const windows = alarms.maintenance(at, [incident.communeId]).filter((w) => w.startsAt <= at);
          return incident.devices.every(({ deviceId }) =>
            windows.some((w) => w.deviceIds.includes(deviceId) || w.villageId === incident.villageId),
          );
        },
      };

      const outcomes = new Counter({
        name: 'sc_notifications_total',
        help: 'Notification messages by channel and outcome: sent, retry (failed, tried again later), failed, suppressed',
        labelNames: ['channel', 'outcome'] as const,
        registers: [ctx.metrics],
      });
      new Gauge({
        name: 'sc_notifications_queued',
        help: 'Notifications waiting for their digest window, quiet hours, a send or a retry',
        registers: [ctx.metrics],
        collect() {
          this.set(log.queuedCount());
        },
      });
      const sending = new Outbox({
        log,
        recipients,
        channels,
        clock,
        logger: ctx.logger.child({ component: 'notification-outbox' }),
        commune: lookups.commune,
        retryDelaysMs: RETRY_DELAYS_MS,
        maxAttempts: MAX_ATTEMPTS,
        concurrency: 4,
        keepMs: KEEP_MS,
        maxRows: MAX_ROWS,
        onOutcome: (channel, outcome) => outcomes.inc({ channel, outcome }),
      });
      outbox = sending;
      ctx.keptRunning('notification-outbox', () => sending.errorCount());
      const notifier = new Notifier({
        recipients,
        log,
        outbox: sending,
        channels,
        events: ctx.events,
        clock,
        logger: ctx.logger,
        lookups,
        maxWaitingPerRecipient: 200,
        onSuppressed: (channel) => outcomes.inc({ channel, outcome: 'suppressed' }),
      });
      const reach = new ReachNotices({
        broadcast: (id) => broadcasts.dispatcher.get(id),
        status: (id) => broadcasts.store.get(id)?.status ?? null,
        registry,
        recipients,
        log,
        outbox: sending,
        clock,
        logger: ctx.logger,
        commune: lookups.commune,
        maxWaitingPerRecipient: 200,
        onSuppressed: (channel) => outcomes.inc({ channel, outcome: 'suppressed' }),
      });
      // A broadcast is finished once its last delivery is final; the dispatcher marks it so right
      // after telling that delivery, so the check runs once the current turn is over.
      const ending = new Set<string>();
      let reachErrors = 0;
      ctx.keptRunning('reach-notices', () => reachErrors);
      ctx.on('broadcast.delivery', ({ broadcastId, state }) => {
        if (!FINAL_DELIVERY_STATES.includes(state)) return;
        // Followed up where the dispatcher runs, once: the other instances hear of the same
        // deliveries, and with their own files would each decide the same notice.
        if (!broadcasts.dispatcher.running()) return;
        if (ending.size === 0)
          setImmediate(() => {
            const ids = [...ending];
            ending.clear();
            if (!outbox) return; // stopped meanwhile
            for (const id of ids) {
              try {
                reach.finished(id);
              } catch (error) {
                reachErrors++;
                ctx.logger.error({ err: error, broadcastId: id }, 'could not follow up a reach gap');
              }
            }
          });
        ending.add(broadcastId);
      });
      ctx.on('alarm.changed', ({ alarm, change, at }) => notifier.alarmChanged(alarm, change, at));
      ctx.on('incident.changed', ({ incident, at }) => notifier.incidentChanged(incident, at));
      ctx.routes(
        routePlugin('notification-routes', notificationRoutes, {
          recipients,
          log,
          notifier,
          reach,
          registry,
          clock,
        }),
      );
      return { notifier, recipients, log };
    },
    // Once the API listens: the platform's own ports are known to the address policy.
    async ready() {
      const [sending, held, log] = [outbox, lease, logger];
      if (!sending || !held || !log) return;
      await held.start();
      run = runWhileHeld(
        held,
        {
          // Goes on from what the last holder shipped (DATABASE_URL), as after a restart.
          resume: async () => {
            await shippedLog
              ?.catchUp()
              .catch((err: unknown) => log.warn({ err }, 'could not catch up with the notification log'));
            sending.start();
          },
          pause: () => sending.pause(),
          recheck: () => sending.wake(),
        },
        { logger: log, recheckEveryMs },
      );
    },
    async stop() {
      const [stopping, running, held] = [outbox, run, lease];
      outbox = null;
      run = null;
      lease = null;
      await running?.stop();
      // Released once the last send has ended, so the next holder starts at once.
      await held?.stop();
      await stopping?.stop();
      await recipientStore?.stop();
      recipientStore = null;
      const shipping = shippedLog;
      shippedLog = null;
      await shipping?.stop();
    },
  };
}
