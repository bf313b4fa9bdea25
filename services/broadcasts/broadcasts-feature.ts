import type { Logger } from 'pino';
import { routePlugin } from '../api/route-plugin.js';
import type { Cluster } from '../cluster/cluster-feature.js';
import type { Lease } from '../cluster/lease.js';
import { runWhileHeld, type SingletonRun } from '../cluster/singleton-loop.js';
import type { EventBus } from '../event-bus.js';
import type { Feature } from '../platform/feature.js';
import { type CopiedChange, exposeShippedLog, type ShippedLog } from '../storage/sql/shipped-log.js';
import { broadcastLog } from './broadcast-log.js';
import { broadcastRoutes } from './broadcast-routes.js';
import { BroadcastStore } from './broadcast-store.js';
import { Dispatcher } from './dispatcher.js';
import { DispatcherRelay } from './dispatcher-relay.js';
import { RelayWatch } from './relay-watch.js';

declare module '../platform/feature.js' {
  interface Provides {
    broadcasts: { dispatcher: Dispatcher; store: BroadcastStore };
  }
}

/** How long after a broadcast ends its clusters may still fetch its media (a slow download). */
const MEDIA_GRACE_MS = 10 * 60_000;

/**
 * Broadcasts: the dispatcher that sends schedules' occurrences, emergency bulletins and relays on
 * time with priorities and pre-emption, each cluster's delivery proven by its acks, and
 * `/broadcasts` (the broadcast log and its CSV). The dispatcher's loop starts once the API listens:
 * a play names the media URL, which needs the port.
 */
export function broadcastsFeature(): Feature<'broadcasts'> {
  let dispatcher: Dispatcher | null = null;
  let watch: RelayWatch | null = null;
  /** With REDIS_URL: what the `dispatcher` lease's loop needs at ready. */
  let engine: { cluster: Cluster; store: BroadcastStore; logger: Logger; events: EventBus } | null = null;
  let relay: DispatcherRelay | null = null;
  let lease: Lease | null = null;
  let run: SingletonRun | null = null;
  /** With DATABASE_URL: the broadcast log shipped to PostgreSQL and copied from the other instances. */
  let log: ShippedLog | null = null;
  return {
    name: 'broadcasts',
    dependsOn: [
      'storage',
      'registry',
      'mqtt',
      'presence',
      'media',
      'tts',
      'stations',
      'schedules',
      'cluster',
    ],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const { db, disk, state } = ctx.get('storage');
      // Copied before the store reads its open deliveries. Once the dispatcher exists it hears what
      // is copied: a broadcast another instance recorded is taken in by the engine (when it runs
      // here), and an emergency's `waitMs` may find its answers.
      let heard: (changes: CopiedChange[]) => void = () => undefined;
      const shipped = broadcastLog(db, state, logger);
      log = shipped;
      await shipped.start((changes) => heard(changes));
      exposeShippedLog(ctx.metrics, ctx.keptRunning, shipped);
      const presence = ctx.get('presence');
      const media = ctx.get('media');
      const stations = ctx.get('stations');
      const store = new BroadcastStore(db, (error) => {
        if (!disk.noteWriteError(error))
          logger.error({ err: error }, 'could not write delivery changes; retrying');
      });
      const service = new Dispatcher({
        store,
        bus: ctx.get('mqtt').bus,
        events: ctx.events,
        clock,
        logger,
        plan: ctx.get('schedules'),
        media: media.library,
        isOnline: (id) => presence.isOnline(id),
        speakers: (id) => presence.speakersOf(id),
        stationUrl: (id) => stations.store.get(id).url,
        leadMs: config.DISPATCH_LEAD_S * 1000,
        graceMs: config.LATE_START_GRACE_S * 1000,
        disk,
      });
      dispatcher = service;
      heard = (changes) => {
        const more = new Set<string>();
        for (const change of changes) {
          if (change.table === 'broadcasts' && change.row?.status === 'active')
            service.adopt(String(change.row.id));
          else if (change.table === 'deliveries' && change.op === 'insert' && change.row)
            more.add(String(change.row.broadcast_id));
        }
        // A broadcast to thousands of clusters is copied in several batches: the rest after the first.
        for (const id of more) service.adoptCopied(id);
        service.noteCopied();
      };
      const cluster = ctx.get('cluster');
      engine = cluster.redis ? { cluster, store, logger, events: ctx.events } : null;
      watch = new RelayWatch({
        store,
        dispatcher: service,
        stations: stations.store,
        policy: stations.policy,
        events: ctx.events,
        clock,
        logger,
        deadAirS: config.STATION_DEAD_AIR_S,
        timeoutMs: config.STATION_TIMEOUT_MS,
      });
      media.addUse({
        references: (id) => [...store.activeUsingMedia(id), ...store.recordingsUsing(id)],
        sentTo: (deviceId, mediaId, now) => store.deliversMediaTo(deviceId, mediaId, now, MEDIA_GRACE_MS),
        linkRevoked: (broadcastId) => store.get(broadcastId)?.status === 'stopped',
      });
      ctx.routes(
        routePlugin('broadcast-routes', broadcastRoutes, {
          dispatcher: service,
          broadcastStore: store,
          registry: ctx.get('registry'),
          media: media.library,
          speech: ctx.get('tts').speech,
          clock,
          timeZone: config.TZ_DEFAULT,
        }),
      );
      return { dispatcher: service, store };
    },
    // Last: the acks answering the dispatcher's questions after a restart must find ingress running.
    // With several instances (docs/scale-out.md) the engine and the relay watch run on the
    // `dispatcher` lease's holder, which goes on from the database as after a restart.
    async ready() {
      const [service, watching] = [dispatcher, watch];
      if (!engine) {
        service?.start();
        watching?.start();
        return;
      }
      if (!service || !watching) return;
      const { cluster, store, logger, events } = engine;
      const redis = cluster.redis;
      if (!redis) return;
      lease = cluster.lease('dispatcher');
      relay = new DispatcherRelay({
        redis,
        instanceId: cluster.instanceId,
        leaseKey: `sc:lease:${lease.name}`,
        dispatcher: service,
        events,
        logger,
        synced: async () => {
          await log
            ?.catchUp()
            .catch((err: unknown) => logger.warn({ err }, 'could not catch up with the broadcast log'));
        },
      });
      await relay.start();
      service.setRemote(relay);
      await lease.start();
      run = runWhileHeld(
        lease,
        {
          resume: async () => {
            // Goes on from what the last holder shipped, as after a restart.
            await log
              ?.catchUp()
              .catch((err: unknown) => logger.warn({ err }, 'could not catch up with the broadcast log'));
            store.reload();
            service.start();
            watching.start();
          },
          pause: async () => {
            watching.stop();
            await service.pause();
          },
          recheck: () => service.adoptRecorded(),
        },
        { logger, recheckEveryMs: cluster.leaseMs },
      );
    },
    async stop() {
      const [running, held, relaying] = [run, lease, relay];
      run = null;
      lease = null;
      relay = null;
      await running?.stop();
      await held?.stop();
      await relaying?.stop();
      engine = null;
      watch?.stop();
      watch = null;
      const stopping = dispatcher;
      dispatcher = null;
      await stopping?.stop();
      const shipping = log;
      log = null;
      await shipping?.stop();
    },
  };
}
