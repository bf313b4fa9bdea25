import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Targets } from '../../contracts/broadcasts.js';
import {
  ControlScheduleCreateSchema,
  ControlSchedulePatchSchema,
  ControlScheduleSchema,
} from '../../contracts/commands.js';
import type { Principal } from '../accounts/roles.js';
import { errorResponses } from '../api/pagination.js';
import { scopedTargets } from '../broadcasts/targets.js';
import { NotFoundError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { ControlScheduler } from './control-schedules.js';

export interface ControlScheduleRouteDeps {
  schedules: ControlScheduler;
  registry: RegistryStore;
  resolveTargets(targets: Targets): string[];
}

const IdParams = z.object({ id: z.string().regex(/^ctl-[0-9a-f]{10}$/) });

/** `/control-schedules`: volume and power on a calendar (amplifiers off at night, on at dawn). */
export const controlScheduleRoutes: FastifyPluginAsyncZod<{ deps: ControlScheduleRouteDeps }> = async (
  app,
  { deps },
) => {
  const tags = ['devices'];
  const access = ['operator', 'technician'] as const;
  /** A commune-limited caller sees only schedules that reach no cluster outside their communes. */
  const visible = (communes: readonly string[] | null | undefined, targets: Targets) =>
    !communes ||
    deps
      .resolveTargets(targets)
      .every((id) => communes.includes(deps.registry.findCluster(id)?.communeId ?? ''));
  const own = (request: { principal: Principal | null }, id: string) => {
    const schedule = deps.schedules.get(id);
    if (!visible(request.principal?.communes, schedule.targets))
      throw new NotFoundError('control schedule', id);
    return schedule;
  };

  app.get(
    '/control-schedules',
    {
      config: { access },
      schema: {
        tags,
        summary: 'Volume and power settings on a calendar',
        response: { 200: z.array(ControlScheduleSchema) },
      },
    },
    async (request) => deps.schedules.list().filter((s) => visible(request.principal?.communes, s.targets)),
  );
  app.post(
    '/control-schedules',
    {
      config: { access, audit: 'control-schedule.create' },
      schema: {
        tags,
        summary: 'Set the volume or the power of some clusters on a calendar (e.g. off at 22:00 every day)',
        body: ControlScheduleCreateSchema,
        response: { 201: ControlScheduleSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const targets = scopedTargets(
        { registry: deps.registry, resolveTargets: deps.resolveTargets },
        request.principal?.communes,
        request.body.targets,
      );
      const schedule = await deps.schedules.create(
        { ...request.body, targets },
        request.principal?.username ?? null,
      );
      request.auditNote = { target: { type: 'control-schedule', id: schedule.id }, after: request.body };
      return reply.status(201).send(schedule);
    },
  );
  app.patch(
    '/control-schedules/:id',
    {
      config: { access, audit: 'control-schedule.update' },
      schema: {
        tags,
        summary: 'Rename, pause or resume a control schedule',
        params: IdParams,
        body: ControlSchedulePatchSchema,
        response: { 200: ControlScheduleSchema, ...errorResponses },
      },
    },
    async (request) => {
      own(request, request.params.id);
      request.auditNote = {
        target: { type: 'control-schedule', id: request.params.id },
        after: request.body,
      };
      return await deps.schedules.update(request.params.id, request.body);
    },
  );
  app.delete(
    '/control-schedules/:id',
    {
      config: { access, audit: 'control-schedule.delete' },
      schema: {
        tags,
        summary: 'Remove a control schedule',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      own(request, request.params.id);
      await deps.schedules.delete(request.params.id);
      request.auditNote = { target: { type: 'control-schedule', id: request.params.id } };
      return reply.status(204).send(null);
    },
  );
};
