import { routePlugin } from '../api/route-plugin.js';
import { type HeldLoop, heldLoop } from '../cluster/singleton-loop.js';
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
  let expiry: HeldLoop | null = null;
  return {
    name: 'bulletins',
    dependsOn: ['storage', 'registry', 'presence', 'media', 'tts', 'schedules', 'broadcasts', 'cluster'],
    start(ctx) {
      const { dispatcher, store: broadcasts } = ctx.get('broadcasts');
      const media = ctx.get('media').library;
      const presence = ctx.get('presence');
      const service = new BulletinService({
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
      // With several instances one expires the receipts, so each expiry is told once.
      expiry = heldLoop(ctx, 'bulletin-expiry', {
        resume: () => service.start(),
        pause: () => service.stop(),
        recheck: () => service.recheckExpiries(),
        stop: () => service.stop(),
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
    async ready() {
      await expiry?.start();
    },
    async stop() {
      const stopping = expiry;
      expiry = null;
      await stopping?.stop();
    },
  };
}
