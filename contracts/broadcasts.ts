import { z } from 'zod';
import { BROADCAST_LEVELS, type BroadcastLevel } from '../devices/speaker-cluster/messages.js';
import { RelaySwitchSchema, StationIdSchema } from './stations.js';
import { TTS_VOICES } from './tts.js';

export type Level = BroadcastLevel;
export const LevelSchema = z.enum(BROADCAST_LEVELS);
const MediaIdSchema = z.string().min(1).max(40);

/** Text read aloud by the platform's voice; the audio is synthesized once and kept as media. */
export const TtsContentSchema = z.strictObject({
  kind: z.literal('tts'),
  text: z
    .string()
    .trim()
    .min(1)
    .max(5_000)
    .describe('Vietnamese text; numbers, dates, units and UBND etc. are read out'),
  voice: z.enum(TTS_VOICES).default('northern').describe('giọng Bắc, Trung or Nam'),
  mediaId: MediaIdSchema.optional().describe(
    'set by the platform: the synthesized audio in the media library, made again when the text or voice changes',
  ),
});

/** Programmes hold at most this many items. */
export const MAX_PROGRAMME_ITEMS = 30;

export const ProgrammeItemSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('media'), mediaId: MediaIdSchema }),
  TtsContentSchema,
  z.strictObject({
    kind: z.literal('jingle'),
    mediaId: MediaIdSchema,
    role: z.enum(['intro', 'outro', 'between']).default('intro').describe('where the jingle stands'),
  }),
  z.strictObject({
    kind: z.literal('silence'),
    durationS: z.number().min(0.5).max(300).describe('a pause, in seconds'),
  }),
]);
export type ProgrammeItem = z.infer<typeof ProgrammeItemSchema>;

export const ContentSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('media'), mediaId: MediaIdSchema }),
  TtsContentSchema,
  z.strictObject({
    kind: z.literal('programme'),
    items: z
      .array(ProgrammeItemSchema)
      .min(1)
      .max(MAX_PROGRAMME_ITEMS)
      .refine((items) => items.some((i) => i.kind !== 'silence'), 'a programme needs something to hear')
      .describe('played in order as one broadcast: media, text read aloud, jingles and pauses'),
  }),
  z.strictObject({
    kind: z.literal('stream'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .describe('an external live stream, relayed for the time window'),
  }),
  z.strictObject({
    kind: z.literal('station'),
    stationId: StationIdSchema.describe('a station from /stations, relayed and watched for the time window'),
  }),
]);
export type Content = z.infer<typeof ContentSchema>;

export const TargetsSchema = z
  .strictObject({
    communeIds: z.array(z.string().max(48)).max(100).default([]),
    villageIds: z.array(z.string().max(48)).max(500).default([]),
    clusterIds: z.array(z.string().max(23)).max(10_000).default([]),
    groupIds: z.array(z.string().max(48)).max(100).default([]),
  })
  .refine(
    (t) => t.communeIds.length + t.villageIds.length + t.clusterIds.length + t.groupIds.length > 0,
    'name at least one commune, village, cluster or group',
  );
export type Targets = z.infer<typeof TargetsSchema>;

export const DELIVERY_STATES = [
  'scheduled',
  'sent',
  'accepted',
  'playing',
  'done',
  'failed',
  'missed',
  'pre-empted',
  'expired',
  'stopped',
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export const DeliverySchema = z.object({
  clusterId: z.string(),
  clusterName: z.string().nullable(),
  villageId: z.string().nullable(),
  state: z.enum(DELIVERY_STATES),
  reason: z.string().nullable(),
  attempts: z.int(),
  sentAt: z.iso.datetime().nullable(),
  acceptedAt: z.iso.datetime().nullable(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  playedS: z.number().nullable().describe('from playback start to finish, seconds'),
  heard: z
    .boolean()
    .nullable()
    .describe(
      'true once the cluster reported sound; false when it ended without any (see reason); null while open',
    ),
  speakers: z
    .array(z.object({ idx: z.int(), ok: z.boolean().nullable(), fault: z.string().nullable() }))
    .nullable()
    .describe('per-speaker health reported while it played'),
  items: z
    .array(
      z.object({
        index: z.int().describe('0-based, in the order of the programme'),
        label: z.string(),
        outcome: z
          .enum(['played', 'cut', 'not-played'])
          .nullable()
          .describe('null until the cluster reports'),
      }),
    )
    .nullable()
    .describe('a programme: what the cluster reported of each item'),
});

export const BroadcastSchema = z.object({
  id: z.string(),
  kind: z
    .enum(['scheduled', 'emergency', 'live', 'talk'])
    .describe('live: a relayed external stream; talk: spoken from the console'),
  scheduleId: z.string().nullable(),
  name: z.string(),
  level: LevelSchema,
  content: ContentSchema,
  volume: z.int().nullable(),
  repeat: z.int(),
  startAt: z.iso.datetime(),
  endAt: z.iso.datetime(),
  status: z.enum(['active', 'finished', 'stopped']),
  createdBy: z.string().nullable(),
  stoppedAt: z.iso.datetime().nullable(),
  stoppedBy: z.string().nullable(),
  recordingMediaId: z
    .string()
    .nullable()
    .describe("a live talk's recording in the media library (GET /api/v1/media/{id}/content)"),
  approvedBy: z.string().nullable().describe('who approved the content, where the commune requires approval'),
  bulletinId: z
    .string()
    .nullable()
    .describe("a bulletin from the province (GET /provincial-bulletins/{id}); null for the commune's own"),
  review: z
    .object({ state: z.enum(['pending', 'reviewed']), reviewedBy: z.string().nullable() })
    .nullable()
    .describe('an emergency that aired without waiting for approval, reviewed afterwards by an approver'),
  summary: z.record(z.string(), z.int()).describe('clusters per delivery state'),
});

export const BroadcastDetailSchema = BroadcastSchema.extend({
  deliveries: z.array(DeliverySchema),
  switches: z
    .array(RelaySwitchSchema)
    .describe('a station relay that switched to its fallback: when, why and to what'),
  recorded: z
    .boolean()
    .describe('false while the disk could not store the broadcast: it was sent and is held in memory'),
});

/** After a bulletin: the villages it did not reach, each with its clusters that did not play it. */
export const ReachSchema = z.object({
  broadcastId: z.string(),
  final: z.boolean().describe('false while deliveries are still open: the list may still shrink'),
  villages: z.array(
    z.object({
      villageId: z.string(),
      villageName: z.string(),
      communeId: z.string(),
      clusters: z.int().describe("the village's clusters this broadcast went to"),
      heard: z.int(),
      missing: z.array(
        z.object({ clusterId: z.string(), state: z.enum(DELIVERY_STATES), reason: z.string().nullable() }),
      ),
      reached: z.boolean().describe('at least one of its clusters played it'),
    }),
  ),
});

export const EmergencyRequestSchema = z.strictObject({
  name: z.string().trim().min(1).max(120).optional(),
  content: ContentSchema,
  targets: TargetsSchema.optional().describe('default: every commune you may address'),
  volume: z.int().min(0).max(100).optional().describe('default 100'),
  durationS: z
    .number()
    .positive()
    .max(12 * 3600)
    .optional()
    .describe('required for a stream'),
});

export const LiveRequestSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(120),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .describe('a stream to relay as it is; or name a station'),
    stationId: StationIdSchema.optional().describe(
      'a station from /stations, watched and switched to its fallback',
    ),
    targets: TargetsSchema.optional(),
    level: LevelSchema.default('normal'),
    volume: z.int().min(0).max(100).optional(),
    durationS: z
      .number()
      .positive()
      .max(12 * 3600),
  })
  .refine((r) => (r.url === undefined) !== (r.stationId === undefined), {
    message: 'name a url or a stationId (one of them)',
    path: ['url'],
  });
