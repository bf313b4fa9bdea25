import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { administrativeUnitRoutes } from './administrative-unit-routes.js';
import { AdministrativeUnitCatalogue } from './administrative-units.js';
import { communeRoutes } from './commune-routes.js';
import { RegistryStore } from './registry-store.js';
import { seedPreset } from './seed.js';
import { villageRoutes } from './village-routes.js';

declare module '../platform/feature.js' {
  interface Provides {
    registry: RegistryStore;
  }
}

/**
 * Communes, villages and clusters (with their device secrets), `/communes` and `/villages`, the
 * national list of administrative units (`/administrative-units`), and the preset fleet a new
 * platform starts with. Every change is a `registry.changed` event.
 */
export function registryFeature(): Feature<'registry'> {
  let started: RegistryStore | null = null;
  return {
    name: 'registry',
    dependsOn: ['storage'],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const storage = ctx.get('storage');
      const registry = new RegistryStore({
        db: storage.db,
        state: storage.state,
        now: () => clock.now(),
        defaultTimezone: config.TZ_DEFAULT,
        logger: logger.child({ component: 'registry' }),
        onChange: (change) => ctx.events.emit('registry.changed', { ...change, at: clock.now() }),
      });
      started = registry;
      await registry.start();
      if (config.SEED_PRESET !== 'none') await seedPreset(registry, config.SEED_PRESET, logger);
      const catalogue = AdministrativeUnitCatalogue.shipped();
      ctx.routes(routePlugin('commune-routes', communeRoutes, { registry, catalogue }));
      ctx.routes(
        routePlugin('administrative-unit-routes', administrativeUnitRoutes, { registry, catalogue }),
      );
      ctx.routes(routePlugin('village-routes', villageRoutes, { registry }));
      return registry;
    },
    async stop() {
      await started?.stop();
      started = null;
    },
  };
}
