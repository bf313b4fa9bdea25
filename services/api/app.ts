import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyRequest,
} from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { AuthService } from '../accounts/auth-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import { onFrameworkError, registerErrorHandler } from './error-handler.js';
import { securityPlugin } from './security.js';

/** What the HTTP layer itself uses: sign-in and the audit trail, and how the console is served. */
export interface AppDeps {
  auth: AuthService;
  audit: AuditLog;
  /** Counts a request refused before a handler ran (sc_http_refused_total). */
  countRefused(method: string, status: number): void;
  /** Tells the data disk of a write that failed for want of space or storage (it shows on /healthz). */
  noteWriteError(error: unknown): unknown;
  /** Origins allowed to call the API from a browser; empty keeps CORS closed. */
  corsOrigins: string[];
  version: string;
  /** Leaflet tile URL template, when a tile server is configured (allowed by the CSP). */
  tileUrl: string | undefined;
  /** The built web console (index.html and assets/), or null to keep `/` on the API reference. */
  webRoot: string | null;
}

/** The routes of every feature: at the root (health, metrics) and under /api/v1. */
export interface AppRoutes {
  root: FastifyPluginAsync[];
  api: FastifyPluginAsync[];
}

export interface AppOptions {
  /** Serve HTTPS with this key and certificate (PEM). */
  https?: { key: string; cert: string } | null;
  logger: Logger;
  bodyLimitBytes?: number;
  trustProxy?: boolean;
}

const REFUSED = new Set([401, 403, 429]);

/** Query parameters that are credentials: a signed media link's signature stays out of the log. */
const SECRET_QUERY = /([?&](?:sig|token|secret|password)=)[^&#]*/gi;

/** A request as the log shows it (Fastify's own fields), with credentials in the URL masked. */
function requestForLog(request: FastifyRequest) {
  return {
    method: request.method,
    url: request.url.replace(SECRET_QUERY, '$1[redacted]'),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** Builds the Fastify app: external plugins, then the error handler, then every feature's routes. */
export async function buildApp(
  deps: AppDeps,
  routes: AppRoutes,
  options: AppOptions,
): Promise<FastifyInstance> {
  // One instance type whatever the transport: the routes never see the difference.
  const app = Fastify({
    ...(options.https ? { https: { key: options.https.key, cert: options.https.cert } } : {}),
    loggerInstance: options.logger.child(
      { component: 'api' },
      { serializers: { req: requestForLog } },
    ) as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
    trustProxy: options.trustProxy ?? false,
    // Malformed URLs are answered before routing; they are counted as refused too.
    frameworkErrors: (error, request, reply) => {
      deps.countRefused(request.method, error.statusCode ?? 400);
      onFrameworkError(error, request, reply);
    },
  });
  // On shutdown, requests under way get two seconds to finish; then every connection is closed, so a
  // device's half-read media download or an idle keep-alive socket cannot hold the stop up.
  app.addHook('preClose', async () => {
    setTimeout(() => app.server.closeAllConnections(), 2_000).unref();
    app.server.closeIdleConnections();
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(cookie);
  // The console is served from this origin, so its scripts and styles are 'self'; its map's tiles
  // may come from the configured tile server. Swagger UI at /docs sets its own, stricter policy.
  await app.register(helmet, { global: true, contentSecurityPolicy: { directives: consoleCsp(deps) } });
  // Closed unless origins are configured: a browser page elsewhere cannot call the API. The
  // plugin's default methods are GET, HEAD and POST; the console also edits and deletes.
  if (deps.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: deps.corsOrigins,
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    });
  }
  await app.register(rateLimit, { global: false });
  await app.register(securityPlugin, { auth: deps.auth, audit: deps.audit, corsOrigins: deps.corsOrigins });
  // Refused reads leave no audit entry (only state changes do); they are counted instead, so a
  // scan of the API shows in /metrics.
  app.addHook('onResponse', async (request, reply) => {
    if (REFUSED.has(reply.statusCode)) deps.countRefused(request.method, reply.statusCode);
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'smart-commune API',
        description:
          "Registry, live status and commands for a commune's smart loudspeaker clusters. " +
          'Errors are `{error: {code, message, details?}}`.',
        version: deps.version,
      },
      tags: [
        { name: 'registry', description: 'Communes and villages' },
        { name: 'clusters', description: 'Speaker clusters, their speakers, status and credentials' },
        { name: 'devices', description: 'Commands and presence history of a device' },
        { name: 'accounts', description: 'Sign-in, sessions, API tokens, accounts and the audit log' },
        { name: 'media', description: 'The audio library, and media downloads for clusters' },
        { name: 'schedules', description: 'Announcements on a calendar, named groups of clusters' },
        {
          name: 'broadcasts',
          description: 'Emergency bulletins, live relays, the broadcast log and proof of delivery',
        },
        { name: 'cameras', description: 'ONVIF security cameras: onboarding and the list police read' },
        { name: 'history', description: 'Heartbeat history and availability reports' },
        { name: 'platform', description: 'Health' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  // staticCSP: the UI page gets a CSP with hashes of its own inline code instead of helmet's default.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  // A fallback route (GET /*) would also catch what the router refuses, such as an over-long id
  // (414): the console's pages are answered from the not-found handler instead.
  registerErrorHandler(
    app,
    deps.webRoot
      ? (request, reply) =>
          request.method === 'GET' &&
          !NOT_CONSOLE.test(request.url) &&
          request.headers.accept?.includes('text/html')
            ? reply.header('cache-control', 'no-cache').sendFile('index.html')
            : null
      : undefined,
    (_failure, error) => deps.noteWriteError(error),
  );

  for (const plugin of routes.root) await app.register(plugin);
  await app.register(
    async (api) => {
      for (const plugin of routes.api) await api.register(plugin);
    },
    { prefix: '/api/v1' },
  );
  if (deps.webRoot) await serveConsole(app, deps.webRoot);
  else app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs'));
  return app;
}

/** Paths the console's router never owns (and missing assets): unknown ones there stay JSON 404s. */
const NOT_CONSOLE = /^\/(api|assets|docs|healthz|metrics|mqtt|socket\.io)(\/|\?|$)/;

/**
 * Serves the built console: hashed assets are cached for a year, index.html is revalidated on every
 * load so a new build is picked up, and any other page a browser asks for gets index.html, where
 * the console's own router takes over.
 */
async function serveConsole(app: FastifyInstance, webRoot: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: webRoot,
    prefix: '/',
    // Routes for the files present at start; other pages are answered by the not-found handler.
    wildcard: false,
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader(
        'cache-control',
        /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}

/** helmet's defaults, narrowed to what the console loads; tiles are the one other origin. */
function consoleCsp(deps: AppDeps): Record<string, Iterable<string> | null> {
  const tiles = deps.tileUrl ? tileSource(deps.tileUrl) : null;
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    // Leaflet positions markers and tiles with inline style attributes.
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', 'blob:', ...(tiles ? [tiles] : [])],
    connectSrc: ["'self'"],
    // Previews of text read aloud and of recordings play from blob: URLs made in the page.
    mediaSrc: ["'self'", 'blob:'],
    // The platform is often reached over plain HTTP on a commune's LAN; upgrading its own asset
    // requests to HTTPS would break the console there.
    upgradeInsecureRequests: null,
  };
}

/** The CSP source of a tile URL template: `{s}` subdomains become a wildcard label. */
export function tileSource(template: string): string | null {
  const origin = /^(https?:\/\/[^/]+)/.exec(template)?.[1];
  return origin ? origin.replace(/\{[^}]*\}/g, '*') : null;
}
