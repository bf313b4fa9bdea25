import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AGGREGATES, AvailabilityReportSchema, HistoryResponseSchema } from '../../contracts/history.js';
import { ErrorSchema } from '../../contracts/pages.js';
import type { Clock } from '../../devices/index.js';
import { DeviceIdSchema } from '../../devices/index.js';
import { type Spans, type SplitAvailability, splitMaintenance } from '../alarms/maintenance-downtime.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, communeScope } from '../api/security.js';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { ClusterRecord } from '../registry/cluster-record.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { zoneOffsetMs } from '../schedules/wall-time.js';
import { isoTime } from '../time.js';
import { availabilityOf, uptimePercent } from './availability.js';
import { type Measurement, numericFieldsOf } from './measurements.js';
import { MAX_RAW_POINTS, parseWindow } from './series-query.js';
import type { TelemetryStore } from './telemetry-store.js';

/** A device whose history the API serves: its commune, its measurement and who may read it. */
export interface HistoryDevice {
  communeId: string;
  measurement: Measurement;
  /** Cameras are the police's and the technicians' business; broadcast operators see clusters. */
  technicianOnly: boolean;
}

export interface HistoryRouteDeps {
  registry: RegistryStore;
  telemetry: TelemetryStore;
  clock: Clock;
  /** The device an id names, of any kind the features added; null when none knows it. */
  findDevice(id: string): HistoryDevice | null;
  /** Per device, the spans maintenance windows covered: their downtime is reported apart. */
  maintenanceSpans(
    range: { from: number; to: number },
    communeIds: readonly string[] | null,
  ): Map<string, Spans>;
}

const DAY = 86_400_000;
/** The longest availability report: a year and a bit, so "last 12 months" always fits. */
const MAX_REPORT_DAYS = 400;

const Instant = z.iso.datetime({ offset: true }).transform((v) => Date.parse(v));

const HistoryQuerySchema = z.object({
  field: z
    .enum([...new Set([...numericFieldsOf('heartbeat'), ...numericFieldsOf('camera_health')])] as [
      string,
      ...string[],
    ])
    .describe('a heartbeat field for a cluster, a camera_health field for a camera (docs/history.md)'),
  from: Instant.optional().describe('ISO 8601 start (inclusive); default 24 h before "to"'),
  to: Instant.optional().describe('ISO 8601 end (exclusive); default now'),
  window: z
    .string()
    .regex(/^\d{1,6}(s|m|h|d)$/, 'a duration such as 30s, 5m, 1h or 1d')
    .optional()
    .describe('aggregate into windows of this length; days start at local midnight'),
  agg: z.enum(AGGREGATES).default('mean').describe('how each window is aggregated'),
  limit: z.coerce.number().int().min(1).max(MAX_RAW_POINTS).default(1000),
});

const ReportQuerySchema = PageQuerySchema.extend({
  from: Instant.optional().describe('default 24 h before "to"'),
  to: Instant.optional().describe('default now; a later time counts only up to now'),
  communeId: z.string().optional(),
  villageId: z.string().optional(),
});

function summarise(parts: readonly SplitAvailability[]) {
  const sum = { onlineMs: 0, offlineMs: 0, unknownMs: 0, maintenanceMs: 0 };
  for (const p of parts) {
    sum.onlineMs += p.onlineMs;
    sum.offlineMs += p.offlineMs;
    sum.unknownMs += p.unknownMs;
    sum.maintenanceMs += p.maintenanceMs;
  }
  return {
    uptimePct: uptimePercent(sum),
    onlineS: sum.onlineMs / 1000,
    offlineS: sum.offlineMs / 1000,
    maintenanceS: sum.maintenanceMs / 1000,
    unknownS: sum.unknownMs / 1000,
  };
}

/** Heartbeat history per device, and availability per device and village over a range. */
export const historyRoutes: FastifyPluginAsyncZod<{ deps: HistoryRouteDeps }> = async (app, { deps }) => {
  const { registry, telemetry, clock } = deps;

  const range = (from: number | undefined, to: number | undefined, maxDays: number) => {
    const end = to ?? clock.now();
    const start = from ?? end - DAY;
    if (start >= end) throw new InvalidRequestError('"from" must be before "to"', { field: 'from' });
    if (end - start > maxDays * DAY) {
      throw new InvalidRequestError(`the range is longer than ${maxDays} days`, { field: 'from' });
    }
    return { start, end };
  };

  app.get(
    '/devices/:id/history',
    {
      config: { access: ['operator', 'technician'] },
      schema: {
        tags: ['history'],
        summary: "A cluster's heartbeat or a camera's health history: raw points, or aggregated into windows",
        description:
          'Raw points (no window) come back ascending, at most "limit" of them; "next" continues. ' +
          'With a window, each window gives one value (empty windows are left out); windows of whole ' +
          "days start at midnight in the commune's time zone.",
        params: z.object({ id: DeviceIdSchema }),
        querystring: HistoryQuerySchema,
        response: { 200: HistoryResponseSchema, ...errorResponses, 503: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      // A device id is a cluster's or a camera's; each kind has its own measurement.
      const device = deps.findDevice(id);
      if (!device) throw new NotFoundError('device', id);
      assertInScope(request, device.communeId, 'device', id);
      const roles = request.principal?.roles ?? [];
      if (device.technicianOnly && !roles.includes('technician') && !roles.includes('admin'))
        throw new ForbiddenError("a camera's health history is for technicians");
      const q = request.query;
      const { start, end } = range(q.from, q.to, 3660);
      const windowMs = q.window ? parseWindow(q.window) : null;
      if (q.window && !windowMs) throw new InvalidRequestError('window: not a duration', { field: 'window' });
      let window: { ms: number; offsetMs: number; agg: (typeof AGGREGATES)[number] } | undefined;
      if (windowMs) {
        // Windows align to the commune's local midnight (InfluxQL's GROUP BY time offset).
        const zone = registry.getCommune(device.communeId).timezone;
        const offset = -zoneOffsetMs(start, zone);
        window = { ms: windowMs, offsetMs: ((offset % windowMs) + windowMs) % windowMs, agg: q.agg };
      }
      const result = await telemetry.query({
        measurement: device.measurement,
        device: id,
        field: q.field,
        from: start,
        to: end,
        limit: q.limit,
        ...(window ? { window } : {}),
      });
      const last = result.points.at(-1);
      const next = result.truncated && last ? last.at + (window ? window.ms : 1) : null;
      return {
        deviceId: id,
        field: q.field,
        from: isoTime(start),
        to: isoTime(end),
        window: q.window ?? null,
        agg: window ? q.agg : null,
        points: result.points.map((p) => ({ at: isoTime(p.at), value: p.value })),
        next: next === null ? null : isoTime(next),
      };
    },
  );

  app.get(
    '/reports/availability',
    {
      config: { access: ['operator', 'technician'] },
      schema: {
        tags: ['history'],
        summary: 'Uptime per device and per village over a range, from the presence history',
        description:
          'Uptime counts only time whose state is known: a cluster installed mid-range is not ' +
          'reported down for the days before it was first heard of. Devices are paged; villages and ' +
          'the overall figure cover every device matching the filter.',
        querystring: ReportQuerySchema,
        response: { 200: AvailabilityReportSchema, ...errorResponses, 503: ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const communes = communeScope(request, q.communeId);
      if (q.villageId) {
        const village = registry.getVillage(q.villageId);
        assertInScope(request, village.communeId, 'village', q.villageId);
      }
      const { start, end } = range(q.from, q.to, MAX_REPORT_DAYS);
      // Time after now is neither up nor down yet.
      const until = Math.min(end, clock.now());
      const clusters: ClusterRecord[] = [];
      for (let offset = 0; ; offset += 500) {
        const page = registry.listClusters({ ...communes, villageId: q.villageId }, { limit: 500, offset });
        clusters.push(...page.items);
        if (clusters.length >= page.total || page.items.length === 0) break;
      }
      const whole =
        until > start
          ? await telemetry.availability({ devices: clusters.map((c) => c.id), from: start, to: until })
          : clusters.map((c) =>
              availabilityOf({ device: c.id, before: null, transitions: [] }, start, start),
            );
      // Downtime inside a maintenance window is planned work: reported apart, not against uptime.
      const results =
        until > start
          ? await splitMaintenance(
              whole,
              deps.maintenanceSpans(
                { from: start, to: until },
                communes.communeId ? [communes.communeId] : (communes.communeIds ?? null),
              ),
              (query) => telemetry.availability(query),
            )
          : whole.map((r) => ({ ...r, maintenanceMs: 0 }));
      const byDevice = new Map(results.map((r) => [r.device, r]));
      const of = (c: ClusterRecord): SplitAvailability =>
        byDevice.get(c.id) ?? {
          device: c.id,
          onlineMs: 0,
          offlineMs: 0,
          unknownMs: until - start,
          maintenanceMs: 0,
        };
      const villages = new Map<string, ClusterRecord[]>();
      for (const c of clusters) villages.set(c.villageId, [...(villages.get(c.villageId) ?? []), c]);
      return {
        from: isoTime(start),
        to: isoTime(end),
        overall: { ...summarise(clusters.map(of)), devices: clusters.length },
        villages: [...villages].map(([villageId, members]) => ({
          id: villageId,
          name: registry.getVillage(villageId).name,
          devices: members.length,
          ...summarise(members.map(of)),
        })),
        devices: {
          items: clusters.slice(q.offset, q.offset + q.limit).map((c) => ({
            id: c.id,
            name: c.name,
            villageId: c.villageId,
            ...summarise([of(c)]),
          })),
          total: clusters.length,
          limit: q.limit,
          offset: q.offset,
        },
      };
    },
  );
};
