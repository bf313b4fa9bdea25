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
  let store: BulletinStore | null = null;
  return {
    name: 'bulletins',
    dependsOn: ['storage', 'registry', 'presence', 'media', 'tts', 'schedules', 'broadcasts', 'cluster'],
    async start(ctx) {
      const { dispatcher, store: broadcasts } = ctx.get('broadcasts');
      const { db, state } = ctx.get('storage');
      const bulletins = new BulletinStore({ db, state, logger: ctx.logger });
      store = bulletins;
      await bulletins.start();
      const media = ctx.get('media').library;
      const presence = ctx.get('presence');
      const service = new BulletinService({
        store: bulletins,
        registry: ctx.get('registry'),
        schedules: ctx.get('schedules'),
        dispatcher,
        broadcasts,
        media,
        events: ctx.events,
        clock: ctx.clock,
        logger: ctx.logger,
      });
      // A bulletin sent on another instance may expire first: the expiry's holder looks again.
      bulletins.onChange((change) => {
        if (change.elsewhere && change.change === 'created') service.recheckExpiries();
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
      const copying = store;
      store = null;
      await copying?.stop();
    },
  };
}
