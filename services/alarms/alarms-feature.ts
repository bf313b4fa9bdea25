import { routePlugin } from '../api/route-plugin.js';
import { runWhileHeld, type SingletonRun } from '../cluster/singleton-loop.js';
import type { Feature } from '../platform/feature.js';
import { AlarmEngine, type DevicePlace } from './alarm-engine.js';
import { alarmRoutes } from './alarm-routes.js';
import { AlarmStore } from './alarm-store.js';

declare module '../platform/feature.js' {
  interface Provides {
    alarms: { store: AlarmStore; engine: AlarmEngine };
  }
}

/**
 * Alarms that reach people: rules per commune, debounced alarms that are acknowledged and clear by
 * themselves, village outages instead of storms, and maintenance windows that hold alarms.
 */
export function alarmsFeature(): Feature<'alarms'> {
  let engine: AlarmEngine | null = null;
  let run: SingletonRun | null = null;
  let stored: AlarmStore | null = null;
  return {
    name: 'alarms',
    dependsOn: ['storage', 'registry', 'cameras'],
    async start(ctx) {
      const registry = ctx.get('registry');
      const cameras = ctx.get('cameras').store;
      const { db, state } = ctx.get('storage');
      const store = new AlarmStore({
        db,
        state,
        logger: ctx.logger.child({ component: 'alarm-store' }),
        // Another instance changed a commune's rules: the engine reads them again at once.
        onRulesCopied: (communeId) => engine?.rulesChanged(communeId),
      });
      stored = store;
      await store.start();
      const placeOf = (deviceId: string): DevicePlace | null => {
        const cluster = registry.findCluster(deviceId);
        if (cluster) return { kind: 'cluster', communeId: cluster.communeId, villageId: cluster.villageId };
        // The cameras' directory: the engine decides within the event that reports the device.
        const camera = cameras.known(deviceId);
        return camera ? { kind: 'camera', communeId: camera.communeId, villageId: camera.villageId } : null;
      };
      const devicesOfVillage = (villageId: string): string[] => [
        ...registry.listClusters({ villageId }, { limit: 10_000, offset: 0 }).items.map((c) => c.id),
        ...cameras.knownIn({ villageId }).map((c) => c.id),
      ];
      const villageName = (villageId: string) => {
        try {
          return registry.getVillage(villageId).name;
        } catch {
          return villageId;
        }
      };
      engine = new AlarmEngine({
        store,
        events: ctx.events,
        clock: ctx.clock,
        logger: ctx.logger,
        placeOf,
        devicesOfVillage,
        villageName,
      });
      const running = engine;
      ctx.keptRunning('alarm-engine', () => running.errorCount());
      // One engine across instances, on the camera poller's holder: camera alarms come from the
      // health changes only that instance sees. A new holder starts from the stored alarms.
      run = runWhileHeld(
        ctx.get('cameras').poller,
        { resume: () => running.start(), pause: () => running.stop() },
        { logger: ctx.logger },
      );
      ctx.routes(
        routePlugin('alarm-routes', alarmRoutes, {
          store,
          engine,
          registry,
          clock: ctx.clock,
          events: ctx.events,
          placeOf,
          devicesOfVillage,
          villageName,
          cameraName: (id) => cameras.known(id)?.name ?? null,
        }),
      );
      return { store, engine };
    },
    async stop() {
      const stopping = run;
      run = null;
      engine = null;
      await stopping?.stop();
      const closing = stored;
      stored = null;
      await closing?.stop();
    },
  };
}
