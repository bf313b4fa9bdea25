import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Targets } from '../../contracts/broadcasts.js';
import {
  CommandRequestSchema,
  CommandResponseSchema,
  ControlRequestSchema,
  ControlResponseSchema,
  OPERATOR_COMMANDS,
} from '../../contracts/commands.js';
import { PresencePeriodSchema } from '../../contracts/history.js';
import { pagedSchema } from '../../contracts/pages.js';
import type { Clock } from '../../devices/index.js';
import { DeviceIdSchema } from '../../devices/index.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, type inScope } from '../api/security.js';
import { scopedTargets } from '../broadcasts/targets.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { isoTime } from '../time.js';
import type { CommandService } from './command-service.js';
import type { CommandRecord } from './command-store.js';

const IdParams = z.object({ id: DeviceIdSchema });
function toResponse(record: CommandRecord) {
  return {
    id: record.id,
    deviceId: record.deviceId,
    type: record.type,
    status: record.status,
    error: record.error,
    command: record.command,
    issuedAt: isoTime(record.issuedAt),
    expiresAt: isoTime(record.expiresAt),
    updatedAt: isoTime(record.updatedAt),
  };
}

export interface DeviceRouteDeps {
  registry: RegistryStore;
  presence: PresenceService;
  commands: CommandService;
  clock: Clock;
  /** The clusters targets name (communes, villages, clusters, groups). */
  resolveTargets(targets: Targets): string[];
}

/** Operators set volume and power; every other command is a technician's. */
function assertMayCommand(roles: readonly string[], type: string): void {
  if (roles.includes('technician') || roles.includes('admin')) return;
  if (!(OPERATOR_COMMANDS as readonly string[]).includes(type))
    throw new ForbiddenError(`a ${type} command is for technicians; operators set the volume and the power`);
}

export const deviceRoutes: FastifyPluginAsyncZod<{ deps: DeviceRouteDeps }> = async (app, { deps }) => {
  const { registry, presence, commands, clock } = deps;
  const tags = ['devices'];
  const device = (request: Parameters<typeof inScope>[0], id: string) => {
    const record = registry.getCluster(id);
    assertInScope(request, record.communeId, 'cluster', id);
    return record;
  };

  app.post(
    '/devices/:id/commands',
    {
      config: { access: ['technician', 'operator'], audit: 'device.command' },
      schema: {
        tags,
        summary:
          'Send a command to a device (volume, power, ping, stop, reboot, config); operators volume and power only',
        description:
          'Publishes the command at QoS 1 with a fresh id. With waitMs, answers once the device acks it ' +
          'as done, rejected or failed, or when waitMs runs out (the status then says how far it got).',
        params: IdParams,
        querystring: z.object({
          waitMs: z.coerce.number().int().min(0).max(30_000).default(0),
          ttlS: z.coerce.number().int().min(5).max(86_400).default(300),
          force: z.enum(['true', 'false']).default('false').describe('send even if the device is offline'),
        }),
        body: CommandRequestSchema,
        response: { 202: CommandResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      device(request, id);
      assertMayCommand(request.principal?.roles ?? [], request.body.type);
      const { waitMs, ttlS, force } = request.query;
      request.auditNote = {
        target: { type: 'device', id },
        detail: { command: request.body, force: force === 'true' },
      };
      const sent = await commands.send(id, request.body, { ttlMs: ttlS * 1000, force: force === 'true' });
      if (!sent) throw new NotFoundError('command', id);
      request.auditNote.after = { commandId: sent.id };
      const final = waitMs > 0 ? await commands.waitForFinal(sent.id, waitMs) : sent;
      return reply.status(202).send(toResponse(final ?? sent));
    },
  );

  app.post(
    '/clusters/control',
    {
      config: { access: ['operator', 'technician'], audit: 'cluster.control' },
      schema: {
        tags,
        summary: 'Set the volume of, or switch the amplifiers of, every cluster of some targets',
        description:
          'Sends the command to each online cluster of the targets (a commune-limited account: its own ' +
          'only); offline clusters are listed as offline. With waitMs, answers once every cluster has ' +
          'acknowledged or waitMs runs out.',
        querystring: z.object({ waitMs: z.coerce.number().int().min(0).max(30_000).default(0) }),
        body: ControlRequestSchema,
        response: { 200: ControlResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const targets = scopedTargets(
        { registry, resolveTargets: (t: Targets) => deps.resolveTargets(t) },
        request.principal?.communes,
        request.body.targets,
      );
      const clusterIds = deps.resolveTargets(targets);
      const sent = await Promise.all(
        clusterIds.map(async (clusterId) =>
          presence.isOnline(clusterId)
            ? { clusterId, record: await commands.send(clusterId, request.body.command) }
            : { clusterId, record: null },
        ),
      );
      const { waitMs } = request.query;
      const final = await Promise.all(
        sent.map(async ({ clusterId, record }) => ({
          clusterId,
          record:
            record && waitMs > 0 ? ((await commands.waitForFinal(record.id, waitMs)) ?? record) : record,
        })),
      );
      request.auditNote = {
        target: { type: 'clusters', id: null },
        detail: { command: request.body.command, targets, clusters: clusterIds.length },
      };
      return {
        items: final.map(({ clusterId, record }) => ({
          clusterId,
          status: record ? record.status : ('offline' as const),
          commandId: record?.id ?? null,
          error: record?.error ?? null,
        })),
      };
    },
  );

  app.get(
    '/devices/:id/commands',
    {
      config: { access: ['technician', 'operator'] },
      schema: {
        tags,
        summary: 'Commands sent to a device, newest first, with their outcome',
        params: IdParams,
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(CommandResponseSchema), ...errorResponses },
      },
    },
    async (request) => {
      device(request, request.params.id);
      const result = commands.list(request.params.id, request.query);
      return { ...result, items: result.items.map(toResponse), ...request.query };
    },
  );

  app.get(
    '/devices/:id/presence',
    {
      config: { access: ['technician', 'operator'] },
      schema: {
        tags,
        summary: 'Online and offline periods of a device, newest first',
        params: IdParams,
        querystring: PageQuerySchema.extend({
          from: z.iso.datetime().optional().describe('default: 7 days before `to`'),
          to: z.iso.datetime().optional().describe('default: now'),
        }),
        response: { 200: pagedSchema(PresencePeriodSchema), ...errorResponses },
      },
    },
    async (request) => {
      device(request, request.params.id);
      const { from, to, ...page } = request.query;
      const now = clock.now();
      const toMs = to ? Date.parse(to) : now;
      const fromMs = from ? Date.parse(from) : toMs - 7 * 86_400_000;
      const result = presence.history(request.params.id, { from: fromMs, to: toMs }, page);
      return {
        ...page,
        total: result.total,
        items: result.items.map((p) => ({
          online: p.online,
          startedAt: isoTime(p.startedAt),
          startReason: p.startReason,
          endedAt: p.endedAt === null ? null : isoTime(p.endedAt),
          endReason: p.endReason,
          durationS: ((p.endedAt ?? now) - p.startedAt) / 1000,
        })),
      };
    },
  );
};
