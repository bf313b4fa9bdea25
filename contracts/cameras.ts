import { z } from 'zod';
import { CAMERA_EVENT_KINDS } from '../devices/onvif-camera/event-topics.js';
import type { CameraHealthReasonCode } from '../devices/onvif-camera/health-machine.js';
import { DeviceIdSchema } from '../devices/shared/device-id.js';
import { LocationSchema, SlugSchema } from './registry.js';

const name = z.string().trim().min(1).max(120);

/** An ONVIF ReferenceToken (ONVIF schema: a string of at most 64 characters). */
const TokenSchema = z.string().min(1).max(64);

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
  snapshotUsername: z
    .string()
    .min(1)
    .max(64)
    .nullable()
    .optional()
    .describe(
      "the account the snapshot URI wants when it is not the ONVIF one (the camera's web user); null: the ONVIF account",
    ),
  snapshotPassword: z
    .string()
    .min(1)
    .max(128)
    .nullable()
    .optional()
    .describe('with snapshotUsername; stored sealed (AES-256-GCM); never returned'),
  endpointUrn: z
    .string()
    .max(100)
    .nullable()
    .optional()
    .describe('the WS-Discovery endpoint address (urn:uuid:…) when onboarded from discovery'),
  videoSourceToken: TokenSchema.nullable()
    .optional()
    .describe(
      'the channel: the video source this camera shows (POST …/probe-channels lists them); unique per address',
    ),
  profileToken: TokenSchema.nullable()
    .optional()
    .describe("the profile polled and streamed; default the device's first profile"),
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
  snapshotUsername: z.string().nullable().describe('the separate snapshot account, or null'),
  endpointUrn: z.string().nullable(),
  videoSourceToken: z.string().nullable(),
  profileToken: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Camera = z.infer<typeof CameraSchema>;

export const CAMERA_STATES = ['unknown', 'ok', 'degraded', 'offline', 'auth_failed'] as const;

/**
 * Every reason the health machine can give (devices/onvif-camera/health-machine.ts), each with a
 * label in the console's languages (cameraReason.* in web/src/i18n). A record over the type, so a
 * code added there and forgotten here does not compile.
 */
const REASONS: Record<CameraHealthReasonCode, true> = {
  'first-poll': true,
  healthy: true,
  unreachable: true,
  'auth-rejected': true,
  'certificate-changed': true,
  'clock-drift': true,
  'time-zone': true,
  'stream-down': true,
  'snapshot-failed': true,
  slow: true,
};
export const CAMERA_REASON_CODES = Object.keys(REASONS) as CameraHealthReasonCode[];

export const CameraHealthSchema = z.object({
  state: z.enum(CAMERA_STATES),
  since: z.iso.datetime().describe('when the camera entered this state (the first poll that showed it)'),
  reason: z.string().describe(`a stable code: ${CAMERA_REASON_CODES.join(', ')}`),
  detail: z.string(),
  lastPollAt: z.iso.datetime().nullable(),
  lastOkAt: z.iso.datetime().nullable(),
  snapshotAt: z.iso.datetime().nullable().describe('time of the latest good snapshot (GET …/snapshot)'),
});
export type CameraHealth = z.infer<typeof CameraHealthSchema>;

/** The camera's event subscription, as the technician needs to see it. */
export const CameraEventFeedSchema = z.object({
  state: z
    .enum(['starting', 'subscribed', 'retrying', 'unsupported'])
    .describe(
      'unsupported: the device offers no PullPoint events (checked again hourly and when it comes back)',
    ),
  kinds: z.array(z.enum(CAMERA_EVENT_KINDS)).describe('the events the device offers'),
  since: z.iso.datetime(),
  reason: z
    .enum(['certificate-changed', 'certificate-not-trusted', 'login-held-back'])
    .nullable()
    .describe(
      'why a retrying subscription waits on the platform: the camera presents another TLS certificate ' +
        'than the one trusted, the health poll has not trusted one yet, or its login backoff holds it back',
    ),
  lastError: z.string().nullable(),
});

export const CameraWithHealthSchema = CameraSchema.extend({
  health: CameraHealthSchema,
  events: CameraEventFeedSchema.nullable().describe('null until the events subscription has started'),
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

export const ChannelProbeRequestSchema = z.strictObject({
  xaddr: XAddrSchema.describe('the ONVIF device service URL of the camera, NVR or encoder'),
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(128).describe('used for this request only, never stored'),
});

export const ChannelProfileSchema = z.object({
  token: z.string(),
  name: z.string().nullable(),
  encoding: z.string().nullable(),
  width: z.int().nullable(),
  height: z.int().nullable(),
  service: z
    .enum(['media', 'media2'])
    .describe('media2: listed by Media2 only, which the health poll does not use'),
});

export const CameraChannelSchema = z.object({
  videoSourceToken: z.string(),
  width: z.int().nullable(),
  height: z.int().nullable(),
  framerate: z.number().nullable(),
  profiles: z.array(ChannelProfileSchema).describe('the main stream first'),
  onboardedAs: z.string().nullable().describe('the camera id when this channel is already onboarded'),
});

export const ChannelProbeResultSchema = z.object({
  reachable: z.boolean(),
  authOk: z.boolean().nullable(),
  media2: z.boolean().describe('whether the device has ONVIF Media2 (Profile T)'),
  eventKinds: z
    .array(z.enum(CAMERA_EVENT_KINDS))
    .nullable()
    .describe('the events it offers over PullPoint; null without an events service'),
  channels: z.array(CameraChannelSchema),
  steps: z.array(PollStepSchema),
  error: z.string().nullable(),
});

/** A motion, tamper or video-loss period a camera reported through ONVIF events. */
export const CameraEventSchema = z.object({
  id: z.int(),
  cameraId: z.string(),
  cameraName: z.string(),
  communeId: z.string(),
  kind: z.enum(CAMERA_EVENT_KINDS),
  topic: z.string().describe('the ONVIF topic it came as, e.g. tns1:VideoSource/MotionAlarm'),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable(),
  durationS: z.number().describe('so far, for an event still going on'),
});
export type CameraEvent = z.infer<typeof CameraEventSchema>;
