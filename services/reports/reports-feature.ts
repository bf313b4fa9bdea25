import { maintenanceSpans } from '../alarms/maintenance-downtime.js';
import { routePlugin } from '../api/route-plugin.js';
import { FINAL_DELIVERY_STATES } from '../broadcasts/types.js';
import { type HeldLoop, heldLoop } from '../cluster/singleton-loop.js';
import type { Feature } from '../platform/feature.js';
import { ReportRollup } from './report-rollup.js';
import { reportRoutes } from './report-routes.js';
import { ReportService } from './report-service.js';
import { SummaryQueries } from './summary-queries.js';

declare module '../platform/feature.js' {
  interface Provides {
    reports: ReportService;
  }
}

/**
 * Reports upward (Circular 39: a station reports to the level above): `/reports/summary`, per
 * commune and for a province, in JSON, CSV and a printable page. It reads the broadcast log's
 * tables (after the broadcast store writes what it holds in memory), the registry and the presence
 * history, and keeps a daily rollup of the log (report-rollup.ts) so a province's month is cheap.
 */
export function reportsFeature(): Feature<'reports'> {
  let off: (() => void) | null = null;
  let building: HeldLoop | null = null;
  return {
    name: 'reports',
    dependsOn: ['storage', 'registry', 'history', 'broadcasts', 'cluster'],
    async start(ctx) {
      const registry = ctx.get('registry');
      const broadcasts = ctx.get('broadcasts');
      const queries = new SummaryQueries(ctx.get('storage').db);
      const flushDeliveries = () => broadcasts.store.flush();
      const days = new ReportRollup({
        db: ctx.get('storage').db,
        queries,
        clock: ctx.clock,
        timeZone: ctx.config.TZ_DEFAULT,
        flushDeliveries,
        logger: ctx.logger,
      });
      // A delivery that became final may complete a day that is already over.
      off = ctx.events.on(
        'broadcast.delivery',
        ({ state }) => {
          if (FINAL_DELIVERY_STATES.includes(state)) days.deliveryFinal();
        },
        'reports',
      );
      // With several instances sharing a database one builds the rollup (the same days); a new
      // holder starts as after a restart. With DATABASE_URL each instance's file holds its own copy
      // of the broadcast log, and each builds its own rollup of it.
      building =
        ctx.get('storage').state.engine === 'postgres'
          ? {
              start: async () => {
                await days.start();
              },
              stop: async () => {
                await days.stop();
              },
            }
          : heldLoop(ctx, 'report-rollup', {
              resume: () => days.start(),
              pause: () => days.pause(),
              stop: async () => {
                await days.stop();
              },
            });
      await building.start();
      const reports = new ReportService({
        queries,
        rollup: days,
        registry,
        telemetry: ctx.get('history').store,
        // The alarms' maintenance windows, read like the broadcast log's tables.
        maintenanceSpans: (range, communeIds) => maintenanceSpans(ctx.get('storage').db, range, communeIds),
        flushDeliveries,
        clock: ctx.clock,
        logger: ctx.logger,
      });
      ctx.routes(
        routePlugin('report-routes', reportRoutes, {
          reports,
          registry,
          timeZone: ctx.config.TZ_DEFAULT,
        }),
      );
      return reports;
    },
    async stop() {
      off?.();
      off = null;
      const stopping = building;
      building = null;
      await stopping?.stop();
    },
  };
}
