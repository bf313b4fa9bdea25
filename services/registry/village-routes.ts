import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pagedSchema } from '../../contracts/pages.js';
import {
  SlugSchema,
  VillageCreateSchema,
  VillagePatchSchema,
  VillageSchema,
} from '../../contracts/registry.js';
import { changes, summary } from '../api/audit-summary.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, communeScope, type inScope } from '../api/security.js';
import type { RegistryRouteDeps } from './commune-routes.js';

const IdParams = z.object({ id: SlugSchema });

export const villageRoutes: FastifyPluginAsyncZod<{ deps: RegistryRouteDeps }> = async (app, { deps }) => {
  const { registry } = deps;
  const tags = ['registry'];
  const visible = (request: Parameters<typeof inScope>[0], id: string) => {
    const village = registry.getVillage(id);
    assertInScope(request, village.communeId, 'village', id);
    return village;
  };

  app.get(
    '/villages',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'List villages (thôn), optionally of one commune',
        querystring: PageQuerySchema.extend({ communeId: SlugSchema.optional() }),
        response: { 200: pagedSchema(VillageSchema) },
      },
    },
    async (request) => {
      const { communeId, ...page } = request.query;
      return registry.listVillages(communeScope(request, communeId), page);
    },
  );
  app.post(
    '/villages',
    {
      config: { access: ['admin'], audit: 'village.create' },
      schema: {
        tags,
        summary: 'Create a village',
        body: VillageCreateSchema,
        response: { 201: VillageSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      assertInScope(request, request.body.communeId, 'commune', request.body.communeId);
      const village = await registry.createVillage(request.body);
      request.auditNote = { target: { type: 'village', id: village.id }, after: summary(village) };
      return reply.status(201).send(village);
    },
  );
  app.get(
    '/villages/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Get a village',
        params: IdParams,
        response: { 200: VillageSchema, ...errorResponses },
      },
    },
    async (request) => visible(request, request.params.id),
  );
  app.patch(
    '/villages/:id',
    {
      config: { access: ['admin'], audit: 'village.update' },
      schema: {
        tags,
        summary: 'Rename a village or mark its name as real',
        params: IdParams,
        body: VillagePatchSchema,
        response: { 200: VillageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = visible(request, request.params.id);
      const after = await registry.updateVillage(request.params.id, request.body);
      request.auditNote = changes(before, after);
      return after;
    },
  );
  app.delete(
    '/villages/:id',
    {
      config: { access: ['admin'], audit: 'village.delete' },
      schema: {
        tags,
        summary: 'Delete a village (refused while it has clusters)',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const before = visible(request, request.params.id);
      await registry.deleteVillage(request.params.id);
      request.auditNote = { before: summary(before) };
      return reply.status(204).send(null);
    },
  );
};
