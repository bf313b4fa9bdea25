import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { bulletinRoutes } from './bulletin-routes.js';
import { BulletinService } from './bulletin-service.js';
import { BulletinStore } from './bulletin-store.js';

declare module '../platform/feature.js' {
  interface Provides {
    bulletins: BulletinService;
  }
}

/**
 * The province tier of Circular 39: bulletins sent down to communes (`/provincial-bulletins`),
 * the communes' inboxes (`/inbox`), and their receipts going back up.
 */
export function bulletinsFeature(): Feature<'bulletins'> {
  let service: BulletinService | null = null;
  return {
    name: 'bulletins',
    dependsOn: ['storage', 'registry', 'presence', 'media', 'tts', 'schedules', 'broadcasts'],
    start(ctx) {
      const { dispatcher, store: broadcasts } = ctx.get('broadcasts');
      const media = ctx.get('media').library;
      const presence = ctx.get('presence');
      service = new BulletinService({
        store: new BulletinStore(ctx.get('storage').db),
        registry: ctx.get('registry'),
        schedules: ctx.get('schedules'),
        dispatcher,
        broadcasts,
        media,
        events: ctx.events,
        clock: ctx.clock,
        logger: ctx.logger,
      });
      ctx.routes(
        routePlugin('bulletin-routes', bulletinRoutes, {
          bulletins: service,
          registry: ctx.get('registry'),
          media,
          speech: ctx.get('tts').speech,
          isOnline: (id) => presence.isOnline(id),
        }),
      );
      return service;
    },
    ready() {
      service?.start();
    },
    stop() {
      service?.stop();
      service = null;
    },
  };
}
