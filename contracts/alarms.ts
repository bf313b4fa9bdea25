import { z } from 'zod';
import { SlugSchema } from './registry.js';

const timestamp = z.iso.datetime().describe('ISO 8601, UTC');

/** What an alarm is about; each kind has a default rule, a commune may change it. */
export const ALARM_KINDS = [
  'cluster-offline',
  'weak-signal',
  'overheating',
  'low-supply',
  'speaker-fault',
  'rejected-messages',
  'camera-offline',
  'camera-auth-failed',
  'not-delivered',
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const AlarmRuleSchema = z.object({
  kind: z.enum(ALARM_KINDS),
  enabled: z.boolean(),
  severity: z.enum(SEVERITIES),
  threshold: z
    .number()
    .nullable()
    .describe(
      'weak-signal: dBm below which; overheating: °C above which; low-supply: volts below which; ' +
        'rejected-messages: rejected messages per hour from one device; others: unused',
    ),
  forS: z
    .int()
    .min(0)
    .max(86_400)
    .describe('how long the cause must last before the alarm opens (no flapping)'),
  custom: z.boolean().describe("false: the platform's default for this kind"),
});
export type AlarmRule = z.infer<typeof AlarmRuleSchema>;

export const AlarmRulePatchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  severity: z.enum(SEVERITIES).optional(),
  threshold: z.number().nullable().optional(),
  forS: z.int().min(0).max(86_400).optional(),
});

export const ALARM_STATES = ['open', 'acknowledged', 'cleared'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export const AlarmSchema = z.object({
  id: z.string(),
  kind: z.enum(ALARM_KINDS),
  severity: z.enum(SEVERITIES),
  state: z.enum(ALARM_STATES),
  deviceId: z.string(),
  deviceKind: z.enum(['cluster', 'camera']),
  communeId: z.string(),
  villageId: z.string().nullable(),
  detail: z.string(),
  incidentId: z.string().nullable().describe('the village outage it is part of, if any'),
  held: z.boolean().describe('raised while the device was under maintenance: kept, not sent to anyone'),
  openedAt: timestamp,
  acknowledgedAt: timestamp.nullable(),
  acknowledgedBy: z.string().nullable(),
  note: z.string().nullable(),
  clearedAt: timestamp.nullable(),
});
export type AlarmView = z.infer<typeof AlarmSchema>;

export const AlarmAckSchema = z.strictObject({
  note: z.string().trim().min(1).max(1_000).describe('what is being done about it'),
});

export const IncidentSchema = z.object({
  id: z.string(),
  kind: z.literal('village-outage'),
  communeId: z.string(),
  villageId: z.string(),
  villageName: z.string(),
  openedAt: timestamp,
  clearedAt: timestamp.nullable(),
  devices: z
    .array(z.object({ deviceId: z.string(), deviceKind: z.enum(['cluster', 'camera']), back: z.boolean() }))
    .describe('the speakers and cameras that dropped together; cameras here are blind because of it'),
  detail: z.string(),
});
export type IncidentView = z.infer<typeof IncidentSchema>;

/**
 * A village outage as the camera wall shows it (police included): the village, since when, and
 * the cameras blind because of it; the same shape over HTTP (GET /outages) and Socket.IO
 * (`outages.changed`). It names no speaker cluster.
 */
export const OutageSchema = z.object({
  id: z.string().describe('the incident'),
  communeId: z.string(),
  villageId: z.string(),
  villageName: z.string(),
  open: z.boolean().describe('false once every device is back'),
  openedAt: timestamp,
  clearedAt: timestamp.nullable(),
  devices: z.int().describe('devices of the village that dropped together'),
  blindCameras: z
    .array(z.object({ cameraId: z.string(), name: z.string().nullable() }))
    .describe('cameras of the outage not back yet'),
});
export type OutageView = z.infer<typeof OutageSchema>;

export const MaintenanceCreateSchema = z
  .strictObject({
    communeId: SlugSchema.optional(),
    villageId: SlugSchema.optional().describe('every cluster and camera of this village'),
    deviceIds: z.array(z.string().min(1).max(64)).max(500).optional(),
    startsAt: z.iso.datetime({ offset: true }).optional().describe('default: now'),
    endsAt: z.iso.datetime({ offset: true }),
    reason: z.string().trim().min(1).max(500),
  })
  .refine((m) => Boolean(m.villageId) || (m.deviceIds?.length ?? 0) > 0, {
    message: 'name a village or some devices',
    path: ['villageId'],
  });

export const MaintenanceSchema = z.object({
  id: z.string(),
  communeId: z.string(),
  villageId: z.string().nullable(),
  deviceIds: z.array(z.string()),
  startsAt: timestamp,
  endsAt: timestamp,
  reason: z.string(),
  createdBy: z.string().nullable(),
  createdAt: timestamp,
});
export type MaintenanceView = z.infer<typeof MaintenanceSchema>;
