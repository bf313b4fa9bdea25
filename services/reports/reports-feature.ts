import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
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
 * commune and for a province, in JSON, CSV and a printable page. It only reads: the broadcast
 * log's tables (after the broadcast store writes what it holds in memory), the registry and the
 * presence history.
 */
export function reportsFeature(): Feature<'reports'> {
  return {
    name: 'reports',
    dependsOn: ['storage', 'registry', 'history', 'broadcasts'],
    start(ctx) {
      const registry = ctx.get('registry');
      const broadcasts = ctx.get('broadcasts');
      const reports = new ReportService({
        queries: new SummaryQueries(ctx.get('storage').db),
        registry,
        telemetry: ctx.get('history').store,
        flushDeliveries: () => broadcasts.store.flush(),
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
    stop() {},
  };
}
