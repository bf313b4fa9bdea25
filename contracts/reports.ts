import { z } from 'zod';
import { DELIVERY_STATES, LevelSchema } from './broadcasts.js';
import { pagedSchema } from './pages.js';
import { SlugSchema } from './registry.js';

/** The longest period one summary report covers: a year, leap day included. */
export const MAX_SUMMARY_DAYS = 366;

/** Where a bulletin came from (Circular 39): the province sent it, or the commune made it. */
export const ORIGINS = ['province', 'commune'] as const;
export type Origin = (typeof ORIGINS)[number];

/**
 * Deliveries ended without sound for a cause on the cluster's or the network's side. Pre-empted
 * (a higher level took the speakers) and stopped (an operator stopped it) are decisions, not faults.
 */
export const FAULT_STATES = ['failed', 'missed', 'expired'] as const;

const instant = z.iso.datetime({ offset: true });

export const SummaryQuerySchema = z.object({
  from: instant.describe('start of the period (inclusive), ISO 8601'),
  to: instant.describe(`end of the period (exclusive), at most ${MAX_SUMMARY_DAYS} days after "from"`),
  communeId: SlugSchema.optional().describe('one commune; 404 when it is not the caller’s'),
  provinceId: SlugSchema.optional().describe(
    'every commune of a province; 404 unless the caller may see every one of them',
  ),
  format: z.enum(['json', 'csv', 'html']).default('json'),
  lang: z.enum(['vi', 'en']).default('vi').describe('language of the CSV and the printable report'),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('broadcasts per page (JSON)'),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});
export type SummaryQuery = z.infer<typeof SummaryQuerySchema>;

/** Bulletins of one level, by origin. */
const LevelCountSchema = z.object({ province: z.int(), commune: z.int(), total: z.int() });

export const BulletinCountsSchema = z
  .object({
    total: z.int(),
    byLevel: z.record(LevelSchema, LevelCountSchema),
  })
  .describe(
    'broadcasts with at least one delivery to a cluster of the commune (for the total: of the scope, ' +
      'each broadcast once), among those the broadcast log lists for the same period',
  );

export const DeliveryFiguresSchema = z.object({
  targeted: z.int().describe('deliveries: one per broadcast and cluster it was sent to'),
  done: z.int().describe('played to the end'),
  heard: z.int().describe('the cluster reported sound (played to the end, or cut short after it began)'),
  deliveryPct: z.number().nullable().describe('done ÷ targeted, %; null when nothing was targeted'),
  heardPct: z.number().nullable().describe('heard ÷ targeted, %'),
  byState: z.record(z.enum(DELIVERY_STATES), z.int()).describe('deliveries per outcome'),
});

export const ReportAvailabilitySchema = z
  .object({
    clusters: z.int().describe('clusters in the registry now'),
    uptimePct: z
      .number()
      .nullable()
      .describe('online share of the time whose state is known, maintenance downtime left out'),
    onlineS: z.number(),
    offlineS: z.number().describe('offline outside maintenance windows: counted against uptime'),
    maintenanceS: z
      .number()
      .describe('offline inside a maintenance window: planned work, reported apart, not against uptime'),
    unknownS: z.number().describe('onlineS + offlineS + maintenanceS + unknownS = clusters × period so far'),
    clustersWithOutage: z.int().describe('clusters offline at some time in the period'),
  })
  .describe('from the presence history (as GET /reports/availability)');

export const FaultFiguresSchema = z.object({
  failedDeliveries: z
    .int()
    .describe('deliveries ended failed, missed (cluster offline) or expired: not heard for a fault'),
  speakerFaultDeliveries: z
    .int()
    .describe('deliveries during which at least one speaker of the cluster reported a fault'),
  clustersWithOutage: z
    .int()
    .nullable()
    .describe('clusters offline at some time in the period; null when the history did not answer'),
});

export const SummaryFiguresSchema = z.object({
  bulletins: BulletinCountsSchema,
  airedS: z
    .number()
    .describe(
      'giờ phát sóng: for each broadcast, the longest play of any of its clusters in the commune, summed ' +
        "(the total: the communes' sum)",
    ),
  clusterAiredS: z.number().describe('every cluster’s playing time summed (cluster-seconds)'),
  deliveries: DeliveryFiguresSchema,
  availability: ReportAvailabilitySchema.nullable().describe('null when the history store did not answer'),
  faults: FaultFiguresSchema,
});
export type SummaryFigures = z.infer<typeof SummaryFiguresSchema>;

export const SummaryCommuneSchema = SummaryFiguresSchema.extend({
  id: z.string(),
  name: z.string(),
  code: z.string().nullable(),
  provinceId: z.string().nullable(),
  province: z.string().nullable(),
});
export type SummaryCommune = z.infer<typeof SummaryCommuneSchema>;

export const SummaryBroadcastSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['scheduled', 'emergency', 'live', 'talk']),
  level: LevelSchema,
  origin: z.enum(ORIGINS),
  bulletinId: z.string().nullable(),
  startAt: z.iso.datetime(),
  endAt: z.iso.datetime(),
  status: z.enum(['active', 'finished', 'stopped']),
  communes: z.int().describe('communes of the scope it reached'),
  targeted: z.int().describe('clusters of the scope it was sent to'),
  done: z.int(),
  heard: z.int(),
  deliveryPct: z.number().nullable(),
  airedS: z.number().describe('the longest play of any of its clusters in the scope'),
});
export type SummaryBroadcast = z.infer<typeof SummaryBroadcastSchema>;

export const FailureReasonSchema = z.object({
  state: z.enum(FAULT_STATES),
  reason: z.string().nullable(),
  count: z.int(),
});

export const SummaryReportSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  generatedAt: z.iso.datetime(),
  timeZone: z.string().describe('the zone the printable report writes dates in'),
  scope: z.object({
    kind: z
      .enum(['commune', 'province', 'communes', 'all'])
      .describe('one commune, a province, the several communes of the account, or every commune'),
    id: z.string().nullable(),
    name: z.string(),
  }),
  total: SummaryFiguresSchema.extend({ communes: z.int() }),
  communes: z.array(SummaryCommuneSchema),
  failures: z
    .array(FailureReasonSchema)
    .describe('deliveries not heard for a fault, by outcome and reason, most frequent first (at most 50)'),
  broadcasts: pagedSchema(SummaryBroadcastSchema).describe(
    'each broadcast of the scope, by start; the page the query asked for',
  ),
  availabilityError: z
    .string()
    .nullable()
    .describe('why the availability figures are missing (the history store did not answer)'),
});
export type SummaryReport = z.infer<typeof SummaryReportSchema>;
