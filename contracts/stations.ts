import { z } from 'zod';
import { MediaIdSchema } from './media.js';
import { SlugSchema } from './registry.js';

/**
 * Radio stations a commune relays (VOV, the provincial station): kept by admins, relayed by
 * operators now or on a schedule (content `{kind: 'station', stationId}`), and watched while they
 * play: unreachable, the wrong type, or dead air switch the relay to the station's fallback.
 */
export const STATION_KINDS = ['national', 'provincial', 'commune', 'other'] as const;
export const STATION_HEALTH = ['unknown', 'ok', 'unreachable', 'wrong-type', 'silent'] as const;

export const StationIdSchema = SlugSchema.describe('station id, e.g. vov1');

export const FallbackSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('station'), stationId: StationIdSchema }),
    z.strictObject({ kind: z.literal('media'), mediaId: MediaIdSchema }),
    z.strictObject({ kind: z.literal('stop') }),
  ])
  .describe('what plays instead when the station fails during a relay');
export type Fallback = z.infer<typeof FallbackSchema>;

const StationUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .describe('the stream (MP3 or AAC over HTTP, Icecast style; an HLS playlist is only checked for reach)');

export const StationHealthSchema = z.object({
  state: z.enum(STATION_HEALTH),
  detail: z.string().nullable(),
  checkedAt: z.iso.datetime().nullable(),
});

export const StationSchema = z.object({
  id: StationIdSchema,
  name: z.string(),
  url: z.string(),
  kind: z.enum(STATION_KINDS),
  fallback: FallbackSchema,
  health: StationHealthSchema.describe('the last check, before or during a relay'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Station = z.infer<typeof StationSchema>;

export const StationCreateSchema = z.strictObject({
  id: StationIdSchema,
  name: z.string().trim().min(1).max(120),
  url: StationUrlSchema,
  kind: z.enum(STATION_KINDS).default('other'),
  fallback: FallbackSchema.default({ kind: 'stop' }),
});
export type StationCreate = z.input<typeof StationCreateSchema>;

export const StationPatchSchema = StationCreateSchema.omit({ id: true }).partial().strict();

/** A relay that switched to its fallback, as the broadcast log keeps it. */
export const RelaySwitchSchema = z.object({
  at: z.iso.datetime(),
  reason: z.string(),
  to: FallbackSchema,
  /** The broadcast that plays the fallback; null when the fallback is to stop. */
  toBroadcastId: z.string().nullable(),
});
export type RelaySwitch = z.infer<typeof RelaySwitchSchema>;
