import { z } from 'zod';
import { FirmwareVersionSchema } from '../devices/speaker-cluster/messages.js';
import { TargetsSchema } from './broadcasts.js';
import { SlugSchema } from './registry.js';

const timestamp = z.iso.datetime().describe('ISO 8601, UTC');

export const FirmwareIdSchema = z
  .string()
  .regex(/^fw-[0-9a-f]{10}$/, 'a firmware id looks like fw-0123456789')
  .describe('firmware image id');

export const RolloutIdSchema = z
  .string()
  .regex(/^fwr-[0-9a-f]{10}$/, 'a rollout id looks like fwr-0123456789')
  .describe('rollout id');

export const Sha256HexSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
  .transform((hex) => hex.toLowerCase());

/** The text fields of a firmware upload (multipart), beside the file itself. */
export const FirmwareUploadFieldsSchema = z.strictObject({
  version: FirmwareVersionSchema.describe('what clusters report in `state.fw` once they run it'),
  sha256: Sha256HexSchema.describe(
    "the image's SHA-256 as its vendor published it; the upload is refused if it differs",
  ),
  notes: z.string().trim().max(500).optional(),
});

export const FirmwareImageSchema = z.object({
  id: FirmwareIdSchema,
  version: FirmwareVersionSchema,
  filename: z.string(),
  sizeBytes: z.int().positive(),
  sha256: z.string().describe('lower-case hex, checked at upload and by every cluster'),
  notes: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: timestamp,
});
export type FirmwareImage = z.infer<typeof FirmwareImageSchema>;

/** Where a rollout goes: named targets, or a share of one commune's clusters (lowest ids first). */
export const RolloutCreateSchema = z
  .strictObject({
    targets: TargetsSchema.optional().describe('these clusters (communes, villages, clusters or groups)'),
    communeId: SlugSchema.optional().describe('with percentage: the commune whose clusters are updated'),
    percentage: z
      .number()
      .gt(0)
      .max(100)
      .optional()
      .describe("this share of the commune's clusters, rounded up, in order of their ids"),
    batchSize: z
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe('clusters updated at once; the next batch starts when a batch has ended'),
    failureThreshold: z
      .number()
      .min(0)
      .max(100)
      .default(10)
      .describe("percent of the rollout's clusters that may fail; a failure beyond it halts the rollout"),
    clusterTimeoutS: z
      .int()
      .min(60)
      .max(86_400)
      .default(900)
      .describe('a cluster not back with the new version this long after it was sent the image has failed'),
  })
  .refine((r) => (r.targets !== undefined) !== (r.communeId !== undefined || r.percentage !== undefined), {
    message: 'name either targets, or a communeId with a percentage',
  })
  .refine((r) => (r.communeId === undefined) === (r.percentage === undefined), {
    message: 'a percentage goes with a communeId',
    path: ['percentage'],
  });
export type RolloutCreate = z.output<typeof RolloutCreateSchema>;

export const ROLLOUT_STATES = ['running', 'halted', 'completed'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/** How far one cluster got: the last step it reported (`online`: back with the new version). */
export const ROLLOUT_STAGES = [
  'not-started',
  'sent',
  'accepted',
  'download',
  'verify',
  'install',
  'reboot',
  'rollback',
  'online',
] as const;
export type RolloutStage = (typeof ROLLOUT_STAGES)[number];

export const ROLLOUT_OUTCOMES = [
  'not-started',
  'in-progress',
  'updated',
  'failed',
  'rolled-back',
  'skipped',
] as const;
export type RolloutOutcome = (typeof ROLLOUT_OUTCOMES)[number];

export const RolloutClusterSchema = z.object({
  clusterId: z.string(),
  communeId: z.string(),
  villageId: z.string(),
  batch: z.int().describe('0 for the first batch'),
  fromVersion: z.string().nullable().describe('the version it ran when the rollout began'),
  reportedVersion: z
    .string()
    .nullable()
    .describe('the version it reports now (after the update, or a rollback)'),
  stage: z.enum(ROLLOUT_STAGES),
  outcome: z.enum(ROLLOUT_OUTCOMES),
  error: z.string().nullable().describe('why it failed, rolled back or was skipped'),
  commandId: z.string().nullable(),
  startedAt: timestamp.nullable(),
  updatedAt: timestamp,
});
export type RolloutCluster = z.infer<typeof RolloutClusterSchema>;

export const RolloutCountsSchema = z.object({
  total: z.int(),
  notStarted: z.int(),
  inProgress: z.int(),
  updated: z.int(),
  failed: z.int(),
  rolledBack: z.int(),
  skipped: z.int(),
});

export const RolloutSummarySchema = z.object({
  id: RolloutIdSchema,
  firmwareId: FirmwareIdSchema,
  version: z.string(),
  state: z.enum(ROLLOUT_STATES),
  haltReason: z.string().nullable(),
  selection: z.object({
    targets: TargetsSchema.optional(),
    communeId: z.string().optional(),
    percentage: z.number().optional(),
  }),
  batchSize: z.int(),
  failureThreshold: z.number(),
  clusterTimeoutS: z.int(),
  batches: z.int(),
  counts: RolloutCountsSchema,
  createdBy: z.string().nullable(),
  createdAt: timestamp,
  finishedAt: timestamp.nullable().describe('when it completed or halted'),
});
export type RolloutSummary = z.infer<typeof RolloutSummarySchema>;

export const RolloutSchema = RolloutSummarySchema.extend({
  clusters: z.array(RolloutClusterSchema).describe('every cluster of the rollout, in order'),
});
export type Rollout = z.infer<typeof RolloutSchema>;
