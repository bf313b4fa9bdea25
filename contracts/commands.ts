import { z } from 'zod';
import {
  CommandSchema,
  ConfigCommandSchema,
  PingCommandSchema,
  PowerCommandSchema,
  RebootCommandSchema,
  StopCommandSchema,
  VolumeCommandSchema,
} from '../devices/speaker-cluster/messages.js';
import { TargetsSchema } from './broadcasts.js';
import { RecurrenceSchema, TimeZoneSchema, WallTimeSchema } from './schedules.js';

const generated = { id: true, issuedAt: true, expiresAt: true } as const;

/** A command as a client asks for it: the platform adds id, issuedAt and expiresAt. */
export const CommandRequestSchema = z.discriminatedUnion('type', [
  StopCommandSchema.omit(generated),
  VolumeCommandSchema.omit(generated),
  PowerCommandSchema.omit(generated),
  PingCommandSchema.omit(generated),
  RebootCommandSchema.omit(generated),
  ConfigCommandSchema.omit(generated),
]);

/** What operators may do to clusters themselves: their volume and their amplifiers' power. */
export const OPERATOR_COMMANDS = ['volume', 'power'] as const;

export const ControlRequestSchema = z.strictObject({
  targets: TargetsSchema.describe('the clusters: communes, villages, clusters or groups'),
  command: z.discriminatedUnion('type', [
    VolumeCommandSchema.omit(generated),
    PowerCommandSchema.omit(generated),
  ]),
});

export const ControlResponseSchema = z.object({
  items: z.array(
    z.object({
      clusterId: z.string(),
      status: z
        .enum(['offline', 'sent', 'accepted', 'rejected', 'done', 'failed', 'expired'])
        .describe('offline: not sent (the cluster is offline); otherwise the command as it stands'),
      commandId: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
});

export const CommandResponseSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  type: z.string(),
  status: z.enum(['sent', 'accepted', 'rejected', 'done', 'failed', 'expired']),
  error: z.string().nullable(),
  command: CommandSchema,
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

const ControlCommandSchema = z.discriminatedUnion('type', [
  VolumeCommandSchema.omit(generated),
  PowerCommandSchema.omit(generated),
]);

/** A volume or power setting on a calendar, e.g. amplifiers off at 22:00 every night. */
export const ControlScheduleCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(120),
  targets: TargetsSchema,
  command: ControlCommandSchema,
  start: WallTimeSchema.describe('wall time of the (first) run, YYYY-MM-DDTHH:mm[:ss]'),
  rrule: RecurrenceSchema.nullable().optional().describe('absent or null: once'),
  timezone: TimeZoneSchema.optional().describe("default the platform's TZ_DEFAULT"),
  enabled: z.boolean().default(true),
});

export const ControlSchedulePatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(120).optional(),
  enabled: z.boolean().optional(),
});

export const ControlScheduleSchema = z.object({
  id: z.string(),
  name: z.string(),
  targets: TargetsSchema,
  command: ControlCommandSchema,
  start: z.string(),
  rrule: z.string().nullable(),
  timezone: z.string(),
  enabled: z.boolean(),
  next: z.iso.datetime().nullable(),
  lastRun: z
    .object({ at: z.iso.datetime(), done: z.int(), offline: z.int(), failed: z.int() })
    .nullable()
    .describe('the last run: clusters that acknowledged, were offline, or refused'),
  createdBy: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
export type ControlSchedule = z.infer<typeof ControlScheduleSchema>;
