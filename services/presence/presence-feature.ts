import { Gauge } from 'prom-client';
import type { Feature } from '../platform/feature.js';
import { PresenceService } from './presence-service.js';
import { PresenceStore } from './presence-store.js';
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
  return {
    name: 'presence',
    // After history: the transitions it replays at start are recorded too.
    dependsOn: ['storage', 'registry', 'history', 'cluster'],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const cluster = ctx.get('cluster');
      const service = new PresenceService({
        events: ctx.events,
        store: new PresenceStore(ctx.get('storage').db),
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
    },
    health: () => ({ devicesOnline: presence?.onlineCount() ?? 0 }),
  };
}
