import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { clusterRoutes } from './cluster-routes.js';

declare module '../platform/feature.js' {
  interface Provides {
    clusters: undefined;
  }
}

/**
 * `/clusters`: the registry's clusters as operators and technicians see them, each joined with its
 * live status from presence and the messages ingress refused from it.
 */
export function clustersFeature(): Feature<'clusters'> {
  return {
    name: 'clusters',
    dependsOn: ['registry', 'presence', 'ingress'],
    start(ctx) {
      ctx.routes(
        routePlugin('cluster-routes', clusterRoutes, {
          registry: ctx.get('registry'),
          presence: ctx.get('presence'),
          ingress: ctx.get('ingress'),
        }),
      );
      return undefined;
    },
    stop() {},
  };
}
