import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ContactCreateSchema,
  ContactPatchSchema,
  ContactSchema,
  NotificationQuerySchema,
  NotificationSchema,
  ReachNotifyRequestSchema,
  ReachNotifyResultSchema,
  RuleCreateSchema,
  RulePatchSchema,
  RuleSchema,
  SettingsPatchSchema,
  SettingsSchema,
  TestResultSchema,
} from '../../contracts/notifications.js';
import { pagedSchema } from '../../contracts/pages.js';
import { SlugSchema } from '../../contracts/registry.js';
import type { Clock } from '../../devices/index.js';
import { CommunePageQuerySchema, communePage } from '../api/commune-page.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, communeScope } from '../api/security.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { NotificationLog } from './notification-log.js';
import type { Notifier } from './notifier.js';
import type { ReachNotices } from './reach-notices.js';
import {
  type ContactRecord,
  contactView,
  MAX_CONTACTS_PER_COMMUNE,
  MAX_RULES_PER_COMMUNE,
  type RecipientStore,
  ruleView,
} from './recipient-store.js';

export interface NotificationRouteDeps {
  recipients: RecipientStore;
  log: NotificationLog;
  notifier: Notifier;
  reach: ReachNotices;
  registry: RegistryStore;
  clock: Clock;
}

const ContactParams = z.object({ id: z.string().regex(/^nc-[0-9a-f]{10}$/) });
const RuleParams = z.object({ id: z.string().regex(/^nr-[0-9a-f]{10}$/) });

const badField = (field: string, message: string) =>
  new InvalidRequestError(`${field}: ${message}`, [{ field, message }]);

/**
 * `/notification-contacts`, `/notification-rules`, `/notification-settings` and `/notifications`:
 * who is told of alarms, how, and what became of each message (docs/notifications.md).
 */
export const notificationRoutes: FastifyPluginAsyncZod<{ deps: NotificationRouteDeps }> = async (
  app,
  { deps },
) => {
  const { recipients, log, registry, clock } = deps;
  const tags = ['notifications'];
  const readers = ['operator', 'technician', 'viewer'] as const;
  const writers = ['technician'] as const;
  const actor = (request: FastifyRequest) => request.principal?.username ?? null;

  /** A village head must name a village of the contact's commune. */
  const checkVillage = (communeId: string, contact: { villageHead?: boolean; villageId?: string | null }) => {
    if (contact.villageId) {
      let villageCommune: string | null = null;
      try {
        villageCommune = registry.getVillage(contact.villageId).communeId;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
      if (villageCommune !== communeId)
        throw badField('body.villageId', `not a village of commune "${communeId}"`);
    }
    if (contact.villageHead && !contact.villageId)
      throw badField('body.villageId', 'a village head names the village');
  };
  const checkContacts = (communeId: string, contactIds: readonly string[] | undefined) => {
    const known = new Set(recipients.contactsOf(communeId).map((c) => c.id));
    const unknown = (contactIds ?? []).find((id) => !known.has(id));
    if (unknown) throw badField('body.contactIds', `"${unknown}" is not a contact of commune "${communeId}"`);
  };
  const visibleContact = (request: FastifyRequest, id: string): ContactRecord => {
    const contact = recipients.getContact(id);
    assertInScope(request, contact.communeId, 'contact', id);
    return contact;
  };
  const visibleRule = (request: FastifyRequest, id: string) => {
    const rule = recipients.getRule(id);
    assertInScope(request, rule.communeId, 'rule', id);
    return rule;
  };

  app.get(
    '/notification-contacts',
    {
      config: { access: readers },
      schema: {
        tags,
        summary:
          "The people a commune's alarms may reach: e-mail, Telegram and Zalo addresses, village heads",
        querystring: CommunePageQuerySchema,
        response: { 200: pagedSchema(ContactSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { scope, page } = communePage(request);
      const found = recipients.listContacts(scope, page);
      return { ...found, items: found.items.map(contactView) };
    },
  );

  app.post(
    '/notification-contacts',
    {
      config: { access: writers, audit: 'notification.contact.create' },
      schema: {
        tags,
        summary: 'Add a recipient of alarm notifications',
        body: ContactCreateSchema,
        response: { 201: ContactSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      assertInScope(request, body.communeId, 'commune', body.communeId);
      registry.getCommune(body.communeId);
      checkVillage(body.communeId, body);
      if (recipients.countContacts(body.communeId) >= MAX_CONTACTS_PER_COMMUNE)
        throw new ConflictError(`a commune keeps at most ${MAX_CONTACTS_PER_COMMUNE} contacts`);
      const contact = await recipients.createContact(body, clock.now());
      request.auditNote = {
        target: { type: 'notification-contact', id: contact.id },
        after: contactView(contact),
      };
      return reply.status(201).send(contactView(contact));
    },
  );

  app.get(
    '/notification-contacts/:id',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'One recipient',
        params: ContactParams,
        response: { 200: ContactSchema, ...errorResponses },
      },
    },
    async (request) => contactView(visibleContact(request, request.params.id)),
  );

  app.patch(
    '/notification-contacts/:id',
    {
      config: { access: writers, audit: 'notification.contact.update' },
      schema: {
        tags,
        summary: 'Change a recipient (null clears an address or its own quiet hours)',
        params: ContactParams,
        body: ContactPatchSchema,
        response: { 200: ContactSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = visibleContact(request, request.params.id);
      checkVillage(before.communeId, { ...before, ...request.body });
      const after = await recipients.updateContact(before.id, request.body, clock.now());
      request.auditNote = {
        target: { type: 'notification-contact', id: before.id },
        before: contactView(before),
        after: contactView(after),
      };
      return contactView(after);
    },
  );

  app.delete(
    '/notification-contacts/:id',
    {
      config: { access: writers, audit: 'notification.contact.delete' },
      schema: {
        tags,
        summary: 'Remove a recipient: out of every rule, and nothing still queued for it is sent',
        params: ContactParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const contact = visibleContact(request, request.params.id);
      const now = clock.now();
      await recipients.deleteContact(contact.id, now);
      log.dropRecipient(contact.id, now);
      request.auditNote = {
        target: { type: 'notification-contact', id: contact.id },
        before: contactView(contact),
      };
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/notification-contacts/:id/test',
    {
      config: { access: writers, audit: 'notification.contact.test' },
      schema: {
        tags,
        summary: 'Send a test message now on every channel the recipient has an address for',
        description:
          'Bypasses quiet hours and the digest window and is not retried; the answer says how each channel went, ' +
          'and the log keeps it (kind test).',
        params: ContactParams,
        response: { 200: TestResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const contact = visibleContact(request, request.params.id);
      if (!contact.email && !contact.telegramChatId && !contact.zaloUserId)
        throw badField('contact', 'it has no e-mail, Telegram chat or Zalo user to send to');
      const results = await deps.notifier.sendTest(contact);
      request.auditNote = {
        target: { type: 'notification-contact', id: contact.id },
        detail: results.map(({ channel, ok, error }) => ({ channel, ok, error })),
      };
      return { results };
    },
  );

  app.get(
    '/notification-rules',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Routing rules: which alarm kinds, from which severity, go to whom and on which channels',
        querystring: CommunePageQuerySchema,
        response: { 200: pagedSchema(RuleSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { scope, page } = communePage(request);
      const found = recipients.listRules(scope, page);
      return { ...found, items: found.items.map(ruleView) };
    },
  );

  app.post(
    '/notification-rules',
    {
      config: { access: writers, audit: 'notification.rule.create' },
      schema: {
        tags,
        summary: 'Add a routing rule',
        body: RuleCreateSchema,
        response: { 201: RuleSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      assertInScope(request, body.communeId, 'commune', body.communeId);
      registry.getCommune(body.communeId);
      checkContacts(body.communeId, body.contactIds);
      if (recipients.countRules(body.communeId) >= MAX_RULES_PER_COMMUNE)
        throw new ConflictError(`a commune keeps at most ${MAX_RULES_PER_COMMUNE} rules`);
      const rule = await recipients.createRule(body, clock.now());
      request.auditNote = { target: { type: 'notification-rule', id: rule.id }, after: ruleView(rule) };
      return reply.status(201).send(ruleView(rule));
    },
  );

  app.get(
    '/notification-rules/:id',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'One routing rule',
        params: RuleParams,
        response: { 200: RuleSchema, ...errorResponses },
      },
    },
    async (request) => ruleView(visibleRule(request, request.params.id)),
  );

  app.patch(
    '/notification-rules/:id',
    {
      config: { access: writers, audit: 'notification.rule.update' },
      schema: {
        tags,
        summary: 'Change a routing rule',
        params: RuleParams,
        body: RulePatchSchema,
        response: { 200: RuleSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = visibleRule(request, request.params.id);
      checkContacts(before.communeId, request.body.contactIds);
      const after = await recipients.updateRule(before.id, request.body, clock.now());
      request.auditNote = {
        target: { type: 'notification-rule', id: before.id },
        before: ruleView(before),
        after: ruleView(after),
      };
      return ruleView(after);
    },
  );

  app.delete(
    '/notification-rules/:id',
    {
      config: { access: writers, audit: 'notification.rule.delete' },
      schema: {
        tags,
        summary: 'Remove a routing rule',
        params: RuleParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const rule = visibleRule(request, request.params.id);
      await recipients.deleteRule(rule.id);
      request.auditNote = { target: { type: 'notification-rule', id: rule.id }, before: ruleView(rule) };
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/notification-settings/:communeId',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: "A commune's quiet hours, critical bypass and digest window",
        params: z.object({ communeId: SlugSchema }),
        response: { 200: SettingsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { communeId } = request.params;
      assertInScope(request, communeId, 'commune', communeId);
      registry.getCommune(communeId);
      return recipients.settings(communeId);
    },
  );

  app.patch(
    '/notification-settings/:communeId',
    {
      config: { access: writers, audit: 'notification.settings.update' },
      schema: {
        tags,
        summary: "Change a commune's quiet hours, critical bypass or digest window",
        params: z.object({ communeId: SlugSchema }),
        body: SettingsPatchSchema,
        response: { 200: SettingsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { communeId } = request.params;
      assertInScope(request, communeId, 'commune', communeId);
      registry.getCommune(communeId);
      const before = recipients.settings(communeId);
      const { custom: _custom, ...current } = before;
      await recipients.setSettings({ ...current, ...request.body }, actor(request), clock.now());
      const after = recipients.settings(communeId);
      request.auditNote = { target: { type: 'notification-settings', id: communeId }, before, after };
      return after;
    },
  );

  app.post(
    '/broadcasts/:id/reach/notify',
    {
      config: {
        access: ['operator'],
        audit: 'broadcast.reach.notify',
        // Per account: each village is told of a broadcast once anyway; this bounds the asking.
        rateLimit: {
          max: 10,
          timeWindow: 60_000,
          hook: 'preHandler',
          keyGenerator: (request: FastifyRequest) => request.principal?.userId ?? request.ip,
        },
      },
      schema: {
        tags,
        summary:
          'Tell the heads of the villages that missed a finished broadcast, on the notification channels',
        description:
          'The villages of GET /broadcasts/{id}/reach (those of your communes): each village head ' +
          '(notification contacts with villageHead) is told on each channel asked for that they have an ' +
          'address for, once per broadcast and village, queued and retried like alarm notices ' +
          '(GET /notifications?broadcastId=). 409 while deliveries are still under way.',
        params: z.object({ id: z.string().regex(/^b-[0-9a-f]{12}$/) }),
        body: ReachNotifyRequestSchema.nullish(),
        response: { 200: ReachNotifyResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const communes = request.principal?.communes ?? null;
      const followed = deps.reach.notify(id, {
        communes,
        ...(request.body?.villageIds ? { villageIds: request.body.villageIds } : {}),
        ...(request.body?.channels ? { channels: request.body.channels } : {}),
      });
      request.auditNote = {
        target: { type: 'broadcast', id },
        detail: followed.map((f) => ({
          villageId: f.village.villageId,
          outcome: f.outcome,
          messages: f.notificationIds.length,
        })),
      };
      return {
        broadcastId: id,
        villages: followed.map((f) => ({
          villageId: f.village.villageId,
          villageName: f.village.villageName,
          communeId: f.village.communeId,
          reached: f.village.reached,
          outcome: f.outcome,
          notifications: f.notificationIds.flatMap((n) => log.get(n) ?? []),
        })),
      };
    },
  );

  app.get(
    '/notifications',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'The notification log, newest first: every notice, digest and test with its outcome',
        querystring: PageQuerySchema.merge(NotificationQuerySchema),
        response: { 200: pagedSchema(NotificationSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { communeId, alarmId, incidentId, broadcastId, contactId, status, limit, offset } = request.query;
      const scope = communeScope(request, communeId);
      return log.list(
        {
          communeIds: scope.communeIds,
          communeId: scope.communeId,
          alarmId,
          incidentId,
          broadcastId,
          contactId,
          status,
        },
        { limit, offset },
      );
    },
  );
};
