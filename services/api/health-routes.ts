import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Clock } from '../../devices/index.js';

/** A loudspeaker, the console's icon. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#b91c1c"/>' +
  '<path d="M7 13h5l7-6v18l-7-6H7z" fill="#fff"/><path d="M22 11a7 7 0 0 1 0 10M24.5 8a11 11 0 0 1 0 16" ' +
  'stroke="#fff" stroke-width="2" fill="none" stroke-linecap="round"/></svg>';

/** `/healthz`: each feature fills its own part (its `health()`); the platform adds the rest. */
export const HealthSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  time: z.iso.datetime(),
  broker: z.object({ embedded: z.boolean(), connectedClients: z.int().nullable() }),
  devicesOnline: z.int(),
  history: z.object({
    backend: z.string(),
    state: z.enum(['ok', 'failing']).describe('failing while writes are being retried'),
    failingSince: z.iso.datetime().nullable(),
    buffered: z.int(),
    dropped: z.int(),
    lastError: z.string().nullable().describe('the last write error, even after recovery'),
    lastErrorAt: z.iso.datetime().nullable(),
  }),
  media: z
    .object({
      baseUrl: z.string().describe('where clusters download media from'),
      source: z.enum(['configured', 'http-host', 'lan-address', 'loopback']),
      warning: z.string().nullable().describe('set when real clusters probably cannot reach it'),
    })
    .describe('PUBLIC_BASE_URL, or the address derived when it is unset'),
  problems: z
    .object({
      schedulesNotExpanded: z
        .array(
          z.object({
            scheduleId: z.string(),
            name: z.string(),
            count: z.int(),
            since: z.iso.datetime(),
            lastError: z.string(),
          }),
        )
        .describe('schedules the dispatcher cannot expand (first 20): they do not play'),
      auditWriteFailures: z.int().describe('audit entries that could not be written since start'),
      cameraPollsUnsaved: z.object({
        cameras: z.int().describe('cameras whose latest poll is known but not yet stored'),
        failures: z.int(),
        lastError: z.string().nullable(),
        lastErrorAt: z.iso.datetime().nullable(),
      }),
      eventListenerFailures: z
        .array(z.object({ owner: z.string(), event: z.string(), count: z.int() }))
        .describe('services whose event listeners failed since start'),
      databaseSharedWithoutRedis: z
        .boolean()
        .describe(
          'another instance uses this PostgreSQL and one of them has no REDIS_URL: each runs every loop and would send every broadcast',
        ),
    })
    .describe('errors the platform kept running through; each is also on /metrics'),
  https: z
    .object({
      source: z.enum(['files', 'self-signed']),
      fingerprint: z
        .string()
        .describe('SHA-256 of the certificate to trust (the local authority when self-signed)'),
      validTo: z.iso.datetime(),
      mediaHttpPort: z.int().nullable().describe('the plain-HTTP port for media downloads, when one is open'),
    })
    .nullable()
    .describe('null when the API is plain HTTP'),
  disk: z.object({
    state: z.enum(['ok', 'low', 'full']),
    freeBytes: z.int().nullable(),
    totalBytes: z.int().nullable(),
    reserveBytes: z.int().describe('held back for emergency bulletins'),
    lastError: z.string().nullable(),
    lastErrorAt: z.iso.datetime().nullable(),
  }),
});
export type HealthBody = z.infer<typeof HealthSchema>;
/** A feature's part of `/healthz`: top-level sections, and entries of `problems`. */
export type HealthEntry = Partial<Omit<HealthBody, 'problems' | 'status' | 'version' | 'time'>> & {
  problems?: Partial<HealthBody['problems']>;
};

export interface HealthRouteDeps {
  version: string;
  clock: Clock;
  /** The Prometheus registry /metrics serves. */
  metrics: Registry;
  /** Every feature's health entry, merged. */
  health(): HealthEntry;
}

export const healthRoutes: FastifyPluginAsyncZod<{ deps: HealthRouteDeps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['platform'],
        summary: 'Liveness and a one-line view of the fleet',
        response: { 200: HealthSchema },
      },
    },
    async () =>
      ({
        ...deps.health(),
        status: 'ok' as const,
        version: deps.version,
        time: new Date(deps.clock.now()).toISOString(),
      }) as HealthBody,
  );

  // Browsers and bookmarks ask for it on every page; a 404 in every log is noise.
  app.get('/favicon.ico', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON),
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
