import { z } from 'zod';

/** `denied`: answered 401 or 403; `failure`: any other error status. */
export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;

export const AuditEntrySchema = z.object({
  id: z.int(),
  at: z.iso.datetime(),
  requestId: z.string().nullable(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  actorName: z.string().nullable(),
  actorRoles: z.array(z.string()),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  outcome: z.enum(AUDIT_OUTCOMES),
  status: z.int().nullable(),
  address: z.string().nullable(),
  detail: z.unknown(),
});
