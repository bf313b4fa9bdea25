import { z } from 'zod';
import { SEVERITIES } from './alarms.js';
import { LevelSchema } from './broadcasts.js';
import { RECEIPT_STATES } from './bulletins.js';
import { NOTICE_KINDS } from './notifications.js';
import { LocationSchema, SlugSchema } from './registry.js';

/*
 * The data-sharing API for the provincial or central system (Circular 39/2020/TT-BTTTT; LGSP/NGSP
 * integration) and the webhooks that tell it of changes. Field names are plain English camelCase:
 * their mapping to the field names of the Circular's technical guide (CV 1273/BTTTT-TTCS, v2.0 by
 * CV 2455/BTTTT-TTCS) is still to be confirmed against the guide (docs/sharing-api.md).
 */

/** The share API's major version: the path says it, and every answer repeats it. */
export const SHARE_API_VERSION = '1' as const;
const apiVersion = z.literal(SHARE_API_VERSION).describe('the version of this API that answered');
const timestamp = z.iso.datetime().describe('ISO 8601, UTC');

export const SharePageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});

/** A page of a share list: the items, where they sit in the whole, and the API version. */
export function sharePageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    apiVersion,
    items: z.array(item),
    total: z.int().describe('items matching the filter, across all pages'),
    limit: z.int(),
    offset: z.int(),
  });
}

/** A commune radio station (đài truyền thanh cơ sở): one per commune. */
export const ShareStationSchema = z.object({
  id: SlugSchema.describe('stable id of the station: the commune id'),
  communeCode: z
    .string()
    .nullable()
    .describe('mã đơn vị hành chính cấp xã (five digits); null until entered'),
  name: z.string().describe("the commune's name"),
  provinceCode: z.string().nullable().describe('mã đơn vị hành chính cấp tỉnh (two digits)'),
  provinceName: z.string().nullable(),
  clusterCount: z.int().describe('speaker clusters registered in the commune'),
  clustersOnline: z.int().describe('of them, online now'),
});
export type ShareStation = z.infer<typeof ShareStationSchema>;

export const ShareClusterQuerySchema = SharePageQuerySchema.extend({
  communeCode: z
    .string()
    .regex(/^\d{5}$/, 'a five-digit commune code')
    .optional()
    .describe("only this commune's clusters"),
});

/** A speaker cluster (cụm loa) with where it stands and how it is now. */
export const ShareClusterSchema = z.object({
  id: z.string().describe('stable id: the device id printed on the cluster'),
  name: z.string(),
  communeId: SlugSchema,
  communeCode: z.string().nullable(),
  villageId: SlugSchema,
  villageName: z.string().nullable(),
  address: z.string().nullable(),
  location: LocationSchema.describe('WGS 84 degrees'),
  online: z.boolean(),
  onlineSince: timestamp.nullable().describe('when the current online or offline period began'),
  lastSeen: timestamp.nullable().describe('its last message to the platform'),
  speakerCount: z.int().describe('speakers registered on the cluster'),
  speakersOk: z.int().nullable().describe('from its last heartbeat; null before one'),
  speakersFaulty: z.int().nullable().describe('from its last heartbeat; null before one'),
});
export type ShareCluster = z.infer<typeof ShareClusterSchema>;

/** What the clusters did with a broadcast: counts of clusters by outcome. */
export const OutcomeCountsSchema = z.object({
  clusters: z.int().describe('clusters the broadcast was sent to'),
  done: z.int().describe('played to the end'),
  failed: z.int().describe('could not play (download, playback, refused)'),
  missed: z.int().describe('offline or too late to start'),
  cancelled: z.int().describe('stopped, pre-empted by a higher level, or expired'),
  pending: z.int().describe('not final yet'),
  heard: z.int().describe('reported sound on their speakers'),
});
export type OutcomeCounts = z.infer<typeof OutcomeCountsSchema>;

export const ShareCommuneOutcomeSchema = OutcomeCountsSchema.extend({
  communeId: SlugSchema,
  communeCode: z.string().nullable(),
  communeName: z.string().nullable(),
});

export const CONTENT_KINDS = ['media', 'tts', 'programme', 'stream', 'station'] as const;

export const ShareBulletinQuerySchema = SharePageQuerySchema.extend({
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('broadcasts that end at or after this; default: 24 h before `to`'),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('broadcasts that start before this; default: now (at most 93 days after `from`)'),
});

/** A bulletin as it aired (bản tin): one broadcast, with what the clusters did with it. */
export const ShareBulletinSchema = z.object({
  id: z.string().describe('stable id of the broadcast'),
  name: z.string(),
  level: LevelSchema.describe('Circular 39: normal, priority, emergency'),
  origin: z.enum(['province', 'commune']).describe('sent down by the province, or made by the commune'),
  provincialBulletinId: z
    .string()
    .nullable()
    .describe(
      'the provincial bulletin it airs (POST /bulletins answers with it); null for the commune’s own',
    ),
  kind: z
    .enum(['scheduled', 'emergency', 'live', 'talk'])
    .describe('live: a relayed stream or station; talk: spoken live from the console'),
  contentKind: z
    .enum(CONTENT_KINDS)
    .describe('recorded audio, text read aloud, a programme, a stream, a station'),
  start: timestamp,
  end: timestamp,
  status: z.enum(['active', 'finished', 'stopped']),
  totals: OutcomeCountsSchema,
  communes: z.array(ShareCommuneOutcomeSchema).describe('per commune in your scope'),
});

export const ShareClusterOutcomeSchema = z.object({
  clusterId: z.string(),
  clusterName: z.string().nullable(),
  communeId: SlugSchema.nullable(),
  communeCode: z.string().nullable(),
  villageId: SlugSchema.nullable(),
  outcome: z.enum(['done', 'failed', 'missed', 'cancelled', 'pending']).describe('as counted in `totals`'),
  state: z.string().describe("the platform's own delivery state (finer than outcome)"),
  reason: z.string().nullable(),
  heard: z.boolean().nullable().describe('sound reported; null while open'),
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  playedS: z.number().nullable(),
});

export const ShareBulletinDetailSchema = ShareBulletinSchema.extend({
  apiVersion,
  clusters: z.array(ShareClusterOutcomeSchema).describe('every cluster in your scope it was sent to'),
});

/** A provincial bulletin accepted for sending down to the communes. */
export const SharePushResultSchema = z.object({
  apiVersion,
  provincialBulletinId: z.string(),
  provinceId: z.string(),
  name: z.string(),
  level: LevelSchema,
  start: timestamp,
  expiresAt: timestamp,
  communes: z
    .array(
      z.object({
        communeId: SlugSchema,
        communeCode: z.string().nullable(),
        communeName: z.string(),
        state: z.enum(RECEIPT_STATES).describe("the commune's receipt"),
      }),
    )
    .describe('each commune it went to; its broadcasts appear in GET /bulletins with provincialBulletinId'),
});

// Webhooks

export const WEBHOOK_EVENT_TYPES = ['cluster.status', 'delivery.final', 'bulletin.receipt', 'alarm'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WebhookCreateSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .describe(
      'https (http only where WEBHOOK_ALLOW_HTTP is set); loopback and private addresses are refused',
    ),
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES))
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((events) => new Set(events).size === events.length, 'each event type once'),
  description: z.string().trim().max(240).optional(),
  provinceId: SlugSchema.optional().describe(
    "admins: only this province's events (default every commune); a province operator's webhooks are its province's",
  ),
});
export type WebhookCreate = z.infer<typeof WebhookCreateSchema>;

export const WebhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  description: z.string().nullable(),
  provinceId: z.string().nullable().describe('null: events of every commune'),
  createdBy: z.string().nullable(),
  createdAt: timestamp,
  secretRotatedAt: timestamp,
  previousSecretUntil: timestamp
    .nullable()
    .describe('after a rotation: until when the old secret also signs (a second v1= signature)'),
  pending: z.int().describe('deliveries waiting to be sent or retried'),
  lastDelivery: z
    .object({ state: z.string(), at: timestamp, status: z.int().nullable(), error: z.string().nullable() })
    .nullable(),
});
export type Webhook = z.infer<typeof WebhookSchema>;

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z
    .string()
    .describe('shown once: the HMAC-SHA256 key of X-Webhook-Signature; store it with the receiver now'),
});

export const WebhookRotateSchema = z.strictObject({
  graceHours: z
    .int()
    .min(0)
    .max(168)
    .default(24)
    .describe('how long the old secret still signs beside the new one; 0 ends it now (a leaked secret)'),
});

export const WEBHOOK_DELIVERY_STATES = ['pending', 'delivered', 'failed', 'dropped'] as const;

export const WebhookAttemptSchema = z.object({
  at: timestamp,
  status: z.int().nullable().describe('the HTTP status the receiver answered; null when none'),
  error: z.string().nullable(),
  durationMs: z.int(),
});

export const WebhookDeliverySchema = z.object({
  id: z.string().describe('X-Webhook-Id: the same on every retry of this POST'),
  state: z
    .enum(WEBHOOK_DELIVERY_STATES)
    .describe(
      'failed: given up after a day of retries; dropped: too many waiting for a receiver that is down',
    ),
  types: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  events: z.int().describe('events in the POST (a JSON array when more than one)'),
  createdAt: timestamp,
  nextAttemptAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  attempts: z.array(WebhookAttemptSchema),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

/** What each webhook POST carries (the body is a JSON array of these when several go together). */
export const WebhookEventSchema = z.object({
  id: z.string().describe('unique per event: de-duplicate on it'),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  occurredAt: timestamp,
  data: z.union([
    z
      .object({
        clusterId: z.string(),
        clusterName: z.string(),
        communeId: z.string(),
        communeCode: z.string().nullable(),
        online: z.boolean(),
        reason: z.string().describe('connect, heartbeat-timeout, will (power or network lost), shutdown, …'),
      })
      .describe('cluster.status'),
    z
      .object({
        broadcastId: z.string().describe('GET /api/share/v1/bulletins/{id}'),
        provincialBulletinId: z.string().nullable(),
        name: z.string().nullable(),
        level: LevelSchema.nullable(),
        clusterId: z.string(),
        communeId: z.string().nullable(),
        communeCode: z.string().nullable(),
        state: z.string().describe('done, failed, missed, pre-empted, expired or stopped'),
        outcome: z.enum(['done', 'failed', 'missed', 'cancelled']),
      })
      .describe('delivery.final'),
    z
      .object({
        provincialBulletinId: z.string(),
        communeId: z.string(),
        communeCode: z.string().nullable(),
        state: z.enum(RECEIPT_STATES),
      })
      .describe('bulletin.receipt'),
    z
      .object({
        noticeId: z.string(),
        subject: z
          .enum(['alarm', 'village-outage'])
          .describe('an outage stands for its devices’ offline alarms'),
        change: z.enum(['opened', 'cleared']),
        alarmId: z.string().nullable(),
        incidentId: z.string().nullable(),
        kind: z.enum(NOTICE_KINDS).describe('the alarm kind, or village-outage'),
        severity: z.enum(SEVERITIES),
        communeId: z.string(),
        communeCode: z.string().nullable(),
        villageId: z.string().nullable(),
        deviceIds: z.array(z.string()),
        detail: z.string(),
      })
      .describe('alarm: as people are told (never a held alarm; an outage once)'),
  ]),
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;
