import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { SECURITY_PLUGIN } from './security.js';

/**
 * A feature's routes as a named Fastify plugin bound to what they use. It declares that it needs
 * the security plugin (every route says who may call it), so Fastify refuses to start if the routes
 * were ever registered without it; its routes stay encapsulated (hooks added there stay there).
 */
export function routePlugin<Deps>(
  name: string,
  routes: FastifyPluginAsyncZod<{ deps: Deps }>,
  deps: Deps,
): FastifyPluginAsync {
  return fp(async (app) => routes(app, { deps }), {
    name,
    fastify: '5.x',
    dependencies: [SECURITY_PLUGIN],
    decorators: { request: ['principal', 'auditNote'] },
    encapsulate: true,
  });
}
