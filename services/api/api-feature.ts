import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Counter } from 'prom-client';
import { LISTEN_BACKLOG } from '../../broker/mqtt-broker.js';
import { lanAddress } from '../media/media-base-url.js';
import type { Feature } from '../platform/feature.js';
import { buildApp } from './app.js';
import { consoleRoutes } from './console-routes.js';
import { type HealthEntry, healthRoutes } from './health-routes.js';
import { routePlugin } from './route-plugin.js';
import { certificateNames, loadTls, type TlsMaterial } from './tls.js';
import { trustRoutes } from './trust-routes.js';

/** Where the API listens, once it does. */
export interface Listening {
  port: number;
  scheme: 'http' | 'https';
  /** The plain-HTTP port that serves only media downloads (MEDIA_HTTP_PORT), or null. */
  mediaPort: number | null;
}

/** Media downloads, the one thing the plain-HTTP port beside HTTPS serves. */
const MEDIA_CONTENT = /^\/api\/v1\/(media\/[^/?#]+\/content|live\/lt-[0-9a-f]+\/stream\.mp3)(\?|$)/;

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
  /** Told where the server listens, once it does. */
  listening(listening: Listening): void;
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
  let mediaServer: Server | null = null;
  let tls: TlsMaterial | null = null;
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
      // Browsers allow the microphone only on a secure origin; a commune LAN has no certificate
      // of its own, so the platform can issue one (docs/https.md).
      tls = await loadTls({
        certFile: config.TLS_CERT_FILE,
        keyFile: config.TLS_KEY_FILE,
        selfSigned: config.TLS_SELF_SIGNED,
        dir: join(config.DATA_DIR, 'tls'),
        names: certificateNames([lanAddress(), config.HTTP_HOST]),
        now: clock.now(),
      });
      const trust = tls?.trustCert ?? null;
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
            routePlugin('trust-routes', trustRoutes, { cert: () => trust }),
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
        { logger, trustProxy: config.TRUST_PROXY, https: tls },
      );
      ctx.get('mqtt').broker?.attachWebSocket(app.server);
      await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT, backlog: LISTEN_BACKLOG });
      const served = app;
      // Clusters whose firmware has no TLS (or does not trust this certificate) download media over
      // plain HTTP on a port of its own, which answers nothing else.
      if (tls && config.MEDIA_HTTP_PORT !== undefined) {
        const plain = createServer((request, response) => {
          if (
            (request.method === 'GET' || request.method === 'HEAD') &&
            MEDIA_CONTENT.test(request.url ?? '')
          )
            served.server.emit('request', request, response);
          else response.writeHead(404, { 'content-type': 'text/plain' }).end('only media downloads here\n');
        });
        mediaServer = plain;
        await new Promise<void>((resolve, reject) => {
          plain.once('error', reject);
          plain.listen(
            { host: config.HTTP_HOST, port: config.MEDIA_HTTP_PORT, backlog: LISTEN_BACKLOG },
            resolve,
          );
        });
      }
      sources.listening({
        port: portOf(app.server),
        scheme: tls ? 'https' : 'http',
        mediaPort: mediaServer ? portOf(mediaServer) : null,
      });
      if (tls)
        logger.info(
          { source: tls.source, fingerprint: tls.fingerprint, validTo: tls.validTo.toISOString() },
          tls.source === 'self-signed'
            ? 'HTTPS with a certificate of the local authority: trust it once (docs/https.md), fingerprint as shown'
            : 'HTTPS with the configured certificate',
        );
      return app;
    },
    async stop() {
      const closing = app;
      const plain = mediaServer;
      app = null;
      mediaServer = null;
      if (plain) {
        plain.closeIdleConnections();
        setTimeout(() => plain.closeAllConnections(), 2_000).unref();
        await new Promise((resolve) => plain.close(resolve));
      }
      await closing?.close();
    },
    health: () => ({
      https: tls
        ? {
            source: tls.source,
            fingerprint: tls.fingerprint,
            validTo: tls.validTo.toISOString(),
            mediaHttpPort: mediaServer ? portOf(mediaServer) : null,
          }
        : null,
    }),
  };
}

function portOf(server: { address(): ReturnType<Server['address']> }): number {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server not listening');
  return address.port;
}
