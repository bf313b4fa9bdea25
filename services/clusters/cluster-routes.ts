import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pagedSchema } from '../../contracts/pages.js';
import {
  type Cluster,
  ClusterCreateSchema,
  ClusterDetailSchema,
  ClusterPatchSchema,
  ClusterSchema,
  IssuedSecretSchema,
  SlugSchema,
} from '../../contracts/registry.js';
import { DeviceIdSchema } from '../../devices/index.js';
import { changes, summary } from '../api/audit-summary.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, communeScope, inScope } from '../api/security.js';
import { NotFoundError } from '../errors.js';
import type { DeviceIngress } from '../ingress/device-ingress.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { ClusterRecord } from '../registry/cluster-record.js';
import type { RegistryStore } from '../registry/registry-store.js';

const IdParams = z.object({ id: DeviceIdSchema });

/** A registry record joined with what presence knows about the device right now. */
export function toCluster(record: ClusterRecord, presence: PresenceService): Cluster {
  return {
    id: record.id,
    villageId: record.villageId,
    communeId: record.communeId,
    name: record.name,
    address: record.address,
    location: record.location,
    heartbeatTimeoutS: record.heartbeatTimeoutS,
    speakers: record.speakers.map((s) => ({ ...s, ...presence.speakerHealth(record.id, s.idx) })),
    credential: { issued: record.credentialIssuedAt !== null, issuedAt: record.credentialIssuedAt },
    status: presence.status(record.id),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export interface ClusterRouteDeps {
  registry: RegistryStore;
  presence: PresenceService;
  ingress: DeviceIngress;
}

export const clusterRoutes: FastifyPluginAsyncZod<{ deps: ClusterRouteDeps }> = async (app, { deps }) => {
  const { registry, presence, ingress } = deps;
  const tags = ['clusters'];
  const detail = (record: ClusterRecord) => ({
    ...toCluster(record, presence),
    rejectedMessages: ingress.rejections(record.id),
    lastRejection: lastRejection(record.id),
  });
  const lastRejection = (id: string) => {
    const last = ingress.lastRejection(id);
    return last ? { reason: last.reason, detail: last.detail, at: new Date(last.at).toISOString() } : null;
  };
  const visible = (request: Parameters<typeof inScope>[0], id: string) => {
    const record = registry.getCluster(id);
    assertInScope(request, record.communeId, 'cluster', id);
    return record;
  };
  const readers = ['operator', 'viewer', 'technician'] as const;
  const installers = ['technician'] as const;

  app.get(
    '/clusters',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'List speaker clusters with their live status',
        description:
          'Each cluster with its online state, last seen, signal, volume and per-speaker health. ' +
          'Filter by commune, village or online state.',
        querystring: PageQuerySchema.extend({
          communeId: SlugSchema.optional(),
          villageId: SlugSchema.optional(),
          online: z.enum(['true', 'false']).optional(),
        }),
        response: { 200: pagedSchema(ClusterSchema) },
      },
    },
    async (request) => {
      const { villageId, online, ...page } = request.query;
      const communes = communeScope(request, request.query.communeId);
      if (online === undefined) {
        const result = registry.listClusters({ ...communes, villageId }, page);
        return { ...result, items: result.items.map((r) => toCluster(r, presence)) };
      }
      // Online state lives in memory, not in SQL: filter the commune's clusters, then page.
      const wanted = online === 'true';
      const all = registry.listClusters({ ...communes, villageId }, { limit: 1_000_000, offset: 0 }).items;
      const matching = all.filter((r) => presence.isOnline(r.id) === wanted);
      return {
        items: matching.slice(page.offset, page.offset + page.limit).map((r) => toCluster(r, presence)),
        total: matching.length,
        ...page,
      };
    },
  );

  app.post(
    '/clusters',
    {
      config: { access: installers, audit: 'cluster.create' },
      schema: {
        tags,
        summary: 'Register a speaker cluster',
        body: ClusterCreateSchema,
        response: { 201: ClusterDetailSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const village = registry.getVillage(request.body.villageId);
      assertInScope(request, village.communeId, 'village', village.id);
      const record = await registry.createCluster(request.body);
      request.auditNote = { target: { type: 'cluster', id: record.id }, after: summary(record) };
      return reply.status(201).send(detail(record));
    },
  );

  app.get(
    '/clusters/:id',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Get a cluster with its live status',
        params: IdParams,
        response: { 200: ClusterDetailSchema, ...errorResponses },
      },
    },
    async (request) => detail(visible(request, request.params.id)),
  );

  app.patch(
    '/clusters/:id',
    {
      config: { access: installers, audit: 'cluster.update' },
      schema: {
        tags,
        summary: 'Update a cluster (name, address, location, village, speakers, heartbeat timeout)',
        params: IdParams,
        body: ClusterPatchSchema,
        response: { 200: ClusterDetailSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = visible(request, request.params.id);
      if (
        request.body.villageId &&
        !inScope(request, registry.getVillage(request.body.villageId).communeId)
      ) {
        throw new NotFoundError('village', request.body.villageId);
      }
      const record = await registry.updateCluster(request.params.id, request.body);
      request.auditNote = changes(before, record);
      return detail(record);
    },
  );

  app.delete(
    '/clusters/:id',
    {
      config: { access: installers, audit: 'cluster.delete' },
      schema: {
        tags,
        summary: 'Remove a cluster; its credential stops working at once',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const before = visible(request, request.params.id);
      await registry.deleteCluster(request.params.id);
      request.auditNote = { before: summary(before) };
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/clusters/:id/credentials',
    {
      config: { access: installers, audit: 'cluster.credentials.issue' },
      schema: {
        tags,
        summary: 'Issue or rotate the device secret',
        description:
          'Returns a new secret for the cluster. It is shown only in this response and stored only as a ' +
          'hash; any earlier secret stops working for new connections at once.',
        params: IdParams,
        response: { 201: IssuedSecretSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      visible(request, request.params.id);
      const issued = await registry.issueSecret(request.params.id);
      request.auditNote = {
        after: { issuedAt: new Date(issued.issuedAt).toISOString(), rotated: issued.rotated },
      };
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({
        deviceId: request.params.id,
        secret: issued.secret,
        issuedAt: new Date(issued.issuedAt).toISOString(),
        rotated: issued.rotated,
      });
    },
  );
};
