import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';

const ConsoleSettingsSchema = z.object({
  tileUrl: z.string().nullable().describe('Leaflet tile URL template; null: markers on a plain background'),
  tileAttribution: z.string().nullable(),
  timeZone: z.string().describe('the IANA time zone times are shown in'),
  demo: z.boolean().describe('the platform runs the demo fleet of simulated devices'),
  version: z.string(),
});

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
