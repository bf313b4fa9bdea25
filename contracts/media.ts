import { z } from 'zod';

/** `m-` and ten hex digits: short enough to read out over the phone, random enough not to guess. */
export const MediaIdSchema = z
  .string()
  .regex(/^m-[0-9a-f]{10}$/, 'a media id looks like m-0123456789')
  .describe('media id');

export const MediaNameSchema = z.string().trim().min(1).max(200);

export const MediaSchema = z.object({
  id: MediaIdSchema,
  name: MediaNameSchema.describe('what operators call the clip; defaults to the uploaded file name'),
  mime: z.string().describe('the type sniffed from the bytes, sent as Content-Type to devices'),
  ext: z.enum(['mp3', 'wav', 'ogg', 'aac', 'm4a']),
  sizeBytes: z.int().positive(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('lower-case hex, as devices check it'),
  durationS: z.number().positive().describe('playing time in seconds, read from the file'),
  createdAt: z.iso.datetime(),
  createdBy: z.string().nullable().describe('username of the uploader'),
  communeId: z
    .string()
    .nullable()
    .describe("the uploader's commune; null for the shared library of accounts that address every commune"),
});
export type MediaRecord = z.infer<typeof MediaSchema>;
export type MediaExt = MediaRecord['ext'];
