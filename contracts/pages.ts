import { z } from 'zod';

/** One page of a list: the items and where they sit in the whole. */
export function pagedSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.int().describe('items matching the filter, across all pages'),
    limit: z.int(),
    offset: z.int(),
  });
}

/** The body of every error answer; `code` is stable, `message` is for people. */
export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
