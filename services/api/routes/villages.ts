import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  SlugSchema,
  VillageCreateSchema,
  VillagePatchSchema,
  VillageSchema,
} from '../../registry/schemas.js';
import type { ApiDeps } from '../deps.js';
import { errorResponses, PageQuerySchema, pagedSchema } from '../pagination.js';

const IdParams = z.object({ id: SlugSchema });

export const villageRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { registry } = deps;
  const tags = ['registry'];

  app.get(
    '/villages',
    {
      schema: {
        tags,
        summary: 'List villages (thôn), optionally of one commune',
        querystring: PageQuerySchema.extend({ communeId: SlugSchema.optional() }),
        response: { 200: pagedSchema(VillageSchema) },
      },
    },
    async (request) => {
      const { communeId, ...page } = request.query;
      return registry.listVillages({ communeId }, page);
    },
  );
  app.post(
    '/villages',
    {
      schema: {
        tags,
        summary: 'Create a village',
        body: VillageCreateSchema,
        response: { 201: VillageSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(registry.createVillage(request.body)),
  );
  app.get(
    '/villages/:id',
    {
      schema: {
        tags,
        summary: 'Get a village',
        params: IdParams,
        response: { 200: VillageSchema, ...errorResponses },
      },
    },
    async (request) => registry.getVillage(request.params.id),
  );
  app.patch(
    '/villages/:id',
    {
      schema: {
        tags,
        summary: 'Rename a village or mark its name as real',
        params: IdParams,
        body: VillagePatchSchema,
        response: { 200: VillageSchema, ...errorResponses },
      },
    },
    async (request) => registry.updateVillage(request.params.id, request.body),
  );
  app.delete(
    '/villages/:id',
    {
      schema: {
        tags,
        summary: 'Delete a village (refused while it has clusters)',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      registry.deleteVillage(request.params.id);
      return reply.status(204).send(null);
    },
  );
};
