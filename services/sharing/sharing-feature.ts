import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Level } from '../../contracts/broadcasts.js';
import { routePlugin } from '../api/route-plugin.js';
import type { Lease } from '../cluster/lease.js';
import { runWhileHeld, type SingletonRun } from '../cluster/singleton-loop.js';
import { NotFoundError } from '../errors.js';
import { contentMediaIds } from '../media/content-audio.js';
import type { Feature } from '../platform/feature.js';
import type { BulletinSender } from './sharing-routes.js';
import { sharingRoutes } from './sharing-routes.js';
import { WebhookAddressPolicy } from './webhook-address-policy.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import {
  alarmNoticeEvent,
  bulletinReceiptEvent,
  clusterStatusEvent,
  deliveryFinalEvent,
  type Places,
} from './webhook-events.js';
import { webhookRoutes } from './webhook-routes.js';
import { WebhookStore } from './webhook-store.js';

declare module '../platform/feature.js' {
  interface Provides {
    sharing: { webhooks: WebhookDispatcher; store: WebhookStore };
  }
}

/** Retries after 10 s, 1 min, 10 min, then hourly; given up a day after the events. */
const RETRY_DELAYS_MS = [10_000, 60_000, 600_000, 3_600_000] as const;
const GIVE_UP_AFTER_MS = 24 * 3_600_000;
/** Broadcasts whose name and level are kept for the delivery events of their clusters. */
const BROADCASTS_REMEMBERED = 64;

/**
 * Data sharing with the provincial or central system (Circular 39; LGSP/NGSP): the read API and
 * the bulletin push under `/api/share/v1` (API tokens only), and webhooks (`/api/v1/webhooks`)
 * that POST signed cluster status changes, final deliveries and bulletin receipts, batched,
 * retried and recorded (docs/sharing-api.md).
 */
export function sharingFeature(): Feature<'sharing'> {
  let dispatcher: WebhookDispatcher | null = null;
  let store: WebhookStore | null = null;
  let lease: Lease | null = null;
  let run: SingletonRun | null = null;
  let reloadTimer: NodeJS.Timeout | null = null;
  let recheckEveryMs: number | null = null;
  let logger: Logger | null = null;
  return {
    name: 'sharing',
    dependsOn: ['storage', 'registry', 'presence', 'media', 'tts', 'broadcasts', 'bulletins', 'cluster'],
    async start(ctx) {
      const { config, clock, endpoints } = ctx;
      const cluster = ctx.get('cluster');
      // One instance POSTs (each delivery once); every instance records the events only it sees.
      const posting = cluster.lease('webhook-dispatcher');
      lease = posting;
      recheckEveryMs = cluster.redis ? cluster.leaseMs : null;
      logger = ctx.logger;
      const registry = ctx.get('registry');
      const broadcasts = ctx.get('broadcasts').store;
      const policy = new WebhookAddressPolicy({
        allowHttp: config.WEBHOOK_ALLOW_HTTP,
        allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
        allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK,
        deniedPorts: () => [
          endpoints.httpPort() ?? config.HTTP_PORT,
          endpoints.mqttPort() ?? config.MQTT_PORT,
        ],
      });
      const webhookStore = new WebhookStore({
        db: ctx.get('storage').db,
        state: ctx.get('storage').state,
        logger: ctx.logger.child({ component: 'webhook-store' }),
        key: await ctx.get('storage').key('webhook-secrets.key'),
        limits: { maxPending: 500, keepFinished: 100 },
      });
      store = webhookStore;
      // A webhook registered, rotated or deleted through another instance is used at once.
      await webhookStore.start(() => dispatcher?.reload());
      const outcomes = new Counter({
        name: 'sc_webhook_posts_total',
        help: 'Webhook POSTs by outcome: delivered, retry (failed, tried again later), failed (given up), dropped',
        labelNames: ['outcome'] as const,
        registers: [ctx.metrics],
      });
      const webhooks = new WebhookDispatcher({
        store: webhookStore,
        policy,
        clock,
        logger: ctx.logger.child({ component: 'webhooks' }),
        timeoutMs: 10_000,
        batchWindowMs: 1_000,
        maxBatch: 100,
        minIntervalMs: 1_000,
        concurrency: 8,
        retryDelaysMs: RETRY_DELAYS_MS,
        giveUpAfterMs: GIVE_UP_AFTER_MS,
        onOutcome: (outcome, n) => outcomes.inc({ outcome }, n),
      });
      dispatcher = webhooks;
      ctx.keptRunning('webhook-dispatch', () => webhooks.errorCount());
      new Gauge({
        name: 'sc_webhook_posts_pending',
        help: 'Webhook POSTs waiting to be sent or retried',
        registers: [ctx.metrics],
        collect() {
          this.set(store?.pendingCount() ?? 0);
        },
      });

      const places = placeCache(registry, (id) => broadcasts.get(id));
      ctx.on('registry.changed', () => places.clear());
      // Presence and deliveries arrive on every instance (shared presence, shared broker): only the
      // sender records them. Receipts and alarm notices arise on one instance, which records them.
      ctx.on('device.presence', (change) => {
        if (!posting.held() || !webhooks.wants('cluster.status')) return;
        const scoped = clusterStatusEvent(change, places);
        if (scoped) webhooks.publish(scoped.event, scoped.provinceId);
      });
      ctx.on('broadcast.delivery', (delivery) => {
        if (!posting.held() || !webhooks.wants('delivery.final')) return;
        const scoped = deliveryFinalEvent(delivery, places);
        if (scoped) webhooks.publish(scoped.event, scoped.provinceId);
      });
      ctx.on('bulletin.receipt', (receipt) => {
        if (!webhooks.wants('bulletin.receipt')) return;
        const scoped = bulletinReceiptEvent(receipt, places);
        webhooks.publish(scoped.event, scoped.provinceId);
      });
      ctx.on('alarm.notice', (notice) => {
        if (!webhooks.wants('alarm')) return;
        const scoped = alarmNoticeEvent(notice, places);
        webhooks.publish(scoped.event, scoped.provinceId);
      });

      const bulletins = ctx.get('bulletins');
      const speech = ctx.get('tts').speech;
      const media = ctx.get('media').library;
      // As POST /provincial-bulletins does: text is read aloud once into the shared library, and
      // media must be the caller's to send.
      const sender: BulletinSender = {
        async send(input, actor) {
          const content = await speech.prepare(input.content, { username: actor.username, communeId: null });
          for (const id of contentMediaIds(content)) media.getVisible(id, actor.communes);
          return bulletins.send(input, content, actor);
        },
      };
      ctx.routes(
        routePlugin('sharing-routes', sharingRoutes, {
          registry,
          presence: ctx.get('presence'),
          broadcasts,
          bulletins: sender,
          clock,
        }),
      );
      ctx.routes(
        routePlugin('webhook-routes', webhookRoutes, {
          store: webhookStore,
          dispatcher: webhooks,
          policy,
          registry,
          clock,
        }),
      );
      return { webhooks, store: webhookStore };
    },
    // Once the API listens: the platform's own ports are known to the address policy.
    async ready() {
      const [webhooks, held, log] = [dispatcher, lease, logger];
      if (!webhooks || !held || !log) return;
      webhooks.open();
      await held.start();
      run = runWhileHeld(
        held,
        { resume: () => webhooks.resume(), pause: () => webhooks.pause(), recheck: () => webhooks.recheck() },
        { logger: log, recheckEveryMs },
      );
      // A webhook registered, rotated or deleted through another instance.
      if (recheckEveryMs) {
        reloadTimer = setInterval(() => {
          try {
            webhooks.reload();
          } catch (err) {
            log.warn({ err }, 'could not read the webhooks again');
          }
        }, recheckEveryMs);
        reloadTimer.unref();
      }
    },
    async stop() {
      const [stopping, running, held, stored] = [dispatcher, run, lease, store];
      dispatcher = null;
      store = null;
      run = null;
      lease = null;
      if (reloadTimer) clearInterval(reloadTimer);
      reloadTimer = null;
      await running?.stop();
      await stopping?.stop();
      // Released once the last POST has ended, so the next holder starts at once.
      await held?.stop();
      await stored?.stop();
    },
  };
}

/**
 * Clusters' and communes' places for the events, read once and kept until the registry changes;
 * the last few broadcasts' names and levels.
 */
function placeCache(
  registry: {
    findCluster(id: string): { name: string; communeId: string } | null;
    getCommune(id: string): { code: string | null; provinceId: string | null };
  },
  broadcast: (id: string) => { name: string; level: Level; bulletinId: string | null } | null,
): Places & { clear(): void } {
  const clusters = new Map<string, { name: string; communeId: string } | null>();
  const communes = new Map<string, { code: string | null; provinceId: string | null } | null>();
  const recent = new Map<string, { name: string; level: Level; bulletinId: string | null } | null>();
  return {
    cluster(id) {
      if (!clusters.has(id)) {
        const found = registry.findCluster(id);
        clusters.set(id, found && { name: found.name, communeId: found.communeId });
      }
      return clusters.get(id) ?? null;
    },
    commune(id) {
      if (!communes.has(id)) {
        try {
          const { code, provinceId } = registry.getCommune(id);
          communes.set(id, { code, provinceId });
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          // Removed from the registry: the event says so with nulls.
          communes.set(id, null);
        }
      }
      return communes.get(id) ?? null;
    },
    broadcast(id) {
      if (!recent.has(id)) {
        const found = broadcast(id);
        recent.set(id, found && { name: found.name, level: found.level, bulletinId: found.bulletinId });
        if (recent.size > BROADCASTS_REMEMBERED) recent.delete(recent.keys().next().value as string);
      }
      return recent.get(id) ?? null;
    },
    clear() {
      clusters.clear();
      communes.clear();
    },
  };
}
