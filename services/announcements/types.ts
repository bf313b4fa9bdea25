import { z } from 'zod';
import { BROADCAST_LEVELS, type BroadcastLevel } from '../../devices/index.js';

export type Level = BroadcastLevel;
export const LevelSchema = z.enum(BROADCAST_LEVELS);
/** Circular 39: emergency pre-empts everything, priority pre-empts normal. */
export const LEVEL_RANK: Record<Level, number> = { normal: 0, priority: 1, emergency: 2 };

export const ContentSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('media'), mediaId: z.string().min(1).max(40) }),
  z.strictObject({
    kind: z.literal('stream'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .describe('an external live stream, relayed for the time window'),
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

/** One planned play of a schedule, in UTC milliseconds. */
export interface Occurrence {
  scheduleId: string;
  start: number;
  end: number;
}

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
export const FINAL_DELIVERY_STATES: readonly DeliveryState[] = [
  'done',
  'failed',
  'missed',
  'pre-empted',
  'expired',
  'stopped',
];
