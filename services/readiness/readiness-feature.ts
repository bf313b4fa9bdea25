import type { Targets } from '../../contracts/broadcasts.js';
import { typedPublish } from '../../devices/index.js';
import { routePlugin } from '../api/route-plugin.js';
import { type HeldLoop, heldLoop } from '../cluster/singleton-loop.js';
import { NotFoundError } from '../errors.js';
import { SignedLinks } from '../firmware/signed-links.js';
import type { Feature } from '../platform/feature.js';
import { DrillScheduler } from './drill-scheduler.js';
import { DrillService } from './drill-service.js';
import { DrillStore } from './drill-store.js';
import { readinessRoutes, TEST_AUDIO_PATH } from './readiness-routes.js';
import { testAudio } from './test-audio.js';

declare module '../platform/feature.js' {
  interface Provides {
    readiness: { drills: DrillService; scheduler: DrillScheduler };
  }
}

/**
 * Silent readiness drills: on demand or weekly per commune, each cluster checks it can download and
 * decode a test file and that its amplifier and every speaker line answer; the report says, per
 * cluster and village, what is ready for the next alarm (docs/protocol.md, `selftest`).
 */
export function readinessFeature(): Feature<'readiness'> {
  let drills: HeldLoop | null = null;
  let weeklyDrills: HeldLoop | null = null;
  let copied: DrillStore | null = null;
  return {
    name: 'readiness',
    dependsOn: ['storage', 'registry', 'mqtt', 'presence', 'media', 'schedules', 'cluster'],
    async start(ctx) {
      const { clock, logger } = ctx;
      const registry = ctx.get('registry');
      const presence = ctx.get('presence');
      const media = ctx.get('media');
      const bus = ctx.get('mqtt').bus;
      const store = new DrillStore(ctx.get('storage').db, ctx.get('storage').state, logger);
      // With DATABASE_URL: this instance's copy, before anything reads it.
      await store.start();
      copied = store;
      const links = new SignedLinks(
        await ctx.get('storage').key('readiness-signing.key'),
        () => media.base().url,
      );
      const audio = testAudio();
      const resolveTargets = (targets: Targets) => ctx.get('schedules').resolveTargets(targets);
      const service = new DrillService({
        store,
        events: ctx.events,
        publish: typedPublish((topic, payload, opts) => bus.publish(topic, payload, opts)),
        isOnline: (id) => presence.isOnline(id),
        placements: () => registry.clusterPlacements(),
        resolveTargets,
        testAudio: (expiresAt) => ({
          url: links.url(TEST_AUDIO_PATH, expiresAt),
          sizeBytes: audio.sizeBytes,
          sha256: audio.sha256,
        }),
        clock,
        logger,
      });
      // Listening from the start: answers to a drill begun before a restart are not missed. With
      // several instances one hears the answers (they reach every instance's broker) and ends drills.
      drills = heldLoop(ctx, 'readiness-drills', {
        resume: () => service.start(),
        pause: () => service.stop(),
        recheck: () => service.recheck(),
        stop: () => service.stop(),
      });
      await drills.start();
      const weekly = new DrillScheduler({
        store,
        drills: service,
        timezoneOf: (communeId) => {
          try {
            return registry.getCommune(communeId).timezone;
          } catch (error) {
            // A commune removed since its schedule was set: nothing left to drill.
            if (error instanceof NotFoundError) return null;
            throw error;
          }
        },
        clock,
        logger,
      });
      // With several instances one starts the weekly drills, so each commune drills once a week.
      // The holder reads the schedules again now and then: one may have changed through another instance.
      weeklyDrills = heldLoop(ctx, 'drill-scheduler', {
        resume: () => weekly.start(),
        pause: () => weekly.stop(),
        recheck: () => weekly.arm(),
        stop: () => weekly.stop(),
      });
      ctx.routes(
        routePlugin('readiness-routes', readinessRoutes, {
          drills: service,
          scheduler: weekly,
          store,
          registry,
          links,
          audio,
          clock,
          resolveTargets,
        }),
      );
      return { drills: service, scheduler: weekly };
    },
    // Once the API listens: a drill due now can hand out links to the test audio.
    async ready() {
      await weeklyDrills?.start();
    },
    async stop() {
      const stopping = weeklyDrills;
      weeklyDrills = null;
      await stopping?.stop();
      const answers = drills;
      drills = null;
      await answers?.stop();
      const store = copied;
      copied = null;
      await store?.stop();
    },
  };
}
