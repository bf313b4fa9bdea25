import { join } from 'node:path';
import { LIVE_NAMESPACE } from '../../contracts/live.js';
import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { liveRoutes } from './live-routes.js';
import { LiveService } from './live-service.js';

declare module '../platform/feature.js' {
  interface Provides {
    live: LiveService;
  }
}

/**
 * Live talk from the console's microphone (and clips recorded the same way): the `/live`
 * Socket.IO namespace, the MP3 stream clusters play, and the recordings kept in the media library.
 * Listed before the API (its stream route) and realtime (its namespace).
 */
export function liveFeature(): Feature<'live'> {
  let live: LiveService | null = null;
  return {
    name: 'live',
    dependsOn: ['storage', 'registry', 'media', 'broadcasts', 'audit'],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const media = ctx.get('media');
      const broadcasts = ctx.get('broadcasts');
      const service = new LiveService({
        dispatcher: broadcasts.dispatcher,
        broadcasts: broadcasts.store,
        registry: ctx.get('registry'),
        media: media.library,
        baseUrl: () => media.base().url,
        audit: ctx.get('audit'),
        clock,
        logger,
        dir: join(config.DATA_DIR, 'live'),
        signingKey: await ctx.get('storage').key('live-signing.key'),
        maxDurationS: config.LIVE_MAX_MIN * 60,
        silenceLimitS: config.LIVE_SILENCE_S,
      });
      live = service;
      ctx.routes(routePlugin('live-routes', liveRoutes, { live: service, clock }));
      ctx.namespace({
        name: LIVE_NAMESPACE,
        roles: ['operator'],
        attach: (namespace) => service.attach(namespace),
      });
      return service;
    },
    // Once the dispatcher runs: talks a crash cut short are ended on the clusters, their recordings kept.
    async ready() {
      await live?.recoverInterrupted();
    },
    async stop() {
      const stopping = live;
      live = null;
      await stopping?.stop();
    },
  };
}
