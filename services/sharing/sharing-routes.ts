import type { FastifyRequest, RouteOptions } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type BulletinCreate, BulletinCreateSchema, type BulletinView } from '../../contracts/bulletins.js';
import { ErrorSchema } from '../../contracts/pages.js';
import type { Commune } from '../../contracts/registry.js';
import {
  type OutcomeCounts,
  SHARE_API_VERSION,
  ShareBulletinDetailSchema,
  ShareBulletinQuerySchema,
  ShareBulletinSchema,
  ShareClusterQuerySchema,
  ShareClusterSchema,
  SharePageQuerySchema,
  SharePushResultSchema,
  ShareStationSchema,
  sharePageSchema,
} from '../../contracts/sharing.js';
import type { Clock } from '../../devices/index.js';
import type { Principal } from '../accounts/roles.js';
import { errorResponses } from '../api/pagination.js';
import type { BroadcastRecord, BroadcastStore, DeliveryRecord } from '../broadcasts/broadcast-store.js';
import { AuthenticationError, ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import { count, emptyCounts, outcomeOf, wasHeard } from './share-outcomes.js';

/** Where the share API is served; a new major version gets a new path beside it. */
export const SHARE_PREFIX = '/api/share/v1';
/** Where the platform mounts feature routes (ctx.routes): the share routes are moved from under it. */
const API_PREFIX = '/api/v1';
const LOCAL_PREFIX = '/share/v1';

/** The provincial bulletin service's one call the share API makes (services/bulletins). */
export interface BulletinSender {
  send(input: BulletinCreate, actor: Principal): Promise<BulletinView> | BulletinView;
}

export interface SharingRouteDeps {
  registry: RegistryStore;
  presence: PresenceService;
  broadcasts: BroadcastStore;
  bulletins: BulletinSender;
  clock: Clock;
}

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 93;
const ALL = { limit: 1_000_000, offset: 0 };

/** The communes a caller's token covers: its own, its list, its province's, or every one. */
function scopeOf(request: FastifyRequest): readonly string[] | null {
  return request.principal?.communes ?? null;
}

/**
 * The data-sharing API for the provincial or central system (Circular 39; LGSP/NGSP): stations,
 * clusters and bulletins as they aired, read with API tokens confined to the token owner's
 * communes, and the push of a provincial bulletin down to the communes.
 */
export const sharingRoutes: FastifyPluginAsyncZod<{ deps: SharingRouteDeps }> = async (app, { deps }) => {
  const { registry, presence, broadcasts, clock } = deps;
  const tags = ['sharing'];
  const readers = ['operator', 'approver', 'viewer'] as const;

  // Feature routes are mounted under /api/v1; this API has its own versioned root, so its routes
  // are moved there as they are added (before the router and the OpenAPI document record them).
  app.addHook('onRoute', (route: RouteOptions) => {
    const mounted = `${API_PREFIX}${LOCAL_PREFIX}`;
    if (!route.url.startsWith(mounted)) return;
    const moved = `${SHARE_PREFIX}${route.url.slice(mounted.length)}`;
    route.url = moved;
  });

  // Machine clients only: a console session is not a credential here (it would let a page open in
  // an operator's browser read the commune's data for another site), and answers 401 saying so.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('api-version', SHARE_API_VERSION);
    if (request.principal?.via === 'session')
      throw new AuthenticationError(
        'the sharing API takes an API token, not a console session: send Authorization: Bearer sct_… ' +
          '(create one with POST /api/v1/auth/tokens)',
      );
  });

  const communesInScope = (request: FastifyRequest): Commune[] => {
    const scope = scopeOf(request);
    const all = registry.listCommunes(ALL).items;
    return scope ? all.filter((c) => scope.includes(c.id)) : all;
  };
  const communeIndex = () => new Map(registry.listCommunes(ALL).items.map((c) => [c.id, c]));

  app.get(
    `${LOCAL_PREFIX}/stations`,
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'The commune radio stations (đài truyền thanh cơ sở) in your scope',
        description:
          'One per commune, ordered by commune code: code, name, province, clusters and how many are online now.',
        querystring: SharePageQuerySchema,
        response: { 200: sharePageSchema(ShareStationSchema), 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const provinces = new Map(registry.listProvinces().map((p) => [p.id, p]));
      const clusters = new Map<string, { total: number; online: number }>();
      for (const p of registry.clusterPlacements()) {
        const counted = clusters.get(p.communeId) ?? { total: 0, online: 0 };
        counted.total++;
        if (presence.isOnline(p.id)) counted.online++;
        clusters.set(p.communeId, counted);
      }
      const communes = communesInScope(request).sort(
        (a, b) => (a.code ?? '~').localeCompare(b.code ?? '~') || a.id.localeCompare(b.id),
      );
      return {
        apiVersion: SHARE_API_VERSION,
        items: communes.slice(offset, offset + limit).map((c) => {
          const province = c.provinceId ? provinces.get(c.provinceId) : undefined;
          return {
            id: c.id,
            communeCode: c.code,
            name: c.name,
            provinceCode: province?.code ?? null,
            provinceName: province?.name ?? c.province,
            clusterCount: clusters.get(c.id)?.total ?? 0,
            clustersOnline: clusters.get(c.id)?.online ?? 0,
          };
        }),
        total: communes.length,
        limit,
        offset,
      };
    },
  );

  app.get(
    `${LOCAL_PREFIX}/clusters`,
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Speaker clusters in your scope: place, location, online status, speakers',
        querystring: ShareClusterQuerySchema,
        response: {
          200: sharePageSchema(ShareClusterSchema),
          ...errorResponses,
          401: ErrorSchema,
          403: ErrorSchema,
        },
      },
    },
    async (request) => {
      const { communeCode, limit, offset } = request.query;
      const communes = new Map(communesInScope(request).map((c) => [c.id, c]));
      let communeId: string | undefined;
      if (communeCode !== undefined) {
        communeId = [...communes.values()].find((c) => c.code === communeCode)?.id;
        if (!communeId) throw new NotFoundError('commune', communeCode);
      }
      const page = registry.listClusters(
        { communeId, communeIds: scopeOf(request) ?? undefined },
        { limit, offset },
      );
      const villages = new Map<string, string | null>();
      const villageName = (id: string) => {
        if (!villages.has(id)) villages.set(id, registry.getVillage(id).name);
        return villages.get(id) ?? null;
      };
      return {
        apiVersion: SHARE_API_VERSION,
        items: page.items.map((c) => {
          const status = presence.status(c.id);
          return {
            id: c.id,
            name: c.name,
            communeId: c.communeId,
            communeCode: communes.get(c.communeId)?.code ?? null,
            villageId: c.villageId,
            villageName: villageName(c.villageId),
            address: c.address,
            location: c.location,
            online: status.online,
            onlineSince: status.since,
            lastSeen: status.lastSeen,
            speakerCount: c.speakers.length,
            speakersOk: status.speakersOk,
            speakersFaulty: status.speakersFaulty,
          };
        }),
        total: page.total,
        limit,
        offset,
      };
    },
  );

  /** What a broadcast came to, per commune in scope and in total, from its deliveries there. */
  const bulletinView = (
    b: BroadcastRecord,
    deliveries: DeliveryRecord[],
    placements: Map<string, string>,
    communes: Map<string, Commune>,
  ) => {
    const totals = emptyCounts();
    const perCommune = new Map<string, OutcomeCounts>();
    for (const d of deliveries) {
      count(totals, d);
      const communeId = placements.get(d.clusterId);
      if (!communeId) continue;
      const counts = perCommune.get(communeId) ?? emptyCounts();
      count(counts, d);
      perCommune.set(communeId, counts);
    }
    return {
      id: b.id,
      name: b.name,
      level: b.level,
      origin: b.bulletinId ? ('province' as const) : ('commune' as const),
      provincialBulletinId: b.bulletinId,
      kind: b.kind,
      contentKind: b.content.kind,
      start: isoTime(b.startAt),
      end: isoTime(b.endAt),
      status: b.status,
      totals,
      communes: [...perCommune].map(([communeId, counts]) => ({
        communeId,
        communeCode: communes.get(communeId)?.code ?? null,
        communeName: communes.get(communeId)?.name ?? null,
        ...counts,
      })),
    };
  };
  const placementsOf = () => new Map(registry.clusterPlacements().map((p) => [p.id, p.communeId]));
  /** A broadcast's deliveries to clusters of the caller's communes (all of them for an unlimited caller). */
  const visibleDeliveries = (request: FastifyRequest, id: string, placements: Map<string, string>) => {
    const scope = scopeOf(request);
    const deliveries = broadcasts.deliveries(id);
    return scope ? deliveries.filter((d) => scope.includes(placements.get(d.clusterId) ?? '')) : deliveries;
  };

  app.get(
    `${LOCAL_PREFIX}/bulletins`,
    {
      config: { access: readers },
      schema: {
        tags,
        summary:
          'Bulletins as they aired (bản tin): level, origin, time, content kind, what the clusters did',
        description:
          'Broadcasts overlapping [from, to), oldest first, each with counts of clusters done, failed, missed, ' +
          'cancelled, pending and heard, per commune in your scope and in total.',
        querystring: ShareBulletinQuerySchema,
        response: {
          200: sharePageSchema(ShareBulletinSchema),
          ...errorResponses,
          401: ErrorSchema,
          403: ErrorSchema,
        },
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const to = request.query.to ? Date.parse(request.query.to) : clock.now();
      const from = request.query.from ? Date.parse(request.query.from) : to - DAY_MS;
      if (to <= from) throw new InvalidRequestError('querystring.to: must be after from');
      if (to - from > MAX_RANGE_DAYS * DAY_MS)
        throw new InvalidRequestError(`querystring.to: at most ${MAX_RANGE_DAYS} days after from`);
      const placements = placementsOf();
      const communes = communeIndex();
      const view = (b: BroadcastRecord, deliveries: DeliveryRecord[]) =>
        bulletinView(b, deliveries, placements, communes);
      // A limited caller sees the broadcasts that reached its communes, with their deliveries there.
      const scope = scopeOf(request);
      const page = broadcasts.list({ from, to }, { limit, offset }, { communeIds: scope ?? undefined });
      return {
        apiVersion: SHARE_API_VERSION,
        items: page.items.map((b) => view(b, visibleDeliveries(request, b.id, placements))),
        total: page.total,
        limit,
        offset,
      };
    },
  );

  app.get(
    `${LOCAL_PREFIX}/bulletins/:id`,
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'One bulletin as it aired, with the outcome on each cluster in your scope',
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: ShareBulletinDetailSchema, ...errorResponses, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const b = broadcasts.get(id);
      if (!b) throw new NotFoundError('bulletin', id);
      const placements = placementsOf();
      const deliveries = visibleDeliveries(request, id, placements);
      if (deliveries.length === 0 && scopeOf(request)) throw new NotFoundError('bulletin', id);
      const communes = communeIndex();
      const clusters = registry.clusterLabels(deliveries.map((d) => d.clusterId));
      return {
        apiVersion: SHARE_API_VERSION,
        ...bulletinView(b, deliveries, placements, communes),
        clusters: deliveries.map((d) => {
          const communeId = placements.get(d.clusterId) ?? null;
          return {
            clusterId: d.clusterId,
            clusterName: clusters.get(d.clusterId)?.name ?? null,
            communeId,
            communeCode: communeId ? (communes.get(communeId)?.code ?? null) : null,
            villageId: clusters.get(d.clusterId)?.villageId ?? null,
            outcome: outcomeOf(d.state),
            state: d.state,
            reason: d.reason,
            heard: wasHeard(d),
            startedAt: isoTimeOrNull(d.startedAt),
            finishedAt: isoTimeOrNull(d.finishedAt),
            playedS:
              d.startedAt !== null && d.finishedAt !== null ? (d.finishedAt - d.startedAt) / 1000 : null,
          };
        }),
      };
    },
  );

  app.post(
    `${LOCAL_PREFIX}/bulletins`,
    {
      config: { access: ['operator'], audit: 'share.bulletin.push' },
      schema: {
        tags,
        summary: "Send a provincial bulletin down to the province's communes (a province account's token)",
        description:
          'The body of POST /api/v1/provincial-bulletins. Normal bulletins wait in each commune’s inbox, ' +
          'priority ones are scheduled at `start`, emergencies air at once. Its broadcasts appear in ' +
          'GET /bulletins with this provincialBulletinId.',
        body: BulletinCreateSchema,
        response: { 201: SharePushResultSchema, ...errorResponses, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (!principal) throw new AuthenticationError();
      if (!principal.provinceId && !(principal.roles.includes('admin') && principal.communes === null))
        throw new ForbiddenError('bulletins are sent down with a token of a province account (or an admin)');
      const bulletin = await deps.bulletins.send(request.body, principal);
      request.auditNote = {
        target: { type: 'bulletin', id: bulletin.id },
        after: {
          name: bulletin.name,
          level: bulletin.level,
          provinceId: bulletin.provinceId,
          communes: bulletin.receipts.length,
        },
      };
      const communes = communeIndex();
      return reply.status(201).send({
        apiVersion: SHARE_API_VERSION,
        provincialBulletinId: bulletin.id,
        provinceId: bulletin.provinceId,
        name: bulletin.name,
        level: bulletin.level,
        start: bulletin.start,
        expiresAt: bulletin.expiresAt,
        communes: bulletin.receipts.map((r) => ({
          communeId: r.communeId,
          communeCode: communes.get(r.communeId)?.code ?? null,
          communeName: r.communeName,
          state: r.state,
        })),
      });
    },
  );
};
