import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ALARM_KINDS,
  ALARM_STATES,
  AlarmAckSchema,
  AlarmRulePatchSchema,
  AlarmRuleSchema,
  AlarmSchema,
  IncidentSchema,
  MaintenanceCreateSchema,
  MaintenanceSchema,
  OutageSchema,
} from '../../contracts/alarms.js';
import { SlugSchema } from '../../contracts/registry.js';
import type { Clock } from '../../devices/index.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, communeScope } from '../api/security.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import type { AlarmEngine, DevicePlace } from './alarm-engine.js';
import type { AlarmRecord, AlarmStore, IncidentRecord, MaintenanceRecord } from './alarm-store.js';
import { outageView } from './outage-view.js';

export interface AlarmRouteDeps {
  store: AlarmStore;
  engine: AlarmEngine;
  registry: RegistryStore;
  clock: Clock;
  events: EventBus;
  placeOf(deviceId: string): DevicePlace | null;
  devicesOfVillage(villageId: string): string[];
  villageName(villageId: string): string;
  cameraName(cameraId: string): string | null;
}

/** The filter of the outage lists: a commune, and whether only those not over (default `open`). */
const outageQuery = (open: 'true' | 'false', description: string) =>
  PageQuerySchema.extend({
    communeId: SlugSchema.optional(),
    open: z.enum(['true', 'false']).default(open).describe(description),
  });

const toAlarm = (a: AlarmRecord) => ({
  ...a,
  openedAt: isoTime(a.openedAt),
  acknowledgedAt: isoTimeOrNull(a.acknowledgedAt),
  clearedAt: isoTimeOrNull(a.clearedAt),
});

/** `/alarms`, `/incidents`, `/alarm-rules` and `/maintenance`: alarms that reach people. */
export const alarmRoutes: FastifyPluginAsyncZod<{ deps: AlarmRouteDeps }> = async (app, { deps }) => {
  const { store, registry, clock } = deps;
  const tags = ['alarms'];
  const readers = ['operator', 'technician', 'viewer'] as const;
  const toIncident = (i: IncidentRecord) => ({
    ...i,
    villageName: deps.villageName(i.villageId),
    openedAt: isoTime(i.openedAt),
    clearedAt: isoTimeOrNull(i.clearedAt),
    detail:
      `${i.devices.length} devices of the village dropped together (likely power or network)` +
      (i.devices.some((d) => d.deviceKind === 'camera')
        ? `; cameras blind: ${
            i.devices
              .filter((d) => d.deviceKind === 'camera' && !d.back)
              .map((d) => d.deviceId)
              .join(', ') || 'none now'
          }`
        : ''),
  });
  /** One page of the village outages in the caller's communes (or the one asked for). */
  const outagesFor = (request: FastifyRequest, query: z.infer<ReturnType<typeof outageQuery>>) => {
    const scope = communeScope(request, query.communeId);
    const communeIds = scope.communeId ? [scope.communeId] : scope.communeIds;
    return store.incidents(
      { communeIds, openOnly: query.open === 'true' },
      { limit: query.limit, offset: query.offset },
    );
  };
  const toWindow = (w: MaintenanceRecord) => ({
    ...w,
    startsAt: isoTime(w.startsAt),
    endsAt: isoTime(w.endsAt),
    createdAt: isoTime(w.createdAt),
  });

  app.get(
    '/alarms',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Alarms, what needs someone first (open, then by severity and age)',
        querystring: PageQuerySchema.extend({
          communeId: SlugSchema.optional(),
          deviceId: z
            .string()
            .max(64)
            .optional()
            .describe("one device's alarms (the technician's device page)"),
          state: z
            .string()
            .optional()
            .transform((s) => (s ? s.split(',') : undefined))
            .pipe(z.array(z.enum(ALARM_STATES)).optional())
            .describe('comma-separated: open,acknowledged for the active ones'),
        }),
        response: {
          200: z.object({ items: z.array(AlarmSchema), total: z.int(), limit: z.int(), offset: z.int() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { communeId, deviceId, state, limit, offset } = request.query;
      const scope = communeScope(request, communeId);
      const communeIds = scope.communeId ? [scope.communeId] : scope.communeIds;
      if (deviceId) {
        const place = deps.placeOf(deviceId);
        if (place) assertInScope(request, place.communeId, 'device', deviceId);
      }
      const found = store.list({ communeIds, deviceId, states: state }, { limit, offset });
      return { items: found.items.map(toAlarm), total: found.total, limit, offset };
    },
  );

  app.post(
    '/alarms/:id/acknowledge',
    {
      config: { access: ['operator', 'technician'], audit: 'alarm.acknowledge' },
      schema: {
        tags,
        summary: 'Acknowledge an open alarm with a note: someone is on it',
        params: z.object({ id: z.string().regex(/^al-[0-9a-f]{12}$/) }),
        body: AlarmAckSchema,
        response: { 200: AlarmSchema, ...errorResponses },
      },
    },
    async (request) => {
      await store.present('alarms', request.params.id);
      const alarm = store.get(request.params.id);
      if (!alarm) throw new NotFoundError('alarm', request.params.id);
      assertInScope(request, alarm.communeId, 'alarm', alarm.id);
      const by = request.principal?.username ?? 'unknown';
      const now = clock.now();
      if (!(await store.acknowledge(alarm.id, by, request.body.note, now)))
        throw new ConflictError(`the alarm is ${alarm.state}; only an open alarm is acknowledged`, {
          state: alarm.state,
        });
      const after = store.get(alarm.id) as AlarmRecord;
      deps.events.emit('alarm.changed', { alarm: after, change: 'acknowledged', at: now });
      request.auditNote = { target: { type: 'alarm', id: alarm.id }, after: { note: request.body.note } };
      return toAlarm(after);
    },
  );

  app.get(
    '/incidents',
    {
      // Police read outages without their clusters: GET /outages.
      config: { access: readers },
      schema: {
        tags,
        summary:
          'Village outages: devices of one village that dropped together, and the cameras blind because of it',
        querystring: outageQuery('false', 'true: only those not over'),
        response: {
          200: z.object({ items: z.array(IncidentSchema), total: z.int(), limit: z.int(), offset: z.int() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const found = outagesFor(request, request.query);
      return { items: found.items.map(toIncident), total: found.total, limit, offset };
    },
  );

  app.get(
    '/outages',
    {
      config: { access: [...readers, 'police'] },
      schema: {
        tags,
        summary:
          'Village outages and the cameras blind because of them, for the camera wall (police included)',
        description:
          'The same outages as GET /incidents, without their speaker clusters; live as the Socket.IO event ' +
          '`outages.changed`. Newest first.',
        querystring: outageQuery('true', 'false: those over too'),
        response: {
          200: z.object({ items: z.array(OutageSchema), total: z.int(), limit: z.int(), offset: z.int() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const found = outagesFor(request, request.query);
      return {
        items: found.items.map((i) => outageView(i, deps.villageName(i.villageId), deps.cameraName)),
        total: found.total,
        limit,
        offset,
      };
    },
  );

  app.get(
    '/alarm-rules/:communeId',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: "A commune's alarm rules: its own where it set them, the platform's defaults elsewhere",
        params: z.object({ communeId: SlugSchema }),
        response: { 200: z.object({ items: z.array(AlarmRuleSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const { communeId } = request.params;
      assertInScope(request, communeId, 'commune', communeId);
      registry.getCommune(communeId);
      return { items: store.rules(communeId) };
    },
  );

  app.patch(
    '/alarm-rules/:communeId/:kind',
    {
      config: { access: ['technician'], audit: 'alarm.rule.update' },
      schema: {
        tags,
        summary: 'Change one alarm rule of a commune',
        params: z.object({ communeId: SlugSchema, kind: z.enum(ALARM_KINDS) }),
        body: AlarmRulePatchSchema,
        response: { 200: AlarmRuleSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { communeId, kind } = request.params;
      assertInScope(request, communeId, 'commune', communeId);
      registry.getCommune(communeId);
      const current = store.rules(communeId).find((r) => r.kind === kind);
      if (!current) throw new NotFoundError('alarm rule', kind);
      const rule = { ...current, ...request.body, custom: true };
      await store.setRule(communeId, rule, request.principal?.username ?? null, clock.now());
      deps.engine.rulesChanged(communeId);
      request.auditNote = {
        target: { type: 'alarm-rule', id: `${communeId}/${kind}` },
        before: current,
        after: rule,
      };
      return rule;
    },
  );

  app.get(
    '/maintenance',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Maintenance windows not over yet: their devices’ alarms are held',
        querystring: z.object({ communeId: SlugSchema.optional() }),
        response: { 200: z.object({ items: z.array(MaintenanceSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const scope = communeScope(request, request.query.communeId);
      const communeIds = scope.communeId ? [scope.communeId] : scope.communeIds;
      return { items: store.maintenance(clock.now(), communeIds).map(toWindow) };
    },
  );

  app.post(
    '/maintenance',
    {
      config: { access: ['technician'], audit: 'maintenance.create' },
      schema: {
        tags,
        summary: 'Mark devices or a village under maintenance for a time',
        description:
          'Alarms of these devices are kept but held (sent to nobody), and their downtime in the window is ' +
          'reported apart in availability.',
        body: MaintenanceCreateSchema,
        response: { 201: MaintenanceSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const now = clock.now();
      const startsAt = body.startsAt ? Date.parse(body.startsAt) : now;
      const endsAt = Date.parse(body.endsAt);
      if (endsAt <= Math.max(now, startsAt)) {
        const message = 'must be after the start and in the future';
        throw new InvalidRequestError(`body.endsAt: ${message}`, [{ field: 'body.endsAt', message }]);
      }
      let communeId: string;
      let deviceIds: string[];
      if (body.villageId) {
        communeId = registry.getVillage(body.villageId).communeId;
        deviceIds = deps.devicesOfVillage(body.villageId);
      } else {
        deviceIds = [...new Set(body.deviceIds ?? [])];
        const places = deviceIds.map((id) => ({ id, place: deps.placeOf(id) }));
        const unknown = places.find((p) => !p.place);
        if (unknown) throw new NotFoundError('device', unknown.id);
        const communes = new Set(places.map((p) => p.place?.communeId));
        if (communes.size > 1)
          throw new InvalidRequestError('body.deviceIds: the devices of one commune at a time');
        communeId = [...communes][0] as string;
      }
      assertInScope(request, communeId, 'commune', communeId);
      if (body.communeId && body.communeId !== communeId) throw new NotFoundError('commune', body.communeId);
      const window: MaintenanceRecord = {
        id: `bt-${randomBytes(5).toString('hex')}`,
        communeId,
        villageId: body.villageId ?? null,
        deviceIds,
        startsAt,
        endsAt,
        reason: body.reason,
        createdBy: request.principal?.username ?? null,
        createdAt: now,
      };
      await store.addMaintenance(window);
      request.auditNote = { target: { type: 'maintenance', id: window.id }, after: { ...toWindow(window) } };
      return reply.status(201).send(toWindow(window));
    },
  );

  app.delete(
    '/maintenance/:id',
    {
      config: { access: ['technician'], audit: 'maintenance.delete' },
      schema: {
        tags,
        summary: 'End a maintenance window now',
        description:
          'A window not started yet is removed; one under way ends now and keeps the time it ran (its ' +
          'downtime stays reported as maintenance). A window already over is not found.',
        params: z.object({ id: z.string().regex(/^bt-[0-9a-f]{10}$/) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      await store.present('maintenance_windows', request.params.id);
      const window = store.maintenance(now).find((w) => w.id === request.params.id);
      if (!window) throw new NotFoundError('maintenance window', request.params.id);
      assertInScope(request, window.communeId, 'maintenance window', window.id);
      await store.endMaintenance(window.id, now);
      request.auditNote = { target: { type: 'maintenance', id: window.id }, before: toWindow(window) };
      return reply.status(204).send(null);
    },
  );
};
