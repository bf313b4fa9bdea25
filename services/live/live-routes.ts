import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../devices/index.js';
import { errorResponses } from '../api/pagination.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { LiveService } from './live-service.js';

export interface LiveRouteDeps {
  live: LiveService;
  clock: Clock;
}

/**
 * The stream clusters play during a live talk: MP3 as it is spoken, from the last second on, until
 * the talk ends. Devices are not accounts: the play command's signed link admits them.
 */
export const liveRoutes: FastifyPluginAsyncZod<{ deps: LiveRouteDeps }> = async (app, { deps }) => {
  app.get(
    '/live/:sessionId/stream.mp3',
    {
      config: { access: 'public' },
      schema: {
        // For devices, by the link in their play command (docs/protocol.md), not for API clients.
        hide: true,
        tags: ['broadcasts'],
        summary: 'A live talk as an MP3 stream, for the clusters it is sent to (signed link)',
        params: z.object({ sessionId: z.string().regex(/^lt-[0-9a-f]{12}$/) }),
        querystring: z.object({
          exp: z.coerce.number().int().describe('expiry of the signed link, epoch ms'),
          sig: z.string().max(128).describe('signature of the signed link'),
        }),
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const { sessionId } = request.params;
      const { exp, sig } = request.query;
      if (!deps.live.verify(sessionId, exp, sig, deps.clock.now()))
        throw new ForbiddenError('this stream link is not valid (or has expired)');
      const session = deps.live.session(sessionId);
      if (!session) throw new NotFoundError('live talk', sessionId);
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'audio/mpeg',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      if (request.method === 'HEAD') {
        reply.raw.end();
        return;
      }
      session.addListener(reply.raw);
    },
  );
};
