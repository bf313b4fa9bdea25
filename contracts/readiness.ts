import { z } from 'zod';
import { SelftestResultSchema } from '../devices/speaker-cluster/messages.js';
import { TargetsSchema } from './broadcasts.js';
import { SlugSchema } from './registry.js';

const timestamp = z.iso.datetime().describe('ISO 8601, UTC');

export const DrillIdSchema = z
  .string()
  .regex(/^dr-[0-9a-f]{10}$/, 'a drill id looks like dr-0123456789')
  .describe('drill id');

export const DrillCreateSchema = z.strictObject({
  targets: TargetsSchema.describe('the clusters to test: communes, villages, clusters or groups'),
  tone: z.boolean().default(false).describe('a short test tone on every line; false: silent'),
});

export const DRILL_STATES = ['running', 'finished'] as const;
export const DRILL_ORIGINS = ['manual', 'schedule'] as const;

/** A cluster's verdict: `testing` until it answers; `not-tested` when offline or silent. */
export const DRILL_OUTCOMES = ['testing', 'ready', 'not-ready', 'not-tested'] as const;
export type DrillOutcome = (typeof DRILL_OUTCOMES)[number];

export const DrillClusterSchema = z.object({
  clusterId: z.string(),
  name: z.string(),
  villageId: z.string(),
  outcome: z.enum(DRILL_OUTCOMES),
  reasons: z.array(z.string()).describe('why it is not ready or not tested, one line each'),
  checks: SelftestResultSchema.nullable().describe('what the cluster reported, check by check'),
  commandId: z.string().nullable(),
  testedAt: timestamp.nullable(),
});

const counts = {
  clusters: z.int(),
  ready: z.int(),
  notReady: z.int(),
  notTested: z.int(),
  testing: z.int(),
};

export const DrillVillageSchema = z.object({ villageId: z.string(), name: z.string(), ...counts });

export const DrillSummarySchema = z.object({
  id: DrillIdSchema,
  origin: z.enum(DRILL_ORIGINS).describe('on demand, or the weekly schedule of a commune'),
  tone: z.boolean(),
  state: z.enum(DRILL_STATES),
  communeIds: z.array(z.string()),
  startedAt: timestamp,
  deadlineAt: timestamp.describe('clusters that have not answered by then are not tested'),
  finishedAt: timestamp.nullable(),
  createdBy: z.string().nullable(),
  summary: z.object(counts),
});
export type DrillSummary = z.infer<typeof DrillSummarySchema>;

export const DrillReportSchema = DrillSummarySchema.extend({
  villages: z.array(DrillVillageSchema).describe('per village: how many of its clusters are ready'),
  clusters: z.array(DrillClusterSchema),
});
export type DrillReport = z.infer<typeof DrillReportSchema>;

/** ISO 8601 weekday: 1 Monday … 7 Sunday. */
export const WeekdaySchema = z.int().min(1).max(7);

export const ReadinessScheduleSchema = z.object({
  communeId: z.string(),
  enabled: z.boolean(),
  weekday: WeekdaySchema.describe('1 Monday … 7 Sunday (ISO 8601)'),
  hour: z.int().min(0).max(23),
  minute: z.int().min(0).max(59),
  tone: z.boolean(),
  timezone: z.string().describe("the commune's zone, in which the weekday and hour are read"),
  next: timestamp.nullable().describe('the next drill; null when disabled'),
  lastRunAt: timestamp.nullable(),
  lastDrillId: z.string().nullable(),
  updatedBy: z.string().nullable(),
  updatedAt: timestamp.nullable(),
});
export type ReadinessSchedule = z.infer<typeof ReadinessScheduleSchema>;

export const ReadinessSchedulePatchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  weekday: WeekdaySchema.optional(),
  hour: z.int().min(0).max(23).optional(),
  minute: z.int().min(0).max(59).optional(),
  tone: z.boolean().optional(),
});

export const CommuneParamsSchema = z.object({ communeId: SlugSchema });
