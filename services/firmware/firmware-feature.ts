import { join } from 'node:path';
import type { Targets } from '../../contracts/broadcasts.js';
import { typedPublish } from '../../devices/index.js';
import { routePlugin } from '../api/route-plugin.js';
import { type HeldLoop, heldLoop } from '../cluster/singleton-loop.js';
import type { Feature } from '../platform/feature.js';
import { FirmwareLibrary } from './firmware-library.js';
import { firmwareRoutes, imagePath } from './firmware-routes.js';
import { RolloutService } from './rollout-service.js';
import { RolloutStore } from './rollout-store.js';
import { SignedLinks } from './signed-links.js';

declare module '../platform/feature.js' {
  interface Provides {
    firmware: {
      library: FirmwareLibrary;
      rollouts: RolloutService;
      /** Links devices download with, without credentials (firmware images, the drill's test audio). */
      links: SignedLinks;
    };
  }
}

/**
 * Firmware updates: images uploaded with their checksum (verified), served to clusters by signed
 * link, and staged rollouts that follow each cluster through download, verify, install, reboot and
 * back online with the new version, halting by themselves when too many fail (docs/firmware.md).
 */
export function firmwareFeature(): Feature<'firmware'> {
  let rollouts: HeldLoop | null = null;
  const copies: { stop(): Promise<void> }[] = [];
  return {
    name: 'firmware',
    dependsOn: ['storage', 'registry', 'mqtt', 'presence', 'media', 'schedules', 'cluster'],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const { db, disk, state } = ctx.get('storage');
      const registry = ctx.get('registry');
      const presence = ctx.get('presence');
      const media = ctx.get('media');
      const bus = ctx.get('mqtt').bus;
      const links = new SignedLinks(
        await ctx.get('storage').key('firmware-signing.key'),
        () => media.base().url,
      );
      const library = new FirmwareLibrary({
        db,
        state,
        clock,
        logger,
        dir: join(config.DATA_DIR, 'firmware'),
        maxBytes: config.FIRMWARE_MAX_MB * 1024 * 1024,
      });
      await library.start();
      copies.push(library);
      // With DATABASE_URL: this instance's copy, before anything reads it (images first: rollouts refer to them).
      const store = new RolloutStore(db, state, logger);
      await store.start();
      copies.push(store);
      const resolveTargets = (targets: Targets) => ctx.get('schedules').resolveTargets(targets);
      const service = new RolloutService({
        store,
        events: ctx.events,
        publish: typedPublish((topic, payload, opts) => bus.publish(topic, payload, opts)),
        isOnline: (id) => presence.isOnline(id),
        firmwareOf: (id) => presence.status(id).fw,
        placements: () => registry.clusterPlacements(),
        resolveTargets,
        image: (id) => library.get(id),
        imageUrl: (id, expiresAt) => links.url(imagePath(id), expiresAt),
        clock,
        logger,
      });
      // Listening from the start: acks and progress of updates begun before a restart are not missed.
      // With several instances one carries the rollouts out (acks reach every instance's broker), and
      // it looks now and then for rollouts started through another instance.
      rollouts = heldLoop(ctx, 'firmware-rollouts', {
        resume: () => service.start(),
        pause: () => service.stop(),
        recheck: () => service.recheck(),
        stop: () => service.stop(),
      });
      await rollouts.start();
      ctx.routes(
        routePlugin('firmware-routes', firmwareRoutes, {
          library,
          rollouts: service,
          store,
          links,
          registry,
          disk,
          clock,
          resolveTargets,
        }),
      );
      return { library, rollouts: service, links };
    },
    async stop() {
      const stopping = rollouts;
      rollouts = null;
      await stopping?.stop();
      for (const copy of copies.splice(0).reverse()) await copy.stop();
    },
  };
}
