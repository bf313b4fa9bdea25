import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Content } from '../../contracts/broadcasts.js';
import { pagedSchema } from '../../contracts/pages.js';
import { SlugSchema } from '../../contracts/registry.js';
import {
  APPROVAL_STATES,
  ApprovalDecisionSchema,
  ApprovalReturnSchema,
  CalendarOccurrenceSchema,
  ScheduleCreateSchema,
  SchedulePatchSchema,
  ScheduleResultSchema,
  ScheduleSchema,
} from '../../contracts/schedules.js';
import { homeCommune } from '../accounts/roles.js';
import { changes, summary } from '../api/audit-summary.js';
import { CommunePageQuerySchema, communePage } from '../api/commune-page.js';
import { errorResponses } from '../api/pagination.js';
import { communeScope } from '../api/security.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { contentMediaIds } from '../media/content-audio.js';
import type { MediaLibrary } from '../media/media-library.js';
import type { SpeechCache } from '../tts/speech-cache.js';
import type { ScheduleResult, ScheduleService } from './schedule-service.js';
import type { ScheduleRecord } from './schedule-store.js';

const IdParams = z.object({ id: z.string().min(1).max(48) });
/** A calendar asks for at most a quarter at a time. */
const MAX_CALENDAR_DAYS = 93;
const instant = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time with Z or an offset');

export interface ScheduleRouteDeps {
  schedules: ScheduleService;
  media: MediaLibrary;
  speech: SpeechCache;
}

export const scheduleRoutes: FastifyPluginAsyncZod<{ deps: ScheduleRouteDeps }> = async (app, { deps }) => {
  const { schedules } = deps;
  const tags = ['schedules'];
  const planners = ['operator'] as const;
  const approvers = ['approver'] as const;
  const viewers = ['operator', 'approver'] as const;
  const readers = ['operator', 'approver', 'viewer', 'technician'] as const;

  const actorOf = (request: FastifyRequest) =>
    request.principal ? { userId: request.principal.userId, username: request.principal.username } : null;
  /** A commune-limited account sees only schedules whose targets all lie in its commune. */
  const visible = (request: FastifyRequest, id: string): ScheduleRecord =>
    seen(request, id, schedules.get(id));
  const seen = (request: FastifyRequest, id: string, schedule: ScheduleRecord): ScheduleRecord => {
    const limit = request.principal?.communes;
    if (limit && !schedules.inCommunes(schedule, limit)) throw new NotFoundError('schedule', id);
    return schedule;
  };
  /** Before a write: a schedule saved on another instance a moment ago is found too. */
  const present = async (request: FastifyRequest, id: string): Promise<ScheduleRecord> =>
    seen(request, id, await schedules.present(id));
  /**
   * …plays only its commune's media and the shared library's; text is synthesized now (or found
   * already spoken), so a schedule's length is known and a failing voice is an answer, not a silence…
   */
  const prepareContent = async <T extends { content: Content }>(
    request: FastifyRequest,
    body: T,
  ): Promise<T> => {
    const content = await deps.speech.prepare(body.content, {
      username: request.principal?.username ?? null,
      communeId: homeCommune(request.principal),
    });
    for (const id of contentMediaIds(content)) deps.media.getVisible(id, request.principal?.communes);
    return { ...body, content };
  };
  /** …and may aim schedules only inside it; anything else answers as if it did not exist. */
  const checkTargets = (request: FastifyRequest, targets: Parameters<typeof schedules.targetOutside>[0]) => {
    const limit = request.principal?.communes;
    const outside = limit ? schedules.targetOutside(targets, limit) : null;
    if (outside) throw new NotFoundError(outside.kind, outside.id);
  };
  const view = (schedule: ScheduleRecord) => schedules.views([schedule])[0] as z.infer<typeof ScheduleSchema>;
  const answer = (result: ScheduleResult) => ({
    schedule: view(result.schedule),
    preempts: result.preempts,
    preemptedBy: result.preemptedBy,
  });

  app.get(
    '/schedules',
    {
      config: { access: viewers },
      schema: {
        tags,
        summary: 'List schedules',
        description: 'Oldest first, each with the clusters its targets reach now and its next occurrence.',
        querystring: CommunePageQuerySchema.extend({
          communeId: SlugSchema.optional().describe('only schedules whose targets all lie in this commune'),
          approval: z
            .enum(APPROVAL_STATES)
            .optional()
            .describe('only schedules in this approval state (submitted: waiting for an approver)'),
        }),
        response: { 200: pagedSchema(ScheduleSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { scope, page } = communePage(request);
      const result = schedules.list(page, { ...scope, approval: request.query.approval });
      return { ...result, items: schedules.views(result.items) };
    },
  );

  app.post(
    '/schedules',
    {
      config: { access: planners, audit: 'schedule.create' },
      schema: {
        tags,
        summary: 'Create a one-off or recurring schedule',
        description:
          'Wall times are in `timezone` (default Asia/Ho_Chi_Minh). An overlap with a schedule of the same ' +
          'level on a shared cluster answers 409 with the clashing occurrences (`details.clashes`); a ' +
          'higher level is accepted and `preempts` lists what it interrupts, a lower one `preemptedBy`.',
        body: ScheduleCreateSchema,
        response: { 201: ScheduleResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      checkTargets(request, request.body.targets);
      const body = await prepareContent(request, request.body);
      const result = await schedules.create(body, actorOf(request));
      request.auditNote = {
        target: { type: 'schedule', id: result.schedule.id },
        after: summary(result.schedule),
      };
      return reply.status(201).send(answer(result));
    },
  );

  app.get(
    '/schedules/occurrences',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Every occurrence in a time range, for a calendar',
        description:
          `Occurrences of enabled schedules overlapping [from, to), one-offs included, at most ${MAX_CALENDAR_DAYS} ` +
          'days at a time, each with what it pre-empts and what pre-empts it.',
        querystring: z.object({
          from: instant,
          to: instant,
          communeId: SlugSchema.optional().describe('only schedules whose targets all lie in this commune'),
        }),
        response: { 200: z.object({ items: z.array(CalendarOccurrenceSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const from = Date.parse(request.query.from);
      const to = Date.parse(request.query.to);
      if (to <= from) {
        const message = 'must be after from';
        throw new InvalidRequestError(`query.to: ${message}`, [{ field: 'query.to', message }]);
      }
      if (to - from > MAX_CALENDAR_DAYS * 86_400_000) {
        const message = `the range may span at most ${MAX_CALENDAR_DAYS} days`;
        throw new InvalidRequestError(`query.to: ${message}`, [{ field: 'query.to', message }]);
      }
      return { items: schedules.occurrences(from, to, communeScope(request, request.query.communeId)) };
    },
  );

  app.get(
    '/schedules/:id',
    {
      config: { access: viewers },
      schema: {
        tags,
        summary: 'Get a schedule',
        params: IdParams,
        response: { 200: ScheduleSchema, ...errorResponses },
      },
    },
    async (request) => view(visible(request, request.params.id)),
  );

  app.patch(
    '/schedules/:id',
    {
      config: { access: planners, audit: 'schedule.update' },
      schema: {
        tags,
        summary: 'Change a schedule',
        description:
          'Only the fields given change; null clears `volume`, `rrule` (making it a one-off) or `durationS`. ' +
          'The result is checked for clashes as a new schedule is.',
        params: IdParams,
        body: SchedulePatchSchema,
        response: { 200: ScheduleResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = await present(request, request.params.id);
      if (request.body.targets) checkTargets(request, request.body.targets);
      const body = request.body.content
        ? await prepareContent(request, { ...request.body, content: request.body.content })
        : request.body;
      const result = await schedules.update(request.params.id, body, actorOf(request));
      request.auditNote = changes(before, result.schedule);
      return answer(result);
    },
  );

  /** One approval step on a visible schedule, audited with the state it led to and the comment. */
  const approvalStep = async (
    request: FastifyRequest,
    id: string,
    act: (actor: { userId: string; username: string }) => Promise<ScheduleRecord>,
    comment: string | null,
  ) => {
    await present(request, id);
    const actor = actorOf(request);
    if (!actor) throw new NotFoundError('schedule', id);
    const schedule = await act(actor);
    request.auditNote = {
      target: { type: 'schedule', id: schedule.id },
      after: { name: schedule.name, approval: schedule.approval.state, comment },
    };
    return view(schedule);
  };

  app.post(
    '/schedules/:id/submit',
    {
      config: { access: planners, audit: 'schedule.submit' },
      schema: {
        tags,
        summary: 'Send a schedule for approval',
        description:
          'A draft or returned schedule goes to the approvers of its communes; it airs once approved.',
        params: IdParams,
        response: { 200: ScheduleSchema, ...errorResponses },
      },
    },
    async (request) =>
      approvalStep(request, request.params.id, (actor) => schedules.submit(request.params.id, actor), null),
  );

  app.post(
    '/schedules/:id/approve',
    {
      config: { access: approvers, audit: 'schedule.approve' },
      schema: {
        tags,
        summary: 'Approve a submitted schedule',
        description:
          'It airs from its next occurrence and the broadcast log names the approver. Any later change ' +
          'but enabling or disabling makes it a draft again.',
        params: IdParams,
        body: ApprovalDecisionSchema.nullish(),
        response: { 200: ScheduleSchema, ...errorResponses },
      },
    },
    async (request) => {
      const comment = request.body?.comment || null;
      const { id } = request.params;
      return approvalStep(request, id, (actor) => schedules.approve(id, actor, comment), comment);
    },
  );

  app.post(
    '/schedules/:id/return',
    {
      config: { access: approvers, audit: 'schedule.return' },
      schema: {
        tags,
        summary: 'Send a submitted schedule back to its operator',
        description: 'With a comment saying what to change; the operator edits it and submits it again.',
        params: IdParams,
        body: ApprovalReturnSchema,
        response: { 200: ScheduleSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { comment } = request.body;
      const { id } = request.params;
      return approvalStep(request, id, (actor) => schedules.sendBack(id, actor, comment), comment);
    },
  );

  app.delete(
    '/schedules/:id',
    {
      config: { access: planners, audit: 'schedule.delete' },
      schema: {
        tags,
        summary: 'Delete a schedule',
        description: 'Broadcasts it already made keep their history.',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await present(request, request.params.id);
      const removed = await schedules.delete(request.params.id);
      request.auditNote = { before: summary(removed) };
      return reply.status(204).send(null);
    },
  );
};
