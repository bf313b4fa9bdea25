import { z } from 'zod';
import { ErrorSchema } from '../../contracts/pages.js';

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});

/** Standard error responses every route may answer with. */
export const errorResponses = {
  400: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
} as const;
