import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ConsoleSettingsSchema } from '../../contracts/console.js';

export interface ConsoleRouteDeps {
  /** Leaflet tile URL template, when a tile server is configured. */
  tileUrl: string | undefined;
  tileAttribution: string | undefined;
  timeZone: string;
  demo: boolean;
  version: string;
}

export const consoleRoutes: FastifyPluginAsyncZod<{ deps: ConsoleRouteDeps }> = async (app, { deps }) => {
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
      tileUrl: deps.tileUrl ?? null,
      tileAttribution: deps.tileAttribution ?? null,
      timeZone: deps.timeZone,
      demo: deps.demo,
      version: deps.version,
    }),
  );
};
