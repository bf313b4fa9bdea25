import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ConsoleSettingsSchema } from '../../../contracts/console.js';
import type { ApiDeps } from '../deps.js';

export const consoleRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/console/settings',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['platform'],
        summary: "What the web console needs to know about this platform's setup",
        response: { 200: ConsoleSettingsSchema },
      },
    },
    async () => ({
      tileUrl: deps.console.tileUrl ?? null,
      tileAttribution: deps.console.tileAttribution ?? null,
      timeZone: deps.console.timeZone,
      demo: deps.console.demo,
      version: deps.version,
    }),
  );
};
