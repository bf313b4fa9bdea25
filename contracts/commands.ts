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
