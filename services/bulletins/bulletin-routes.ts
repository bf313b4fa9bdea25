import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  BulletinCreateSchema,
  BulletinSchema,
  BulletinSummarySchema,
  InboxDeclineSchema,
  InboxItemSchema,
  InboxOrderSchema,
  InboxScheduleSchema,
  ProvinceOverviewSchema,
  RECEIPT_STATES,
  ReceiptSchema,
} from '../../contracts/bulletins.js';
import { SlugSchema } from '../../contracts/registry.js';
import type { Principal } from '../accounts/roles.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope } from '../api/security.js';
import { NotFoundError } from '../errors.js';
import { contentMediaIds } from '../media/content-audio.js';
import type { MediaLibrary } from '../media/media-library.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { SpeechCache } from '../tts/speech-cache.js';
import type { BulletinService } from './bulletin-service.js';

export interface BulletinRouteDeps {
  bulletins: BulletinService;
  registry: RegistryStore;
  media: MediaLibrary;
  speech: SpeechCache;
  isOnline(clusterId: string): boolean;
}

const BulletinParams = z.object({ id: z.string().regex(/^tb-[0-9a-f]{12}$/) });
const ReceiptParams = z.object({ id: z.string().regex(/^tb-[0-9a-f]{12}$/), communeId: SlugSchema });

/**
 * `/provincial-bulletins` for the province (send, follow the receipts), `/inbox` for the communes
 * (schedule, decline, order what came from above).
 */
export const bulletinRoutes: FastifyPluginAsyncZod<{ deps: BulletinRouteDeps }> = async (app, { deps }) => {
  const { bulletins, registry } = deps;
  const tags = ['bulletins'];
  const readers = ['operator', 'approver', 'viewer'] as const;
  const actorOf = (principal: Principal | null) => {
    if (!principal) throw new NotFoundError('account', 'anonymous');
    return { userId: principal.userId, username: principal.username };
  };
  /** The provinces whose bulletins a caller sees: its own, or those of its communes. */
  const provincesOf = (principal: Principal | null): string[] | undefined => {
    if (principal?.provinceId) return [principal.provinceId];
    if (!principal?.communes) return undefined;
    const ids = new Set<string>();
    for (const c of principal.communes) {
      const provinceId = registry.getCommune(c).provinceId;
      if (provinceId) ids.add(provinceId);
    }
    return [...ids];
  };

  app.post(
    '/provincial-bulletins',
    {
      config: { access: ['operator'], audit: 'bulletin.send' },
      schema: {
        tags,
        summary: "Send a bulletin to the province's communes (Circular 39: normal, priority, emergency)",
        description:
          "Normal: it waits in each commune's inbox until the commune schedules or declines it (or it expires). " +
          "Priority: scheduled at `start` above the communes' normal items; a clash with a commune priority item " +
          'is put to the commune to order. Emergency: airs now on every cluster. Sent by a province account.',
        body: BulletinCreateSchema,
        response: { 201: BulletinSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = request.principal as Principal;
      // Text is read aloud once, into the shared library its communes all play from.
      const content = await deps.speech.prepare(request.body.content, {
        username: principal.username,
        communeId: null,
      });
      for (const id of contentMediaIds(content)) deps.media.getVisible(id, principal.communes);
      const view = await bulletins.send(request.body, content, principal);
      request.auditNote = {
        target: { type: 'bulletin', id: view.id },
        after: { name: view.name, level: view.level, communes: view.receipts.length },
      };
      return reply.status(201).send(view);
    },
  );

  app.get(
    '/provincial-bulletins',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Bulletins from the province, newest first, with the totals of their receipts',
        description: "Each commune's receipt is in GET /provincial-bulletins/{id}.",
        querystring: PageQuerySchema,
        response: {
          200: z.object({
            items: z.array(BulletinSummarySchema),
            total: z.int(),
            limit: z.int(),
            offset: z.int(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = request.principal;
      const found = bulletins.list(
        {
          provinceIds: provincesOf(principal),
          communes: principal?.provinceId ? null : (principal?.communes ?? null),
        },
        request.query,
      );
      return { ...found, ...request.query };
    },
  );

  app.get(
    '/provincial-bulletins/:id',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'One bulletin: each commune’s decision and what its clusters did',
        params: BulletinParams,
        response: { 200: BulletinSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = request.principal;
      const view = bulletins.get(
        request.params.id,
        principal?.provinceId ? null : (principal?.communes ?? null),
      );
      const provinces = provincesOf(principal);
      if (provinces && !provinces.includes(view.provinceId))
        throw new NotFoundError('bulletin', request.params.id);
      return view;
    },
  );

  app.get(
    '/provinces/:id/overview',
    {
      config: { access: readers },
      schema: {
        tags,
        summary:
          "A province at a glance: each commune's clusters online, what waits for it, recent bulletins",
        params: z.object({ id: SlugSchema }),
        response: { 200: ProvinceOverviewSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = request.principal;
      const { id } = request.params;
      // A province's staff, or an account of every commune; a commune account has no province view.
      if (principal?.communes && principal.provinceId !== id) throw new NotFoundError('province', id);
      return await bulletins.overview(id, deps.isOnline);
    },
  );

  app.get(
    '/inbox',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: "What came from the province to the caller's communes, with each commune's receipt",
        querystring: PageQuerySchema.extend({
          state: z
            .string()
            .optional()
            .transform((s) => (s ? s.split(',') : null))
            .pipe(z.array(z.enum(RECEIPT_STATES)).nullable())
            .describe('comma-separated receipt states, e.g. pending,needs-order: what waits for a decision'),
        }),
        response: {
          200: z.object({ items: z.array(InboxItemSchema), total: z.int(), limit: z.int(), offset: z.int() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { state, ...page } = request.query;
      return { ...(await bulletins.inbox(request.principal?.communes ?? null, state, page)), ...page };
    },
  );

  app.post(
    '/inbox/:id/:communeId/schedule',
    {
      config: { access: ['operator'], audit: 'bulletin.schedule' },
      schema: {
        tags,
        summary: 'Air a normal bulletin from the province in the commune, at the time it chooses',
        params: ReceiptParams,
        body: InboxScheduleSchema,
        response: { 200: ReceiptSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id, communeId } = request.params;
      assertInScope(request, communeId, 'bulletin', id);
      const receipt = await bulletins.schedule(id, communeId, request.body, actorOf(request.principal));
      request.auditNote = { target: { type: 'bulletin', id }, after: { communeId, state: receipt.state } };
      return receipt;
    },
  );

  app.post(
    '/inbox/:id/:communeId/decline',
    {
      config: { access: ['operator'], audit: 'bulletin.decline' },
      schema: {
        tags,
        summary: 'Decline a normal bulletin from the province, saying why',
        params: ReceiptParams,
        body: InboxDeclineSchema,
        response: { 200: ReceiptSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id, communeId } = request.params;
      assertInScope(request, communeId, 'bulletin', id);
      const receipt = await bulletins.decline(id, communeId, request.body.reason, actorOf(request.principal));
      request.auditNote = {
        target: { type: 'bulletin', id },
        after: { communeId, state: receipt.state, reason: request.body.reason },
      };
      return receipt;
    },
  );

  app.post(
    '/inbox/:id/:communeId/order',
    {
      config: { access: ['operator'], audit: 'bulletin.order' },
      schema: {
        tags,
        summary: 'Order a priority bulletin and the commune priority items it clashes with',
        params: ReceiptParams,
        body: InboxOrderSchema,
        response: { 200: ReceiptSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id, communeId } = request.params;
      assertInScope(request, communeId, 'bulletin', id);
      const receipt = await bulletins.order(id, communeId, request.body.first, actorOf(request.principal));
      request.auditNote = {
        target: { type: 'bulletin', id },
        after: { communeId, state: receipt.state, first: request.body.first },
      };
      return receipt;
    },
  );
};
