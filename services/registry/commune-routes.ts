import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pagedSchema } from '../../contracts/pages.js';
import {
  CommuneCreateSchema,
  CommunePatchSchema,
  CommuneSchema,
  SlugSchema,
} from '../../contracts/registry.js';
import { changes, summary } from '../api/audit-summary.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, type inScope } from '../api/security.js';
import type { RegistryStore } from './registry-store.js';

const IdParams = z.object({ id: SlugSchema });

export interface RegistryRouteDeps {
  registry: RegistryStore;
}

export const communeRoutes: FastifyPluginAsyncZod<{ deps: RegistryRouteDeps }> = async (app, { deps }) => {
  const { registry } = deps;
  const tags = ['registry'];
  const visible = (request: Parameters<typeof inScope>[0], id: string) => {
    const commune = registry.getCommune(id);
    assertInScope(request, commune.id, 'commune', id);
    return commune;
  };

  app.get(
    '/communes',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'List communes',
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(CommuneSchema) },
      },
    },
    async (request) => {
      const scope = request.principal?.communeId;
      if (!scope) return registry.listCommunes(request.query);
      const own = registry.getCommune(scope);
      return { items: request.query.offset === 0 ? [own] : [], total: 1, ...request.query };
    },
  );
  app.post(
    '/communes',
    {
      config: { access: ['admin'], audit: 'commune.create' },
      schema: {
        tags,
        summary: 'Create a commune',
        body: CommuneCreateSchema,
        response: { 201: CommuneSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const commune = registry.createCommune(request.body);
      request.auditNote = { target: { type: 'commune', id: commune.id }, after: summary(commune) };
      return reply.status(201).send(commune);
    },
  );
  app.get(
    '/communes/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Get a commune',
        params: IdParams,
        response: { 200: CommuneSchema, ...errorResponses },
      },
    },
    async (request) => visible(request, request.params.id),
  );
  app.patch(
    '/communes/:id',
    {
      config: { access: ['admin'], audit: 'commune.update' },
      schema: {
        tags,
        summary: 'Update a commune',
        params: IdParams,
        body: CommunePatchSchema,
        response: { 200: CommuneSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = visible(request, request.params.id);
      const after = registry.updateCommune(request.params.id, request.body);
      request.auditNote = changes(before, after);
      return after;
    },
  );
  app.delete(
    '/communes/:id',
    {
      config: { access: ['admin'], audit: 'commune.delete' },
      schema: {
        tags,
        summary: 'Delete a commune (refused while it has villages)',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const before = visible(request, request.params.id);
      registry.deleteCommune(request.params.id);
      request.auditNote = { before: summary(before) };
      return reply.status(204).send(null);
    },
  );
};
