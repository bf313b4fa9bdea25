import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { type DemoSimulators, demoRoutes } from './demo-routes.js';

declare module '../platform/feature.js' {
  interface Provides {
    demo: undefined;
  }
}

/** `npm run demo`'s fault panel: technicians inject faults into the simulated clusters and cameras. */
export function demoFeature(simulators: DemoSimulators): Feature<'demo'> {
  return {
    name: 'demo',
    dependsOn: ['registry', 'cameras'],
    start(ctx) {
      ctx.routes(
        routePlugin('demo-routes', demoRoutes, {
          registry: ctx.get('registry'),
          cameras: ctx.get('cameras').store,
          simulators,
        }),
      );
      return undefined;
    },
    stop() {},
  };
}
