import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { SlugSchema } from '../../contracts/registry.js';
import type { CommuneFilter, Page } from '../registry/registry-store.js';
import { PageQuerySchema } from './pagination.js';
import { communeScope } from './security.js';

/** The query of a list kept per commune: a page, and `communeId` to narrow it to one commune. */
export const CommunePageQuerySchema = PageQuerySchema.extend({ communeId: SlugSchema.optional() });

export type CommunePageQuery = z.infer<typeof CommunePageQuerySchema>;

/**
 * The communes and the page a list route asks its store for: `communeId` within the caller's
 * communes (404 outside them, see `communeScope`), then `limit` and `offset`.
 */
export function communePage(request: FastifyRequest & { query: CommunePageQuery }): {
  scope: CommuneFilter;
  page: Page;
} {
  const { communeId, limit, offset } = request.query;
  return { scope: communeScope(request, communeId), page: { limit, offset } };
}
