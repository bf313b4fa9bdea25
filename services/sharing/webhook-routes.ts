import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorSchema, pagedSchema } from '../../contracts/pages.js';
import {
  WebhookCreateSchema,
  WebhookDeliverySchema,
  WebhookRotateSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from '../../contracts/sharing.js';
import type { Clock } from '../../devices/index.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { WebhookAddressPolicy } from './webhook-address-policy.js';
import type { WebhookDispatcher } from './webhook-dispatcher.js';
import { newWebhookSecret } from './webhook-signature.js';
import type { WebhookStore } from './webhook-store.js';

export interface WebhookRouteDeps {
  store: WebhookStore;
  dispatcher: WebhookDispatcher;
  policy: WebhookAddressPolicy;
  registry: RegistryStore;
  clock: Clock;
}

const IdParams = z.object({ id: z.string().regex(/^wh-[0-9a-f]{12}$/) });
const HOUR_MS = 3_600_000;

/**
 * Whose webhooks a caller manages: a province account's operators (or admins) those of its
 * province, an admin of every commune all of them; anyone else none.
 */
function managedScope(request: FastifyRequest): { provinceId: string | null } {
  const principal = request.principal;
  if (principal?.provinceId) return { provinceId: principal.provinceId };
  if (principal?.roles.includes('admin') && principal.communes === null) return { provinceId: null };
  throw new ForbiddenError(
    'webhooks are registered by admins, and by operators of a province account for their province',
  );
}

const badField = (field: string, message: string) =>
  new InvalidRequestError(`${field}: ${message}`, [{ field, message }]);

export const webhookRoutes: FastifyPluginAsyncZod<{ deps: WebhookRouteDeps }> = async (app, { deps }) => {
  const { store, dispatcher, policy, registry, clock } = deps;
  const tags = ['sharing'];
  const managers = ['operator'] as const;

  /** The webhook, when the caller manages it; 404 as if it did not exist otherwise. */
  const visible = async (request: FastifyRequest, id: string) => {
    const scope = managedScope(request);
    // Registered through another instance a moment ago: copied here before it is called missing.
    await store.present(id);
    const webhook = store.get(id);
    if (scope.provinceId !== null && webhook.provinceId !== scope.provinceId)
      throw new NotFoundError('webhook', id);
    return webhook;
  };

  app.post(
    '/webhooks',
    {
      config: { access: managers, audit: 'webhook.create' },
      schema: {
        tags,
        summary:
          'Register a webhook (admins; province operators for their province); its secret is shown once',
        description:
          'Each POST to the URL is signed: `X-Webhook-Signature: v1=<hex>`, the HMAC-SHA256 of ' +
          '`<X-Webhook-Timestamp>.<body>` under the secret answered here (docs/sharing-api.md).',
        body: WebhookCreateSchema,
        response: { 201: WebhookWithSecretSchema, ...errorResponses, 403: ErrorSchema },
      },
    },
    async (request, reply) => {
      const scope = managedScope(request);
      const { url, events, description, provinceId } = request.body;
      if (scope.provinceId !== null && provinceId !== undefined && provinceId !== scope.provinceId)
        throw badField('body.provinceId', `your webhooks are those of province "${scope.provinceId}"`);
      const province = scope.provinceId ?? provinceId ?? null;
      if (province !== null) registry.getProvince(province);
      const refusal = policy.refusal(url) ?? (await policy.resolvedRefusal(url));
      if (refusal) throw badField('body.url', refusal);
      const secret = newWebhookSecret();
      const id = await store.create({
        url,
        events,
        description: description ?? null,
        provinceId: province,
        createdBy: request.principal?.username ?? null,
        secret,
        now: clock.now(),
      });
      dispatcher.reload();
      const webhook = store.get(id);
      request.auditNote = {
        target: { type: 'webhook', id },
        after: { url, events, provinceId: province },
      };
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...webhook, secret });
    },
  );

  app.get(
    '/webhooks',
    {
      config: { access: managers },
      schema: {
        tags,
        summary: 'The webhooks you manage, with what waits and how the last POST went',
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(WebhookSchema), 403: ErrorSchema },
      },
    },
    async (request) => {
      const scope = managedScope(request);
      return store.list(scope.provinceId === null ? {} : { provinceId: scope.provinceId }, request.query);
    },
  );

  app.delete(
    '/webhooks/:id',
    {
      config: { access: managers, audit: 'webhook.delete' },
      schema: {
        tags,
        summary: 'Delete a webhook: its secret stops signing and nothing more is sent (revocation)',
        params: IdParams,
        response: { 200: WebhookSchema, ...errorResponses, 403: ErrorSchema },
      },
    },
    async (request) => {
      const webhook = await visible(request, request.params.id);
      await store.delete(webhook.id);
      dispatcher.reload();
      request.auditNote = { target: { type: 'webhook', id: webhook.id }, before: { url: webhook.url } };
      return webhook;
    },
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      config: { access: managers, audit: 'webhook.rotate-secret' },
      schema: {
        tags,
        summary: 'Issue a new secret (shown once); the old one also signs for graceHours (default 24)',
        params: IdParams,
        body: WebhookRotateSchema.nullish(),
        response: { 200: WebhookWithSecretSchema, ...errorResponses, 403: ErrorSchema },
      },
    },
    async (request, reply) => {
      const webhook = await visible(request, request.params.id);
      const graceHours = request.body?.graceHours ?? 24;
      const secret = newWebhookSecret();
      await store.rotate(webhook.id, secret, graceHours * HOUR_MS, clock.now());
      request.auditNote = { target: { type: 'webhook', id: webhook.id }, detail: { graceHours } };
      reply.header('cache-control', 'no-store');
      return { ...store.get(webhook.id), secret };
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      config: { access: managers },
      schema: {
        tags,
        summary: "A webhook's recent POSTs (the last 100 finished, and those waiting) with every attempt",
        params: IdParams,
        querystring: PageQuerySchema.extend({ limit: z.coerce.number().int().min(1).max(100).default(100) }),
        response: { 200: pagedSchema(WebhookDeliverySchema), ...errorResponses, 403: ErrorSchema },
      },
    },
    async (request) => {
      const webhook = await visible(request, request.params.id);
      return store.deliveries(webhook.id, request.query);
    },
  );
};
