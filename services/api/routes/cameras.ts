import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DeviceIdSchema } from '../../../devices/index.js';
import { type Camera, CameraCreateSchema, CameraPatchSchema, CameraSchema } from '../../cameras/schemas.js';
import { NotFoundError } from '../../errors.js';
import { SlugSchema } from '../../registry/schemas.js';
import { changes, summary } from '../audit-summary.js';
import type { ApiDeps } from '../deps.js';
import { errorResponses, PageQuerySchema, pagedSchema } from '../pagination.js';
import { communeScope, inScope } from '../security.js';

const IdParams = z.object({ id: DeviceIdSchema });

/** Camera onboarding (technicians) and the camera list police read. Passwords never leave the store. */
export const cameraRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { cameras, registry } = deps;
  const tags = ['cameras'];
  const readers = ['police', 'technician'] as const;
  const installers = ['technician'] as const;
  const visible = (request: Parameters<typeof inScope>[0], id: string): Camera => {
    const camera = cameras.get(id);
    if (!inScope(request, camera.communeId)) throw new NotFoundError('camera', id);
    return camera;
  };
  const checkVillage = (
    request: Parameters<typeof inScope>[0],
    communeId: string,
    villageId?: string | null,
  ) => {
    if (!villageId) return;
    const village = registry.getVillage(villageId);
    if (village.communeId !== communeId || !inScope(request, village.communeId))
      throw new NotFoundError('village', villageId);
  };

  app.get(
    '/cameras',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'List onboarded cameras',
        querystring: PageQuerySchema.extend({
          communeId: SlugSchema.optional(),
          villageId: SlugSchema.optional(),
        }),
        response: { 200: pagedSchema(CameraSchema) },
      },
    },
    async (request) => {
      const { villageId, limit, offset } = request.query;
      return cameras.list(
        { communeId: communeScope(request, request.query.communeId), villageId },
        { limit, offset },
      );
    },
  );

  app.post(
    '/cameras',
    {
      config: { access: installers, audit: 'camera.create' },
      schema: {
        tags,
        summary: 'Onboard a camera by its ONVIF address and credentials',
        description: 'The password is stored sealed (AES-256-GCM, key in DATA_DIR) and is never returned.',
        body: CameraCreateSchema,
        response: { 201: CameraSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const commune = registry.getCommune(
        communeScope(request, request.body.communeId) ?? request.body.communeId,
      );
      checkVillage(request, commune.id, request.body.villageId);
      const camera = cameras.create(request.body);
      request.auditNote = { target: { type: 'camera', id: camera.id }, after: summary(camera) };
      return reply.status(201).send(camera);
    },
  );

  app.get(
    '/cameras/:id',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Get a camera',
        params: IdParams,
        response: { 200: CameraSchema, ...errorResponses },
      },
    },
    async (request) => visible(request, request.params.id),
  );

  app.patch(
    '/cameras/:id',
    {
      config: { access: installers, audit: 'camera.update' },
      schema: {
        tags,
        summary: 'Update a camera (name, place, address, credentials)',
        params: IdParams,
        body: CameraPatchSchema,
        response: { 200: CameraSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = visible(request, request.params.id);
      checkVillage(request, before.communeId, request.body.villageId);
      const after = cameras.update(request.params.id, request.body);
      request.auditNote = {
        ...changes(before, after),
        ...(request.body.password !== undefined ? { detail: { passwordChanged: true } } : {}),
      };
      return after;
    },
  );

  app.delete(
    '/cameras/:id',
    {
      config: { access: installers, audit: 'camera.delete' },
      schema: {
        tags,
        summary: 'Remove a camera',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const before = visible(request, request.params.id);
      cameras.delete(request.params.id);
      request.auditNote = { before: summary(before) };
      return reply.status(204).send(null);
    },
  );
};
