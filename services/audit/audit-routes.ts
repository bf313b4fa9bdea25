import { stringify } from 'csv-stringify/sync';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AUDIT_OUTCOMES, AuditEntrySchema } from '../../contracts/audit.js';
import type { Clock } from '../../devices/index.js';
import { PageQuerySchema } from '../api/pagination.js';
import { InvalidRequestError } from '../errors.js';
import type { AuditLog } from './audit-log.js';

const CSV_COLUMNS = [
  'at',
  'actorType',
  'actorName',
  'actorId',
  'actorRoles',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'status',
  'address',
  'before',
  'after',
  'detail',
  'requestId',
] as const;
const CSV_MAX_ROWS = 100_000;

export interface AuditRouteDeps {
  audit: AuditLog;
  clock: Clock;
}

export const auditRoutes: FastifyPluginAsyncZod<{ deps: AuditRouteDeps }> = async (app, { deps }) => {
  app.get(
    '/audit',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['accounts'],
        summary: 'The audit log, newest first; format=csv downloads it',
        description: `With format=csv, limit may go up to ${CSV_MAX_ROWS} rows.`,
        querystring: PageQuerySchema.extend({
          limit: z.coerce.number().int().min(1).max(CSV_MAX_ROWS).default(50),
          from: z.iso.datetime().optional(),
          to: z.iso.datetime().optional(),
          actor: z.string().max(80).optional().describe('user id or username'),
          action: z.string().max(80).optional(),
          targetType: z.string().max(40).optional(),
          targetId: z.string().max(80).optional(),
          outcome: z.enum(AUDIT_OUTCOMES).optional(),
          requestId: z.string().max(80).optional(),
          format: z.enum(['json', 'csv']).default('json'),
        }),
        response: {
          200: z
            .union([
              z.object({ items: z.array(AuditEntrySchema), total: z.int(), limit: z.int(), offset: z.int() }),
              z.string(),
            ])
            .describe('JSON page, or text/csv with format=csv'),
        },
      },
    },
    async (request, reply) => {
      const { limit, offset, from, to, format, ...filter } = request.query;
      const range = { from: from ? Date.parse(from) : undefined, to: to ? Date.parse(to) : undefined };
      if (format === 'json' && limit > 500) {
        throw new InvalidRequestError('querystring.limit: at most 500 for JSON; use format=csv for more');
      }
      const result = await deps.audit.query({ ...filter, ...range }, { limit, offset });
      if (format === 'json') return { ...result, limit, offset };
      const rows = result.items.map((e) => ({
        ...e,
        actorRoles: e.actorRoles.join(' '),
        before: e.before === null ? '' : JSON.stringify(e.before),
        after: e.after === null ? '' : JSON.stringify(e.after),
        detail: e.detail === null ? '' : JSON.stringify(e.detail),
      }));
      const day = new Date(deps.clock.now()).toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${day}.csv"`)
        .serializer((payload: string) => payload)
        .send(`\uFEFF${stringify(rows, { header: true, columns: [...CSV_COLUMNS] })}`);
    },
  );
};
