import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_SUMMARY_DAYS, SummaryQuerySchema, SummaryReportSchema } from '../../contracts/reports.js';
import { errorResponses } from '../api/pagination.js';
import { InvalidRequestError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { formatWallTime, instantToWallTime } from '../schedules/wall-time.js';
import { summaryCsv } from './report-csv.js';
import { REPORT_CSP, summaryHtml } from './report-html.js';
import { resolveScope } from './report-scope.js';
import type { ReportService } from './report-service.js';
import { REPORT_WORDS } from './report-words.js';

export interface ReportRouteDeps {
  reports: ReportService;
  registry: RegistryStore;
  /** The platform's default time zone (TZ_DEFAULT), for a report of several communes. */
  timeZone: string;
}

const DAY_MS = 86_400_000;
/** The broadcasts the printable report lists; the JSON pages through all of them. */
const HTML_BROADCASTS = 500;

/** The reports a commune or a province sends to the level above (Circular 39). */
export const reportRoutes: FastifyPluginAsyncZod<{ deps: ReportRouteDeps }> = async (app, { deps }) => {
  const { reports, registry } = deps;

  app.get(
    '/reports/summary',
    {
      config: { access: ['operator', 'approver', 'viewer'] },
      schema: {
        tags: ['reports'],
        summary:
          'The summary report upward: bulletins by level and origin, hours aired, delivery rate, availability and faults, per commune',
        description:
          'Counts add up to the broadcast log (GET /broadcasts) for the same period and communes. ' +
          'format=csv gives one row per commune and a total row (UTF-8 with BOM); format=html a ' +
          'self-contained A4 report to print, sign and stamp. The JSON pages the list of broadcasts.',
        querystring: SummaryQuerySchema,
        response: {
          200: z
            .union([SummaryReportSchema, z.string()])
            .describe('JSON, or text/csv with format=csv, or text/html with format=html'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const range = { from: Date.parse(q.from), to: Date.parse(q.to) };
      if (range.to <= range.from) throw new InvalidRequestError('querystring.to: must be after from');
      if (range.to - range.from > MAX_SUMMARY_DAYS * DAY_MS)
        throw new InvalidRequestError(`querystring.to: at most ${MAX_SUMMARY_DAYS} days after from`);
      const words = REPORT_WORDS[q.lang];
      const scope = resolveScope(request.principal, q, registry, deps.timeZone, words);
      const page =
        q.format === 'html' ? { limit: HTML_BROADCASTS, offset: 0 } : { limit: q.limit, offset: q.offset };
      const report = await reports.summary(scope, range, page);
      if (q.format === 'json') return report;

      const day = (ms: number) => formatWallTime(instantToWallTime(ms, scope.timeZone)).slice(0, 10);
      const name = `bao-cao-tong-hop-${scope.id ?? 'tat-ca'}-${day(range.from)}-${day(range.to - 1)}`;
      if (q.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}.csv"`)
          .serializer((payload: string) => payload)
          .send(summaryCsv(report, q.lang));
      }
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', REPORT_CSP)
        .header('content-disposition', `inline; filename="${name}.html"`)
        .serializer((payload: string) => payload)
        .send(summaryHtml(report, q.lang));
    },
  );
};
