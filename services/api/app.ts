import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { ApiDeps } from './deps.js';
import { registerErrorHandler } from './error-handler.js';
import { clusterRoutes } from './routes/clusters.js';
import { communeRoutes } from './routes/communes.js';
import { deviceRoutes } from './routes/devices.js';
import { healthRoutes } from './routes/health.js';
import { villageRoutes } from './routes/villages.js';

export interface AppOptions {
  logger: Logger;
  bodyLimitBytes?: number;
}

/** Builds the Fastify app: external plugins, then the error handler, then routes. */
export async function buildApp(deps: ApiDeps, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

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
        { name: 'platform', description: 'Health' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerErrorHandler(app);

  await app.register(healthRoutes, { deps });
  await app.register(
    async (api) => {
      await api.register(communeRoutes, { deps });
      await api.register(villageRoutes, { deps });
      await api.register(clusterRoutes, { deps });
      await api.register(deviceRoutes, { deps });
    },
    { prefix: '/api/v1' },
  );
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs'));
  return app;
}
