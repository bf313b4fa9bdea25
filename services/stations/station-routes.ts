import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  StationCreateSchema,
  StationIdSchema,
  StationPatchSchema,
  StationSchema,
} from '../../contracts/stations.js';
import { changes, summary } from '../api/audit-summary.js';
import { errorResponses } from '../api/pagination.js';
import { InvalidRequestError } from '../errors.js';
import type { MediaLibrary } from '../media/media-library.js';
import type { StationStore } from './station-store.js';
import { openStation, type StationAddressPolicy } from './station-watch.js';

export interface StationRouteDeps {
  stations: StationStore;
  media: MediaLibrary;
  policy: StationAddressPolicy;
  timeoutMs: number;
}

const IdParams = z.object({ id: StationIdSchema });

/** `/stations`: admins keep the list; operators read it, relay from it and check a station now. */
export const stationRoutes: FastifyPluginAsyncZod<{ deps: StationRouteDeps }> = async (app, { deps }) => {
  const { stations } = deps;
  const tags = ['broadcasts'];
  const readers = ['operator', 'technician'] as const;
  /** A fallback media item must exist; a station URL must be one the platform may fetch. */
  const check = (body: {
    url?: string | undefined;
    fallback?: { kind: string; mediaId?: string } | undefined;
  }) => {
    if (body.fallback?.kind === 'media' && body.fallback.mediaId) deps.media.get(body.fallback.mediaId);
    const refusal = body.url ? deps.policy.refusal(body.url) : null;
    if (refusal) throw new InvalidRequestError(`body.url: ${refusal}`, { field: 'body.url' });
  };

  app.get(
    '/stations',
    {
      config: { access: readers },
      schema: { tags, summary: 'List the stations', response: { 200: z.array(StationSchema) } },
    },
    async () => stations.list(),
  );
  app.post(
    '/stations',
    {
      config: { access: ['admin'], audit: 'station.create' },
      schema: {
        tags,
        summary: 'Add a station (a stream URL to relay, with its fallback)',
        body: StationCreateSchema,
        response: { 201: StationSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      check(request.body);
      const station = await stations.create(request.body);
      request.auditNote = { target: { type: 'station', id: station.id }, after: summary(station) };
      return reply.status(201).send(station);
    },
  );
  app.get(
    '/stations/:id',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Get a station',
        params: IdParams,
        response: { 200: StationSchema, ...errorResponses },
      },
    },
    async (request) => stations.get(request.params.id),
  );
  app.patch(
    '/stations/:id',
    {
      config: { access: ['admin'], audit: 'station.update' },
      schema: {
        tags,
        summary: 'Change a station',
        params: IdParams,
        body: StationPatchSchema,
        response: { 200: StationSchema, ...errorResponses },
      },
    },
    async (request) => {
      check(request.body);
      const before = stations.get(request.params.id);
      const after = await stations.update(request.params.id, request.body);
      request.auditNote = { target: { type: 'station', id: after.id }, ...changes(before, after) };
      return after;
    },
  );
  app.delete(
    '/stations/:id',
    {
      config: { access: ['admin'], audit: 'station.delete' },
      schema: {
        tags,
        summary: 'Remove a station',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const station = await stations.delete(request.params.id);
      request.auditNote = { target: { type: 'station', id: station.id }, before: summary(station) };
      return reply.status(204).send(null);
    },
  );
  app.post(
    '/stations/:id/check',
    {
      config: { access: ['operator', 'technician'], audit: 'station.check' },
      schema: {
        tags,
        summary: 'Check a station now: reachable, audio, and answering',
        params: IdParams,
        response: { 200: StationSchema, ...errorResponses },
      },
    },
    async (request) => {
      const station = stations.get(request.params.id);
      const abort = new AbortController();
      const opened = await openStation(station.url, deps.policy, deps.timeoutMs, abort.signal);
      if ('state' in opened) await stations.setHealth(station.id, opened.state, opened.detail);
      else {
        opened.response.destroy();
        await stations.setHealth(station.id, 'ok', opened.type);
      }
      request.auditNote = { target: { type: 'station', id: station.id } };
      return stations.get(station.id);
    },
  );
};
