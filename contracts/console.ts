import { z } from 'zod';

/** What the web console needs to know about the platform's setup. */
export const ConsoleSettingsSchema = z.object({
  tileUrl: z.string().nullable().describe('Leaflet tile URL template; null: markers on a plain background'),
  tileAttribution: z.string().nullable(),
  timeZone: z.string().describe('the IANA time zone times are shown in'),
  demo: z.boolean().describe('the platform runs the demo fleet of simulated devices'),
  version: z.string(),
});
