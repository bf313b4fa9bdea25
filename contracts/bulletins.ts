import { z } from 'zod';
import { ContentSchema, DELIVERY_STATES, LevelSchema } from './broadcasts.js';
import { SlugSchema } from './registry.js';

const timestamp = z.iso.datetime().describe('ISO 8601, UTC');

/**
 * A commune's answer to a bulletin from the province (Circular 39):
 * - normal: `pending` in the commune's inbox until its operator `scheduled` or `declined` it, or
 *   `expired` when nobody did before the bulletin's expiry;
 * - priority: `scheduled` at once above the commune's normal items, or `needs-order` when it
 *   clashes with a commune priority item, until the commune operator orders the two (`scheduled`);
 * - emergency: `aired` at once on every cluster.
 */
export const RECEIPT_STATES = [
  'pending',
  'scheduled',
  'declined',
  'expired',
  'needs-order',
  'aired',
] as const;
export type ReceiptState = (typeof RECEIPT_STATES)[number];

export const BulletinCreateSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(120),
    level: LevelSchema.describe(
      'normal: each commune chooses whether and when to schedule it; priority: scheduled at `start` above ' +
        "the communes' normal items; emergency: airs now on every cluster",
    ),
    content: ContentSchema,
    start: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('when it should air (normal, priority); default: now. Ignored for an emergency'),
    durationS: z.int().min(1).max(86_400).optional().describe('a relay (stream, station): how long'),
    volume: z.int().min(0).max(100).optional(),
    communeIds: z
      .array(SlugSchema)
      .min(1)
      .max(1_000)
      .optional()
      .describe('default: every commune of the province'),
    provinceId: SlugSchema.optional().describe(
      "an account of every province names one; a province account's own",
    ),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('a normal bulletin not scheduled by then expires in the inbox; default: 24 h after start'),
  })
  .refine(
    (b) =>
      b.content.kind !== 'stream' && b.content.kind !== 'station'
        ? b.durationS === undefined
        : b.durationS !== undefined,
    {
      message: 'required for a stream or station relay, and only for one',
      path: ['durationS'],
    },
  );
export type BulletinCreate = z.infer<typeof BulletinCreateSchema>;

/** What the clusters of one commune did with one broadcast of the bulletin. */
export const ReceiptBroadcastSchema = z.object({
  broadcastId: z.string(),
  startAt: timestamp,
  clusters: z.int(),
  summary: z.partialRecord(z.enum(DELIVERY_STATES), z.int()).describe('clusters per delivery state'),
});

export const ReceiptSchema = z.object({
  bulletinId: z.string(),
  communeId: z.string(),
  communeName: z.string(),
  state: z.enum(RECEIPT_STATES),
  scheduleId: z.string().nullable(),
  clash: z
    .array(z.object({ scheduleId: z.string(), name: z.string(), start: timestamp, end: timestamp }))
    .describe('needs-order: the commune priority items it clashes with'),
  decidedBy: z.string().nullable(),
  decidedAt: timestamp.nullable(),
  reason: z.string().nullable(),
  broadcasts: z.array(ReceiptBroadcastSchema),
  updatedAt: timestamp,
});
export type Receipt = z.infer<typeof ReceiptSchema>;

export const BulletinSchema = z.object({
  id: z.string(),
  provinceId: z.string(),
  name: z.string(),
  level: LevelSchema,
  content: ContentSchema,
  volume: z.int().nullable(),
  start: timestamp,
  durationS: z.number(),
  expiresAt: timestamp,
  createdBy: z.string().nullable(),
  createdAt: timestamp,
  receipts: z.array(ReceiptSchema).describe("every commune's answer and what its clusters did"),
  totals: z.object({
    communes: z.int(),
    byState: z.partialRecord(z.enum(RECEIPT_STATES), z.int()),
    clusters: z.partialRecord(z.enum(DELIVERY_STATES), z.int()).describe('every delivery of every commune'),
  }),
});
export type BulletinView = z.infer<typeof BulletinSchema>;

/** A bulletin in a list: its totals; each commune's receipt is in GET /provincial-bulletins/{id}. */
export const BulletinSummarySchema = BulletinSchema.omit({ receipts: true });
export type BulletinSummary = z.infer<typeof BulletinSummarySchema>;

/** An inbox entry: the bulletin as the commune sees it, with its own receipt. */
export const InboxItemSchema = ReceiptSchema.extend({
  bulletin: BulletinSchema.omit({ receipts: true, totals: true }),
});

export const InboxScheduleSchema = z.strictObject({
  start: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("when the commune airs it; default: the province's requested time (or now if past)"),
  villageIds: z.array(SlugSchema).max(500).optional().describe("default: all the commune's clusters"),
});
export const InboxDeclineSchema = z.strictObject({
  reason: z.string().trim().min(1).max(500).describe('why the commune does not air it'),
});
export const InboxOrderSchema = z.strictObject({
  first: z
    .enum(['bulletin', 'commune'])
    .describe(
      "bulletin: the province's plays at its time and the commune's items move after it; commune: the reverse",
    ),
});

/** The province at a glance: each commune's fleet and what waits for it. */
export const ProvinceOverviewSchema = z.object({
  province: z.object({ id: z.string(), code: z.string(), name: z.string() }),
  communes: z.array(
    z.object({
      id: z.string(),
      code: z.string().nullable(),
      name: z.string(),
      villages: z.int(),
      clusters: z.int(),
      online: z.int(),
      waiting: z.int().describe('bulletins from the province pending or needing an order in this commune'),
    }),
  ),
  totals: z.object({ communes: z.int(), clusters: z.int(), online: z.int(), waiting: z.int() }),
  recent: z
    .array(
      z.object({
        id: z.string(),
        name: z.string(),
        level: LevelSchema,
        createdAt: timestamp,
        byState: z.partialRecord(z.enum(RECEIPT_STATES), z.int()),
      }),
    )
    .describe('the last 10 bulletins with their receipts by state'),
});
