import type { Logger } from 'pino';
import { routePlugin } from '../api/route-plugin.js';
import type { Lease } from '../cluster/lease.js';
import { runWhileHeld, type SingletonRun } from '../cluster/singleton-loop.js';
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
  let lease: Lease | null = null;
  let run: SingletonRun | null = null;
  let recheckEveryMs: number | null = null;
  let logger: Logger | null = null;
  return {
    name: 'bulletins',
    dependsOn: ['storage', 'registry', 'presence', 'media', 'tts', 'schedules', 'broadcasts', 'cluster'],
    start(ctx) {
      const cluster = ctx.get('cluster');
      // With several instances one expires the receipts, so each expiry is told once.
      lease = cluster.lease('bulletin-expiry');
      recheckEveryMs = cluster.redis ? cluster.leaseMs : null;
      logger = ctx.logger;
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
    async ready() {
      const [bulletins, held, log] = [service, lease, logger];
      if (!bulletins || !held || !log) return;
      await held.start();
      run = runWhileHeld(
        held,
        {
          resume: () => bulletins.start(),
          pause: () => bulletins.stop(),
          recheck: () => bulletins.recheckExpiries(),
        },
        { logger: log, recheckEveryMs },
      );
    },
    async stop() {
      const [running, held] = [run, lease];
      run = null;
      lease = null;
      await running?.stop();
      service?.stop();
      service = null;
      await held?.stop();
    },
  };
}
