import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';

export const healthRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['platform'],
        summary: 'Liveness and a one-line view of the fleet',
        response: {
          200: z.object({
            status: z.literal('ok'),
            version: z.string(),
            time: z.iso.datetime(),
            broker: z.object({ embedded: z.boolean(), connectedClients: z.int().nullable() }),
            devicesOnline: z.int(),
            history: z.object({
              backend: z.string(),
              buffered: z.int(),
              dropped: z.int(),
              lastError: z.string().nullable(),
            }),
          }),
        },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: deps.version,
      time: new Date(deps.clock.now()).toISOString(),
      broker: deps.brokerStatus(),
      devicesOnline: deps.presence.onlineCount(),
      history: (({ backend, buffered, dropped, lastError }) => ({ backend, buffered, dropped, lastError }))(
        deps.telemetry.stats(),
      ),
    }),
  );

  // Prometheus scrapes with an API token of a technician (Authorization: Bearer sct_…).
  app.get(
    '/metrics',
    { config: { access: ['technician'] }, schema: { hide: true } },
    async (_request, reply) => {
      reply.header('content-type', deps.metrics.contentType);
      return deps.metrics.metrics();
    },
  );
};
