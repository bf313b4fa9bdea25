import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { stationRoutes } from './station-routes.js';
import { StationStore } from './station-store.js';
import { StationAddressPolicy } from './station-watch.js';

declare module '../platform/feature.js' {
  interface Provides {
    stations: { store: StationStore; policy: StationAddressPolicy };
  }
}

/**
 * Radio stations a commune relays (VOV, the provincial station), kept by admins with their
 * fallback, and `/stations`. Relays of them are broadcasts, watched by the broadcasts feature.
 */
export function stationsFeature(): Feature<'stations'> {
  let started: StationStore | null = null;
  return {
    name: 'stations',
    dependsOn: ['storage', 'media'],
    async start(ctx) {
      const { config, clock, endpoints } = ctx;
      const { db, state } = ctx.get('storage');
      const store = new StationStore({
        db,
        state,
        now: () => clock.now(),
        logger: ctx.logger.child({ component: 'stations' }),
      });
      started = store;
      await store.start();
      const policy = new StationAddressPolicy({
        allowLoopback: config.STATION_ALLOW_LOOPBACK,
        deniedPorts: () => [
          endpoints.httpPort() ?? config.HTTP_PORT,
          endpoints.mqttPort() ?? config.MQTT_PORT,
        ],
      });
      ctx.routes(
        routePlugin('station-routes', stationRoutes, {
          stations: store,
          media: ctx.get('media').library,
          policy,
          timeoutMs: config.STATION_TIMEOUT_MS,
        }),
      );
      return { store, policy };
    },
    async stop() {
      await started?.stop();
      started = null;
    },
  };
}
