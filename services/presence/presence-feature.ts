import { Gauge } from 'prom-client';
import { type HeldLoop, heldLoop } from '../cluster/singleton-loop.js';
import type { Feature } from '../platform/feature.js';
import { exposeShippedLog, ShippedLog } from '../storage/sql/shipped-log.js';
import { PresenceService } from './presence-service.js';
import { PRESENCE_LOG_TABLES, PresenceStore } from './presence-store.js';
import { SharedConnections } from './shared-connections.js';

declare module '../platform/feature.js' {
  interface Provides {
    presence: PresenceService;
  }
}

/**
 * Who is online: each cluster's presence from its connection, state messages, heartbeats and will,
 * its offline timeout (the registry's override or the configured interval), and the transitions as
 * `device.presence` events.
 */
export function presenceFeature(): Feature<'presence'> {
  let presence: PresenceService | null = null;
  let shared: SharedConnections | null = null;
  let recorder: HeldLoop | null = null;
  let log: ShippedLog | null = null;
  return {
    name: 'presence',
    // After history: the transitions it replays at start are recorded too.
    dependsOn: ['storage', 'registry', 'history', 'cluster'],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const cluster = ctx.get('cluster');
      const { db, state } = ctx.get('storage');
      // With several instances the history is recorded by one (each follows every device, so each
      // would record the same periods into the shared file or PostgreSQL at slightly different
      // times); with DATABASE_URL it is shipped to PostgreSQL and the others copy it.
      const shipped = new ShippedLog(
        db,
        state,
        logger.child({ component: 'presence-log' }),
        'presence_log',
        PRESENCE_LOG_TABLES,
      );
      log = shipped;
      await shipped.start(() => undefined);
      exposeShippedLog(ctx.metrics, ctx.keptRunning, shipped);
      let recording = !cluster.redis && state.engine !== 'postgres';
      if (!recording) {
        recorder = heldLoop(ctx, 'presence-history', {
          resume: async () => {
            await shipped
              .catchUp()
              .catch((err: unknown) => logger.warn({ err }, 'could not catch up with the presence history'));
            recording = true;
          },
          pause: () => {
            recording = false;
          },
          stop: async () => {
            recording = false;
          },
        });
        await recorder.start();
      }
      const service = new PresenceService({
        events: ctx.events,
        store: new PresenceStore(db, () => recording),
        clock,
        logger,
        heartbeatIntervalS: config.HEARTBEAT_INTERVAL_S,
        missedHeartbeats: config.HEARTBEAT_MISSED_LIMIT,
        timeoutOverrides: ctx.get('registry').clusterTimeouts(),
        // With REDIS_URL, sessions on every instance count, through shared-connections.ts.
        connectionsFromBus: cluster.redis === null,
      });
      presence = service;
      new Gauge({
        name: 'sc_devices_online',
        help: 'Devices currently online',
        registers: [ctx.metrics],
        collect() {
          this.set(presence?.onlineCount() ?? 0);
        },
      });
      service.start();
      if (cluster.redis) {
        shared = new SharedConnections({
          redis: cluster.redis,
          instanceId: cluster.instanceId,
          liveness: cluster.liveness,
          livenessKey: cluster.livenessKey,
          reapEveryMs: Math.max(100, Math.floor(cluster.leaseMs / 3)),
          events: ctx.events,
          apply: (deviceId, connected, end) => service.connection(deviceId, connected, end),
          logger,
        });
        await shared.start();
      }
      return service;
    },
    async stop() {
      const stopping = shared;
      shared = null;
      await stopping?.stop();
      presence?.stop();
      presence = null;
      const [recording, shipping] = [recorder, log];
      recorder = null;
      log = null;
      await recording?.stop();
      await shipping?.stop();
    },
    health: () => ({ devicesOnline: presence?.onlineCount() ?? 0 }),
  };
}
