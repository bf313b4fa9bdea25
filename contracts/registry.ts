import { z } from 'zod';
import { DeviceIdSchema } from '../devices/shared/device-id.js';
import { NETWORK_KINDS, StreamHealthSchema } from '../devices/speaker-cluster/messages.js';

/** Ids of communes and villages: URL-safe slugs, chosen by the operator or generated. */
export const SlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,47}$/, 'lower-case letters, digits and "-", 2 to 48 characters');

const name = z.string().trim().min(1).max(120);
const timestamp = z.iso.datetime().describe('ISO 8601, UTC');

/** A province after the 2025 arrangement (34 of them), with its official two-digit code. */
export const ProvinceSchema = z.object({
  id: SlugSchema,
  code: z.string().describe('mã đơn vị hành chính cấp tỉnh (Decision 19/2025/QĐ-TTg)'),
  name,
  communes: z.int().describe('communes of this province in the registry'),
});
export type Province = z.infer<typeof ProvinceSchema>;

export const ADMINISTRATIVE_UNIT_TYPES = ['commune', 'ward', 'special-zone'] as const;
export type AdministrativeUnitType = (typeof ADMINISTRATIVE_UNIT_TYPES)[number];

/** A commune, ward or special zone of the national list after 1 July 2025, with its official code. */
export const AdministrativeUnitSchema = z.object({
  code: z.string().describe('mã đơn vị hành chính cấp xã, five digits'),
  name: z.string().describe('the name without its kind, e.g. "Tam Dương"'),
  fullName: z.string().describe('the official name, e.g. "Xã Tam Dương"'),
  type: z.enum(ADMINISTRATIVE_UNIT_TYPES).describe('xã (commune), phường (ward) or đặc khu (special zone)'),
  provinceCode: z.string().describe("the province's two-digit code"),
  provinceName: z.string(),
});
export type AdministrativeUnit = z.infer<typeof AdministrativeUnitSchema>;

export const AdministrativeUnitItemSchema = AdministrativeUnitSchema.extend({
  provinceId: SlugSchema.describe('the province in GET /provinces'),
});

export const AdministrativeUnitQuerySchema = z.object({
  provinceId: SlugSchema.optional().describe("default: every province the caller's communes are in"),
  q: z
    .string()
    .trim()
    .max(120)
    .optional()
    .describe('part of the name (diacritics optional) or the start of the code'),
});

const CommuneCodeSchema = z
  .string()
  .regex(/^\d{5}$/, 'the five-digit code of the national list (mã đơn vị hành chính cấp xã)');

export const CommuneSchema = z.object({
  id: SlugSchema,
  code: z.string().nullable().describe('mã đơn vị hành chính cấp xã, five digits, once entered'),
  name,
  provinceId: SlugSchema.nullable().describe('the province it belongs to (GET /provinces)'),
  district: z
    .string()
    .max(120)
    .nullable()
    .describe('the former district (huyện), a label kept for history: districts ended on 1 July 2025'),
  province: z
    .string()
    .max(120)
    .nullable()
    .describe("the province's name: from provinceId when set, else as entered"),
  timezone: z.string(),
  approvalRequired: z
    .boolean()
    .describe("normal and priority announcements air only once the commune's approver approved them"),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Commune = z.infer<typeof CommuneSchema>;

export const CommuneCreateSchema = z.strictObject({
  id: SlugSchema.optional(),
  code: CommuneCodeSchema.nullable().optional(),
  provinceId: SlugSchema.nullable().optional(),
  name,
  district: z.string().max(120).nullable().optional(),
  province: z.string().max(120).nullable().optional(),
  timezone: z.string().optional(),
  approvalRequired: z
    .boolean()
    .optional()
    .describe(
      'content approval (duyệt nội dung) before normal and priority announcements air; default false',
    ),
});
export type CommuneCreate = z.infer<typeof CommuneCreateSchema>;
export const CommunePatchSchema = CommuneCreateSchema.omit({ id: true }).partial();
export type CommunePatch = z.infer<typeof CommunePatchSchema>;

export const VillageSchema = z.object({
  id: SlugSchema,
  communeId: SlugSchema,
  name,
  namePlaceholder: z
    .boolean()
    .describe('true when the name stands in for a real village name not yet entered'),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Village = z.infer<typeof VillageSchema>;

export const VillageCreateSchema = z.strictObject({
  id: SlugSchema.optional(),
  communeId: SlugSchema,
  name,
  namePlaceholder: z.boolean().optional(),
});
export type VillageCreate = z.infer<typeof VillageCreateSchema>;
export const VillagePatchSchema = VillageCreateSchema.omit({ id: true, communeId: true }).partial();
export type VillagePatch = z.infer<typeof VillagePatchSchema>;

export const LocationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

export const SpeakerSchema = z.object({
  idx: z.int().min(1).max(16),
  label: z.string().trim().min(1).max(120),
});

export const ClusterCreateSchema = z.strictObject({
  id: DeviceIdSchema.describe('the device id printed on the cluster; also its MQTT username'),
  villageId: SlugSchema,
  name,
  address: z.string().max(240).nullable().optional(),
  location: LocationSchema,
  heartbeatTimeoutS: z
    .int()
    .min(10)
    .max(86_400)
    .nullable()
    .optional()
    .describe('offline after this long without a heartbeat; default is 3 heartbeat intervals'),
  speakers: z
    .union([z.int().min(1).max(16), z.array(SpeakerSchema).min(1).max(16)])
    .optional()
    .describe('a number of outputs (labelled "Loa 1".."Loa n") or the labelled outputs; default 2'),
});
export type ClusterCreate = z.infer<typeof ClusterCreateSchema>;
export const ClusterPatchSchema = ClusterCreateSchema.omit({ id: true }).partial();
export type ClusterPatch = z.infer<typeof ClusterPatchSchema>;

export const SpeakerHealthSchema = SpeakerSchema.extend({
  ok: z.boolean().nullable().describe('null until the first heartbeat'),
  fault: z.string().nullable(),
});

export const ClusterStatusSchema = z.object({
  online: z.boolean(),
  since: timestamp.nullable().describe('when the current online/offline period began'),
  reason: z.string().nullable(),
  lastSeen: timestamp.nullable(),
  signalDbm: z.number().nullable(),
  net: z.enum(NETWORK_KINDS).nullable(),
  volume: z.number().nullable(),
  power: z.boolean().nullable(),
  playing: z.boolean().nullable(),
  tempC: z.number().nullable(),
  supplyV: z.number().nullable(),
  uptimeS: z.number().nullable(),
  fw: z.string().nullable(),
  speakersOk: z.int().nullable(),
  speakersFaulty: z.int().nullable(),
  stream: StreamHealthSchema.nullable().describe('the live stream it reported playing in its last heartbeat'),
});
export type ClusterStatus = z.infer<typeof ClusterStatusSchema>;

export const ClusterSchema = z.object({
  id: DeviceIdSchema,
  villageId: SlugSchema,
  communeId: SlugSchema,
  name,
  address: z.string().nullable(),
  location: LocationSchema,
  heartbeatTimeoutS: z.int().nullable(),
  speakers: z.array(SpeakerHealthSchema),
  credential: z.object({ issued: z.boolean(), issuedAt: timestamp.nullable() }),
  status: ClusterStatusSchema,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Cluster = z.infer<typeof ClusterSchema>;

/** A single cluster's answer: the record plus what ingress dropped from it since start. */
export const ClusterDetailSchema = ClusterSchema.extend({
  rejectedMessages: z
    .record(z.string(), z.int())
    .describe('malformed messages dropped since start, by reason'),
  lastRejection: z
    .object({
      reason: z.string(),
      detail: z.string().nullable().describe('what was wrong, e.g. which field'),
      at: z.iso.datetime(),
    })
    .nullable()
    .describe('the last message dropped since start'),
});

export const IssuedSecretSchema = z.object({
  deviceId: DeviceIdSchema,
  secret: z.string().describe('shown once: store it on the device now; it cannot be read again'),
  issuedAt: timestamp,
  rotated: z.boolean().describe('true when an earlier secret was replaced and no longer works'),
});
