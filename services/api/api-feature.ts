import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Counter } from 'prom-client';
import { LISTEN_BACKLOG } from '../../broker/mqtt-broker.js';
import type { Feature } from '../platform/feature.js';
import { buildApp } from './app.js';
import { consoleRoutes } from './console-routes.js';
import { type HealthEntry, healthRoutes } from './health-routes.js';
import { routePlugin } from './route-plugin.js';

declare module '../platform/feature.js' {
  interface Provides {
    api: FastifyInstance;
  }
}

/** What the platform gives the API beyond its dependencies: every feature's routes and health. */
export interface ApiSources {
  /** The route plugins the features before this one added (ctx.routes). */
  routes(): FastifyPluginAsync[];
  /** Every feature's health entry, merged. */
  health(): HealthEntry;
  /** Told the port once the server listens. */
  listening(port: number): void;
  version: string;
  /** The built web console, or null to keep `/` on the API reference. */
  webRoot: string | null;
}

/**
 * The HTTP API: sign-in, access and the audit trail on every route, the OpenAPI reference at /docs,
 * /healthz and /metrics, the console's files, MQTT over WebSocket at /mqtt, and every feature's
 * routes under /api/v1. Listed after the features with routes; it listens at its start.
 */
export function apiFeature(sources: ApiSources): Feature<'api'> {
  let app: FastifyInstance | null = null;
  return {
    name: 'api',
    dependsOn: ['storage', 'audit', 'accounts', 'mqtt'],
    async start(ctx) {
      const { config, clock, logger, options } = ctx;
      const { disk } = ctx.get('storage');
      const refused = new Counter({
        name: 'sc_http_refused_total',
        help: 'HTTP requests refused before any handler ran (401, 403, 429, malformed URLs), by method and status',
        labelNames: ['method', 'status'] as const,
        registers: [ctx.metrics],
      });
      app = await buildApp(
        {
          auth: ctx.get('accounts'),
          audit: ctx.get('audit'),
          countRefused: (method, status) => refused.inc({ method, status: String(status) }),
          noteWriteError: (error) => disk.noteWriteError(error),
          corsOrigins: config.CORS_ORIGINS,
          version: sources.version,
          tileUrl: config.CONSOLE_TILE_URL,
          webRoot: sources.webRoot,
        },
        {
          root: [
            routePlugin('health-routes', healthRoutes, {
              version: sources.version,
              clock,
              metrics: ctx.metrics,
              health: sources.health,
            }),
          ],
          api: [
            ...sources.routes(),
            routePlugin('console-routes', consoleRoutes, {
              tileUrl: config.CONSOLE_TILE_URL,
              tileAttribution: config.CONSOLE_TILE_ATTRIBUTION,
              timeZone: config.TZ_DEFAULT,
              demo: options.demo ?? false,
              version: sources.version,
            }),
          ],
        },
        { logger, trustProxy: config.TRUST_PROXY },
      );
      ctx.get('mqtt').broker?.attachWebSocket(app.server);
      await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT, backlog: LISTEN_BACKLOG });
      const address = app.server.address();
      if (address && typeof address !== 'string') sources.listening(address.port);
      return app;
    },
    async stop() {
      const closing = app;
      app = null;
      await closing?.close();
    },
  };
}
