import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pagedSchema } from '../../contracts/pages.js';
import { type Group, GroupCreateSchema, GroupPatchSchema, GroupSchema } from '../../contracts/schedules.js';
import { changes, summary } from '../api/audit-summary.js';
import { CommunePageQuerySchema, communePage } from '../api/commune-page.js';
import { errorResponses } from '../api/pagination.js';
import { assertInScope, assertOwnNamespace } from '../api/security.js';
import type { ScheduleService } from './schedule-service.js';

const IdParams = z.object({ id: z.string().min(1).max(48) });

/** Named sets of clusters in one commune, to aim schedules at. */
export interface GroupRouteDeps {
  schedules: ScheduleService;
}

export const groupRoutes: FastifyPluginAsyncZod<{ deps: GroupRouteDeps }> = async (app, { deps }) => {
  const { groups } = deps.schedules;
  const tags = ['schedules'];
  const planners = ['operator'] as const;
  const visible = (request: FastifyRequest, id: string): Group => seen(request, id, groups.get(id));
  const seen = (request: FastifyRequest, id: string, group: Group): Group => {
    assertInScope(request, group.communeId, 'group', id);
    return group;
  };
  /** Before a write: a group made on another instance a moment ago is found too. */
  const present = async (request: FastifyRequest, id: string): Promise<Group> =>
    seen(request, id, await groups.present(id));

  app.get(
    '/groups',
    {
      config: { access: planners },
      schema: {
        tags,
        summary: 'List cluster groups',
        querystring: CommunePageQuerySchema,
        response: { 200: pagedSchema(GroupSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { scope, page } = communePage(request);
      return groups.list(scope, page);
    },
  );

  app.post(
    '/groups',
    {
      config: { access: planners, audit: 'group.create' },
      schema: {
        tags,
        summary: 'Create a cluster group',
        description:
          'Every member must be a cluster of the commune; the name is unique within it. An id chosen ' +
          'by a commune-limited account begins with its commune id and a dash.',
        body: GroupCreateSchema,
        response: { 201: GroupSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      assertInScope(request, request.body.communeId, 'commune', request.body.communeId);
      assertOwnNamespace(request, request.body.id, 'body.id');
      const group = await groups.create(request.body);
      request.auditNote = { target: { type: 'group', id: group.id }, after: summary(group) };
      return reply.status(201).send(group);
    },
  );

  app.get(
    '/groups/:id',
    {
      config: { access: planners },
      schema: {
        tags,
        summary: 'Get a cluster group',
        params: IdParams,
        response: { 200: GroupSchema, ...errorResponses },
      },
    },
    async (request) => visible(request, request.params.id),
  );

  app.patch(
    '/groups/:id',
    {
      config: { access: planners, audit: 'group.update' },
      schema: {
        tags,
        summary: 'Rename a group or replace its members',
        description: 'Schedules aimed at the group reach its new members from their next occurrence.',
        params: IdParams,
        body: GroupPatchSchema,
        response: { 200: GroupSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = await present(request, request.params.id);
      const group = await groups.update(request.params.id, request.body);
      request.auditNote = changes(before, group);
      return group;
    },
  );

  app.delete(
    '/groups/:id',
    {
      config: { access: planners, audit: 'group.delete' },
      schema: {
        tags,
        summary: 'Delete a cluster group',
        description: 'A group that schedules still aim at answers 409 naming them.',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const before = await present(request, request.params.id);
      await groups.delete(request.params.id);
      request.auditNote = { before: summary(before) };
      return reply.status(204).send(null);
    },
  );
};
