import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CameraEventSchema } from '../../contracts/cameras.js';
import { pagedSchema } from '../../contracts/pages.js';
import { SlugSchema } from '../../contracts/registry.js';
import { type Clock, DeviceIdSchema } from '../../devices/index.js';
import { CAMERA_EVENT_KINDS } from '../../devices/onvif-camera/event-topics.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { communeScope } from '../api/security.js';
import { cameraEventView } from './camera-event-store.js';
import type { CameraEventService } from './camera-events.js';

export interface CameraEventRouteDeps {
  cameraEvents: CameraEventService;
  clock: Clock;
}

/** `GET /camera-events`: the motion, tamper and video-loss periods of the caller's cameras. */
export const cameraEventRoutes: FastifyPluginAsyncZod<{ deps: CameraEventRouteDeps }> = async (
  app,
  { deps },
) => {
  app.get(
    '/camera-events',
    {
      config: { access: ['police', 'technician'] },
      schema: {
        tags: ['cameras'],
        summary: 'Motion, tamper and video loss the cameras reported, newest first',
        description:
          'Periods read from the cameras’ ONVIF events (PullPoint), each with its start and end (null while ' +
          'it goes on), for the cameras of the caller’s communes. Each camera keeps its newest 500. Live ' +
          'changes reach the console as the Socket.IO event `cameras.event`.',
        querystring: PageQuerySchema.extend({
          communeId: SlugSchema.optional(),
          cameraId: DeviceIdSchema.optional(),
          kind: z.enum(CAMERA_EVENT_KINDS).optional(),
          ongoing: z.enum(['true', 'false']).default('false').describe('true: only events still going on'),
        }),
        response: { 200: pagedSchema(CameraEventSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { cameraId, kind, ongoing, limit, offset } = request.query;
      const page = await deps.cameraEvents.list(
        { ...communeScope(request, request.query.communeId), cameraId, kind, open: ongoing === 'true' },
        { limit, offset },
      );
      const now = deps.clock.now();
      return { ...page, items: page.items.map((event) => cameraEventView(event, now)) };
    },
  );
};
