import { z } from 'zod';
import { DeviceIdSchema } from '../../devices/index.js';
import { LocationSchema, SlugSchema } from '../registry/schemas.js';

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
