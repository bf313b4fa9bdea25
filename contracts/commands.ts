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
