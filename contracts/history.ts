import { z } from 'zod';

/** How a window of a device's history is reduced to one point. */
export const AGGREGATES = ['mean', 'min', 'max', 'first', 'last', 'count', 'sum'] as const;

export const HistoryResponseSchema = z.object({
  deviceId: z.string(),
  field: z.string(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  window: z.string().nullable(),
  agg: z.enum(AGGREGATES).nullable(),
  points: z.array(z.object({ at: z.iso.datetime(), value: z.number() })),
  next: z.iso
    .datetime()
    .nullable()
    .describe('when the limit cut the answer: pass this as "from" to get the rest'),
});

export const AvailabilitySchema = z.object({
  uptimePct: z.number().nullable().describe('online share of the time whose state is known; null if none is'),
  onlineS: z.number(),
  offlineS: z.number().describe('offline outside maintenance windows: counted against uptime'),
  maintenanceS: z
    .number()
    .describe('offline inside a maintenance window: reported apart, not against uptime'),
  unknownS: z.number().describe('time before the device was first heard of in the range'),
});

export const AvailabilityReportSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  overall: AvailabilitySchema.extend({ devices: z.int() }),
  villages: z.array(AvailabilitySchema.extend({ id: z.string(), name: z.string(), devices: z.int() })),
  devices: z.object({
    items: z.array(AvailabilitySchema.extend({ id: z.string(), name: z.string(), villageId: z.string() })),
    total: z.int(),
    limit: z.int(),
    offset: z.int(),
  }),
});

/** One online or offline stretch of a device. */
export const PresencePeriodSchema = z.object({
  online: z.boolean(),
  startedAt: z.iso.datetime(),
  startReason: z.string(),
  endedAt: z.iso.datetime().nullable(),
  endReason: z.string().nullable(),
  durationS: z.number().describe('length of the period so far, seconds'),
});
