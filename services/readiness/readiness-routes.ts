import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Targets } from '../../contracts/broadcasts.js';
import { ErrorSchema, pagedSchema } from '../../contracts/pages.js';
import {
  CommuneParamsSchema,
  DrillCreateSchema,
  DrillIdSchema,
  DrillReportSchema,
  DrillSummarySchema,
  type ReadinessSchedule,
  ReadinessSchedulePatchSchema,
  ReadinessScheduleSchema,
} from '../../contracts/readiness.js';
import { SlugSchema } from '../../contracts/registry.js';
import type { Clock } from '../../devices/index.js';
import { isAllowed, mayActIn } from '../accounts/roles.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { scopedTargets } from '../broadcasts/targets.js';
import { AuthenticationError, ForbiddenError, NotFoundError } from '../errors.js';
import type { SignedLinks } from '../firmware/signed-links.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { isoTimeOrNull } from '../time.js';
import { drillReport } from './drill-report.js';
import type { DrillScheduler } from './drill-scheduler.js';
import type { DrillService } from './drill-service.js';
import type { DrillStore, ScheduleRecord } from './drill-store.js';
import type { TestAudio } from './test-audio.js';

export interface ReadinessRouteDeps {
  drills: DrillService;
  scheduler: DrillScheduler;
  store: DrillStore;
  registry: RegistryStore;
  links: SignedLinks;
  audio: TestAudio;
  clock: Clock;
  resolveTargets(targets: Targets): string[];
}

/** The path the test audio's signed links are made for (SignedLinks). */
export const TEST_AUDIO_PATH = 'readiness/test-audio.wav';

const RUNNERS = ['operator', 'technician'] as const;
const READERS = ['operator', 'technician', 'viewer'] as const;

/** `/readiness`: silent drills on demand or weekly, and their report per cluster and village. */
export const readinessRoutes: FastifyPluginAsyncZod<{ deps: ReadinessRouteDeps }> = async (app, { deps }) => {
  const { drills, scheduler, store, registry, clock } = deps;
  const tags = ['readiness'];
  const names = {
    cluster: (id: string) => registry.findCluster(id)?.name ?? id,
    village: (id: string) => {
      try {
        return registry.getVillage(id).name;
      } catch (error) {
        // A village removed since the drill: its results keep its id.
        if (error instanceof NotFoundError) return id;
        throw error;
      }
    },
  };
  const visibleDrill = (id: string, communes: readonly string[] | null) => {
    const drill = store.get(id);
    if (!drill || (communes && !drill.communeIds.some((c) => communes.includes(c))))
      throw new NotFoundError('drill', id);
    return drillReport(drill, store.results(id), communes, names);
  };
  const scheduleView = (schedule: ScheduleRecord): ReadinessSchedule => {
    const next = scheduler.next(schedule);
    return {
      communeId: schedule.communeId,
      enabled: schedule.enabled,
      weekday: schedule.weekday,
      hour: schedule.hour,
      minute: schedule.minute,
      tone: schedule.tone,
      timezone: registry.getCommune(schedule.communeId).timezone,
      next: isoTimeOrNull(next),
      lastRunAt: isoTimeOrNull(schedule.lastRunAt),
      lastDrillId: schedule.lastDrillId,
      updatedBy: schedule.updatedBy,
      updatedAt: isoTimeOrNull(schedule.updatedAt),
    };
  };
  const commune = (request: { principal: Parameters<typeof mayActIn>[0] }, communeId: string) => {
    if (!mayActIn(request.principal, communeId)) throw new NotFoundError('commune', communeId);
    registry.getCommune(communeId);
  };

  app.post(
    '/readiness/drills',
    {
      config: { access: RUNNERS, audit: 'readiness.drill' },
      schema: {
        tags,
        summary: 'Run a readiness drill now: every online cluster of the targets tests itself',
        description:
          'Each cluster downloads and decodes a small test file and checks its amplifier and every speaker ' +
          'line, silently (or with a short test tone with `tone: true`). Answers at once with the drill ' +
          'running; GET it for the verdicts. Offline clusters are not tested; clusters that have not answered ' +
          'within 120 s are not tested either.',
        body: DrillCreateSchema,
        response: { 201: DrillReportSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const communes = request.principal?.communes ?? null;
      const targets = scopedTargets(
        { registry, resolveTargets: deps.resolveTargets },
        communes,
        request.body.targets,
      );
      const drill = await drills.run(targets, {
        tone: request.body.tone,
        origin: 'manual',
        createdBy: request.principal?.username ?? null,
      });
      request.auditNote = { target: { type: 'drill', id: drill.id }, detail: request.body };
      return reply.status(201).send(visibleDrill(drill.id, communes));
    },
  );

  app.get(
    '/readiness/drills',
    {
      config: { access: READERS },
      schema: {
        tags,
        summary: 'Drills, newest first, with their counts',
        querystring: PageQuerySchema.extend({ communeId: SlugSchema.optional() }),
        response: { 200: pagedSchema(DrillSummarySchema), ...errorResponses },
      },
    },
    async (request) => {
      const communes = request.principal?.communes ?? null;
      const { communeId, ...page } = request.query;
      if (communeId && !mayActIn(request.principal, communeId)) throw new NotFoundError('commune', communeId);
      const { items, total } = store.list(page, { communes, ...(communeId ? { communeId } : {}) });
      return {
        items: items.map((d) => {
          const {
            villages: _villages,
            clusters: _clusters,
            ...summary
          } = drillReport(d, store.results(d.id), communes, names);
          return summary;
        }),
        total,
        ...page,
      };
    },
  );

  app.get(
    '/readiness/drills/:id',
    {
      config: { access: READERS },
      schema: {
        tags,
        summary: 'A drill’s report: each cluster ready or not and why, each village’s ready count',
        params: z.object({ id: DrillIdSchema }),
        response: { 200: DrillReportSchema, ...errorResponses },
      },
    },
    async (request) => {
      await store.present(request.params.id);
      return visibleDrill(request.params.id, request.principal?.communes ?? null);
    },
  );

  app.get(
    '/readiness/schedules/:communeId',
    {
      config: { access: READERS },
      schema: {
        tags,
        summary: "A commune's weekly drill and when it runs next",
        params: CommuneParamsSchema,
        response: { 200: ReadinessScheduleSchema, ...errorResponses },
      },
    },
    async (request) => {
      commune(request, request.params.communeId);
      return scheduleView(store.schedule(request.params.communeId));
    },
  );

  app.patch(
    '/readiness/schedules/:communeId',
    {
      config: { access: RUNNERS, audit: 'readiness.schedule' },
      schema: {
        tags,
        summary: "Set a commune's weekly drill: on or off, weekday (1 Monday … 7 Sunday), hour, minute, tone",
        description: "The weekday and time are read in the commune's time zone.",
        params: CommuneParamsSchema,
        body: ReadinessSchedulePatchSchema,
        response: { 200: ReadinessScheduleSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { communeId } = request.params;
      commune(request, communeId);
      const before = store.schedule(communeId);
      const after: ScheduleRecord = {
        ...before,
        ...request.body,
        updatedBy: request.principal?.username ?? null,
        updatedAt: clock.now(),
      };
      await store.saveSchedule(after);
      scheduler.arm();
      request.auditNote = {
        target: { type: 'readiness-schedule', id: communeId },
        before: scheduleView(before),
        after: scheduleView(after),
      };
      return scheduleView(store.schedule(communeId));
    },
  );

  app.get(
    `/${TEST_AUDIO_PATH}`,
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'The test audio a drill downloads and decodes (a short 1 kHz tone, PCM WAV)',
        description:
          'For clusters: with the signed link of their `selftest` command. People may use their session.',
        querystring: z.object({
          exp: z.coerce.number().int().optional().describe('expiry of a signed link, epoch ms'),
          sig: z.string().max(128).optional().describe('signature of a signed link'),
        }),
        response: { 200: z.unknown().describe('audio/wav'), 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (request, reply) => {
      if (!deps.links.verify(TEST_AUDIO_PATH, request.query.exp, request.query.sig, clock.now())) {
        const verdict = isAllowed(RUNNERS, request.principal);
        if (verdict === 'forbidden') throw new ForbiddenError();
        if (verdict === 'unauthenticated')
          throw new AuthenticationError('fetch the test audio with the signed link of a selftest command');
      }
      return reply
        .header('content-type', deps.audio.mime)
        .header('content-length', deps.audio.sizeBytes)
        .header('etag', `"${deps.audio.sha256}"`)
        .header('cache-control', 'private')
        .send(deps.audio.bytes);
    },
  );
};
