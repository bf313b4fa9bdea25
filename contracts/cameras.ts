import { z } from 'zod';
import { DeviceIdSchema } from '../devices/shared/device-id.js';
import { LocationSchema, SlugSchema } from './registry.js';

const name = z.string().trim().min(1).max(120);

/** The ONVIF device service address (ONVIF Core §5.1: http(s)://host[:port]/onvif/device_service). */
const XAddrSchema = z.url({ protocol: /^https?$/ }).max(512);

export const CameraCreateSchema = z.strictObject({
  id: DeviceIdSchema.describe('the camera id; used as the device tag in the history'),
  communeId: SlugSchema,
  villageId: SlugSchema.nullable().optional(),
  name,
  address: z
    .string()
    .max(240)
    .nullable()
    .optional()
    .describe('where it looks: a crossroads, a gathering point'),
  location: LocationSchema.nullable().optional(),
  xaddr: XAddrSchema.describe('the ONVIF device service URL'),
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(128).describe('stored sealed (AES-256-GCM); never returned'),
  endpointUrn: z
    .string()
    .max(100)
    .nullable()
    .optional()
    .describe('the WS-Discovery endpoint address (urn:uuid:…) when onboarded from discovery'),
});
export type CameraCreate = z.infer<typeof CameraCreateSchema>;

export const CameraPatchSchema = CameraCreateSchema.omit({ id: true, communeId: true }).partial();
export type CameraPatch = z.infer<typeof CameraPatchSchema>;

export const CameraSchema = z.object({
  id: z.string(),
  communeId: z.string(),
  villageId: z.string().nullable(),
  name: z.string(),
  address: z.string().nullable(),
  location: LocationSchema.nullable(),
  xaddr: z.string(),
  username: z.string(),
  endpointUrn: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Camera = z.infer<typeof CameraSchema>;

export const CAMERA_STATES = ['unknown', 'ok', 'degraded', 'offline', 'auth_failed'] as const;

export const CameraHealthSchema = z.object({
  state: z.enum(CAMERA_STATES),
  since: z.iso.datetime().describe('when the camera entered this state (the first poll that showed it)'),
  reason: z
    .string()
    .describe(
      'a stable code: healthy, unreachable, auth-rejected, clock-drift, stream-down, snapshot-failed, slow',
    ),
  detail: z.string(),
  lastPollAt: z.iso.datetime().nullable(),
  lastOkAt: z.iso.datetime().nullable(),
  snapshotAt: z.iso.datetime().nullable().describe('time of the latest good snapshot (GET …/snapshot)'),
});
export type CameraHealth = z.infer<typeof CameraHealthSchema>;

export const CameraWithHealthSchema = CameraSchema.extend({
  health: CameraHealthSchema,
  uptime: z.object({
    last24hPct: z.number().nullable().describe('usable (ok or degraded) share of the known time'),
    last7dPct: z.number().nullable(),
  }),
});

export const CameraIncidentSchema = z.object({
  id: z.int(),
  kind: z.enum(['offline', 'auth_failed']),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable(),
  durationS: z.number().describe('so far, for an open incident'),
  reason: z.string(),
  detail: z.string(),
});

export const DiscoveryRequestSchema = z.strictObject({
  networkInterface: z.string().min(1).max(64).optional().describe('e.g. eth0'),
  timeoutMs: z.int().min(500).max(30_000).default(3000),
});

export const DiscoveredCameraSchema = z.object({
  endpointUrn: z.string(),
  xaddr: z.string(),
  name: z.string().nullable(),
  hardware: z.string().nullable(),
  location: z.string().nullable(),
  from: z.string(),
  onboardedAs: z.string().nullable().describe('the camera id when this device is already onboarded'),
});

export const DiscoveryResultSchema = z.object({ items: z.array(DiscoveredCameraSchema) });

export const PollStepSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  latencyMs: z.number().nullable(),
  error: z.string().optional(),
});

export const PollResultSchema = z.object({
  steps: z.array(PollStepSchema),
  clockDriftS: z.number().nullable(),
  streamUri: z.string().nullable(),
  snapshotUri: z.string().nullable(),
  health: CameraHealthSchema,
});
