import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CommuneCreateSchema,
  CommunePatchSchema,
  CommuneSchema,
  SlugSchema,
} from '../../registry/schemas.js';
import type { ApiDeps } from '../deps.js';
import { errorResponses, PageQuerySchema, pagedSchema } from '../pagination.js';

const IdParams = z.object({ id: SlugSchema });

export const communeRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { registry } = deps;
  const tags = ['registry'];

  app.get(
    '/communes',
    {
      schema: {
        tags,
        summary: 'List communes',
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(CommuneSchema) },
      },
    },
    async (request) => registry.listCommunes(request.query),
  );
  app.post(
    '/communes',
    {
      schema: {
        tags,
        summary: 'Create a commune',
        body: CommuneCreateSchema,
        response: { 201: CommuneSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(registry.createCommune(request.body)),
  );
  app.get(
    '/communes/:id',
    {
      schema: {
        tags,
        summary: 'Get a commune',
        params: IdParams,
        response: { 200: CommuneSchema, ...errorResponses },
      },
    },
    async (request) => registry.getCommune(request.params.id),
  );
  app.patch(
    '/communes/:id',
    {
      schema: {
        tags,
        summary: 'Update a commune',
        params: IdParams,
        body: CommunePatchSchema,
        response: { 200: CommuneSchema, ...errorResponses },
      },
    },
    async (request) => registry.updateCommune(request.params.id, request.body),
  );
  app.delete(
    '/communes/:id',
    {
      schema: {
        tags,
        summary: 'Delete a commune (refused while it has villages)',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      registry.deleteCommune(request.params.id);
      return reply.status(204).send(null);
    },
  );
};
