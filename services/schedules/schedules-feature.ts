import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { isoTimeOrNull } from '../time.js';
import { groupRoutes } from './group-routes.js';
import { scheduleRoutes } from './schedule-routes.js';
import { ScheduleService } from './schedule-service.js';

declare module '../platform/feature.js' {
  interface Provides {
    schedules: ScheduleService;
  }
}

/**
 * Announcements on a calendar and the named groups of clusters they aim at: `/schedules` (with
 * conflicts and the calendar) and `/groups`. Every change is a `schedules.changed` event, which
 * wakes the dispatcher whoever made it.
 */
export function schedulesFeature(): Feature<'schedules'> {
  let schedules: ScheduleService | null = null;
  return {
    name: 'schedules',
    dependsOn: ['storage', 'registry', 'media', 'tts', 'stations'],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const media = ctx.get('media');
      const { db, state } = ctx.get('storage');
      const service = new ScheduleService({
        db,
        state,
        clock,
        logger,
        registry: ctx.get('registry'),
        mediaDuration: (id) => media.library.get(id).durationS,
        checkStation: (id) => void ctx.get('stations').store.get(id),
        defaultTimezone: config.TZ_DEFAULT,
        onChange: (change) => ctx.events.emit('schedules.changed', { ...change, at: clock.now() }),
      });
      schedules = service;
      await service.start();
      media.addUse({ references: (id) => service.referencesMedia(id) });
      ctx.keptRunning('schedule-expansion', () =>
        service.expansionFailures().reduce((n, failure) => n + failure.count, 0),
      );
      ctx.routes(
        routePlugin('schedule-routes', scheduleRoutes, {
          schedules: service,
          media: media.library,
          speech: ctx.get('tts').speech,
        }),
      );
      ctx.routes(routePlugin('group-routes', groupRoutes, { schedules: service }));
      return service;
    },
    async stop() {
      await schedules?.stop();
      schedules = null;
    },
    health: () => ({
      problems: {
        schedulesNotExpanded: (schedules?.expansionFailures() ?? [])
          .slice(0, 20)
          .map((f) => ({ ...f, since: isoTimeOrNull(f.since) as string })),
      },
    }),
  };
}
