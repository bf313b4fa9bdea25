import { Gauge } from 'prom-client';
import type { Feature } from '../platform/feature.js';
import { PresenceService } from './presence-service.js';
import { PresenceStore } from './presence-store.js';

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
  return {
    name: 'presence',
    // After history: the transitions it replays at start are recorded too.
    dependsOn: ['storage', 'registry', 'history'],
    start(ctx) {
      const { config, clock, logger } = ctx;
      const service = new PresenceService({
        events: ctx.events,
        store: new PresenceStore(ctx.get('storage').db),
        clock,
        logger,
        heartbeatIntervalS: config.HEARTBEAT_INTERVAL_S,
        missedHeartbeats: config.HEARTBEAT_MISSED_LIMIT,
        timeoutOverrides: ctx.get('registry').clusterTimeouts(),
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
      return service;
    },
    stop() {
      presence?.stop();
      presence = null;
    },
    health: () => ({ devicesOnline: presence?.onlineCount() ?? 0 }),
  };
}
