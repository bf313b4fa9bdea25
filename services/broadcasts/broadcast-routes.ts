import { stringify } from 'csv-stringify/sync';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  BroadcastDetailSchema,
  EmergencyRequestSchema,
  LiveRequestSchema,
  ReachSchema,
  type Targets,
} from '../../contracts/broadcasts.js';
import type { Clock } from '../../devices/index.js';
import { homeCommune, type Principal } from '../accounts/roles.js';
import { errorResponses } from '../api/pagination.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import { contentMediaIds, programmeLabels } from '../media/content-audio.js';
import type { MediaLibrary } from '../media/media-library.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { formatWallTime, instantToWallTime } from '../schedules/wall-time.js';
import { isoTimeOrNull } from '../time.js';
import type { SpeechCache } from '../tts/speech-cache.js';
import type { BroadcastRecord, BroadcastStore, DeliveryRecord } from './broadcast-store.js';
import type { Dispatcher } from './dispatcher.js';
import { reachGap } from './reach.js';
import { scopedTargets } from './targets.js';
import { FINAL_DELIVERY_STATES } from './types.js';

/** 'YYYY-MM-DD HH:mm:ss' on the wall clock of `timeZone`. */
function localTime(ms: number, timeZone: string): string {
  const wall = instantToWallTime(ms, timeZone);
  return formatWallTime(wall).replace('T', ' ');
}

export interface BroadcastRouteDeps {
  dispatcher: Dispatcher;
  broadcastStore: BroadcastStore;
  registry: RegistryStore;
  media: MediaLibrary;
  speech: SpeechCache;
  clock: Clock;
  /** The platform's default time zone (TZ_DEFAULT), for a log without a commune. */
  timeZone: string;
}

const CSV_COLUMNS = [
  'date',
  'broadcast',
  'name',
  'kind',
  'level',
  'origin',
  'scheduledBy',
  'approvedBy',
  'review',
  'scheduledStart',
  'commune',
  'village',
  'cluster',
  'clusterName',
  'outcome',
  'heard',
  'reason',
  'startedAt',
  'finishedAt',
  'playedS',
  'speakersFaulty',
  'items',
] as const;

/** The broadcast log's CSV in the console's two languages: headers and coded values. */
const CSV_WORDS = {
  vi: {
    headers: {
      date: 'Ngày',
      broadcast: 'Mã bản tin',
      name: 'Tên bản tin',
      kind: 'Loại',
      level: 'Mức độ',
      origin: 'Nguồn tin',
      scheduledBy: 'Người lập',
      approvedBy: 'Người duyệt',
      review: 'Xem xét sau phát (khẩn cấp)',
      scheduledStart: 'Giờ phát dự kiến',
      commune: 'Xã',
      village: 'Thôn',
      cluster: 'Mã cụm loa',
      clusterName: 'Tên cụm loa',
      outcome: 'Kết quả',
      heard: 'Đã phát ra loa',
      reason: 'Lý do',
      startedAt: 'Bắt đầu phát',
      finishedAt: 'Kết thúc',
      playedS: 'Thời lượng phát (giây)',
      speakersFaulty: 'Loa lỗi',
      items: 'Các mục đã phát',
    },
    kind: {
      scheduled: 'Theo lịch',
      emergency: 'Khẩn cấp',
      live: 'Tiếp sóng trực tiếp',
      talk: 'Phát trực tiếp',
    },
    level: { normal: 'Thông thường', priority: 'Ưu tiên', emergency: 'Khẩn cấp' },
    state: {
      scheduled: 'Chờ gửi',
      sent: 'Đã gửi',
      accepted: 'Đã nhận',
      playing: 'Đang phát',
      done: 'Đã phát xong',
      failed: 'Lỗi',
      missed: 'Bỏ lỡ',
      'pre-empted': 'Bị bản tin ưu tiên hơn thay thế',
      expired: 'Hết hạn',
      stopped: 'Đã dừng',
    },
    review: { pending: 'Chờ xem xét', reviewed: 'Đã xem xét' },
    origin: { province: 'Tỉnh', commune: 'Xã' },
    item: { played: 'đã phát', cut: 'bị ngắt', 'not-played': 'chưa phát' },
    yes: 'Có',
    no: 'Không',
  },
  en: {
    headers: {
      date: 'Date',
      broadcast: 'Broadcast',
      name: 'Name',
      kind: 'Kind',
      level: 'Level',
      origin: 'Origin',
      scheduledBy: 'Scheduled by',
      approvedBy: 'Approved by',
      review: 'Review (emergency)',
      scheduledStart: 'Scheduled start',
      commune: 'Commune',
      village: 'Village',
      cluster: 'Cluster',
      clusterName: 'Cluster name',
      outcome: 'Outcome',
      heard: 'Heard',
      reason: 'Reason',
      startedAt: 'Started',
      finishedAt: 'Finished',
      playedS: 'Played (s)',
      speakersFaulty: 'Faulty speakers',
      items: 'Items played',
    },
    kind: { scheduled: 'scheduled', emergency: 'emergency', live: 'live relay', talk: 'live talk' },
    level: { normal: 'normal', priority: 'priority', emergency: 'emergency' },
    state: {
      scheduled: 'scheduled',
      sent: 'sent',
      accepted: 'accepted',
      playing: 'playing',
      done: 'done',
      failed: 'failed',
      missed: 'missed',
      'pre-empted': 'pre-empted',
      expired: 'expired',
      stopped: 'stopped',
    },
    review: { pending: 'pending', reviewed: 'reviewed' },
    origin: { province: 'province', commune: 'commune' },
    item: { played: 'played', cut: 'cut', 'not-played': 'not played' },
    yes: 'yes',
    no: 'no',
  },
} as const;

export const broadcastRoutes: FastifyPluginAsyncZod<{ deps: BroadcastRouteDeps }> = async (app, { deps }) => {
  const { dispatcher, registry, clock } = deps;
  const tags = ['broadcasts'];
  const operators = ['operator'] as const;

  const summarize = (deliveries: DeliveryRecord[]) => {
    const counts: Record<string, number> = {};
    for (const d of deliveries) counts[d.state] = (counts[d.state] ?? 0) + 1;
    return counts;
  };
  const toBroadcast = (b: BroadcastRecord, deliveries: DeliveryRecord[]) => ({
    id: b.id,
    kind: b.kind,
    scheduleId: b.scheduleId,
    name: b.name,
    level: b.level,
    content: b.content,
    volume: b.volume,
    repeat: b.repeat,
    startAt: isoTimeOrNull(b.startAt) as string,
    endAt: isoTimeOrNull(b.endAt) as string,
    status: b.status,
    createdBy: b.createdBy,
    stoppedAt: isoTimeOrNull(b.stoppedAt),
    stoppedBy: b.stoppedBy,
    recordingMediaId: b.recordingMediaId,
    approvedBy: b.approvedBy,
    bulletinId: b.bulletinId,
    review: b.reviewState ? { state: b.reviewState, reviewedBy: b.reviewedBy } : null,
    summary: summarize(deliveries),
  });
  const toDeliveries = (b: BroadcastRecord, deliveries: DeliveryRecord[]) => {
    const clusters = registry.clusterLabels(deliveries.map((d) => d.clusterId));
    const labels = programmeLabels(b.content);
    return deliveries.map((d) => ({
      clusterId: d.clusterId,
      clusterName: clusters.get(d.clusterId)?.name ?? null,
      villageId: clusters.get(d.clusterId)?.villageId ?? null,
      state: d.state,
      reason: d.reason,
      attempts: d.attempts,
      sentAt: isoTimeOrNull(d.sentAt),
      acceptedAt: isoTimeOrNull(d.acceptedAt),
      startedAt: isoTimeOrNull(d.startedAt),
      finishedAt: isoTimeOrNull(d.finishedAt),
      playedS: d.startedAt !== null && d.finishedAt !== null ? (d.finishedAt - d.startedAt) / 1000 : null,
      // Done means played to the end, even when the start was never reported (a report lost in a crash).
      heard:
        d.startedAt !== null || d.state === 'done'
          ? true
          : FINAL_DELIVERY_STATES.includes(d.state)
            ? false
            : null,
      speakers: d.speakers,
      items:
        labels.length === 0
          ? null
          : labels.map((label, index) => ({ index, label, outcome: d.items?.[index] ?? null })),
    }));
  };
  const switchesOf = (id: string) =>
    deps.broadcastStore.switches(id).map((s) => ({ ...s, at: isoTimeOrNull(s.at) as string }));
  /** The clusters of a commune-limited caller's communes; null for a caller who sees everything. */
  const ownClusters = (principal: Principal | null): Set<string> | null => {
    const communes = principal?.communes;
    if (!communes) return null;
    return new Set(
      registry.listClusters({ communeIds: communes }, { limit: 1_000_000, offset: 0 }).items.map((c) => c.id),
    );
  };
  const visibleDeliveries = (principal: Principal | null, deliveries: DeliveryRecord[]) => {
    const own = ownClusters(principal);
    return own ? deliveries.filter((d) => own.has(d.clusterId)) : deliveries;
  };
  const detail = (principal: Principal | null, id: string) => {
    const found = dispatcher.get(id);
    const { broadcast } = found;
    const deliveries = visibleDeliveries(principal, found.deliveries);
    if (deliveries.length === 0 && principal?.communes) throw new NotFoundError('broadcast', id);
    return {
      ...toBroadcast(broadcast, deliveries),
      deliveries: toDeliveries(broadcast, deliveries),
      switches: switchesOf(broadcast.id),
      recorded: found.recorded,
    };
  };
  const targetsFor = (principal: Principal | null, targets: Targets | undefined): Targets =>
    scopedTargets(
      { registry, resolveTargets: (t) => dispatcher.resolveTargets(t) },
      principal?.communes,
      targets,
    );
  const actorName = (principal: Principal | null) => principal?.username ?? null;
  /** An emergency never waits for approval; where a targeted commune requires it, it is reviewed after. */
  const reviewDue = (targets: Targets): boolean => {
    const required = registry.communesRequiringApproval();
    if (required.size === 0) return false;
    const communes = new Map(registry.clusterPlacements().map((c) => [c.id, c.communeId]));
    return dispatcher.resolveTargets(targets).some((id) => required.has(communes.get(id) ?? ''));
  };

  app.get(
    '/broadcasts',
    {
      config: { access: ['operator', 'approver', 'viewer'] },
      schema: {
        tags,
        summary: 'The broadcast log for a period: what played where, when, for how long, who scheduled it',
        description:
          'format=csv gives one row per cluster and broadcast, the record a commune reports upward.',
        querystring: z.object({
          from: z.iso.datetime(),
          to: z.iso.datetime(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          offset: z.coerce.number().int().min(0).default(0),
          format: z.enum(['json', 'csv']).default('json'),
          lang: z.enum(['vi', 'en']).default('vi').describe('language of the CSV headers and values'),
          review: z
            .enum(['pending', 'reviewed'])
            .optional()
            .describe('only emergencies whose review after airing is pending, or done'),
        }),
        response: {
          200: z
            .union([
              z.object({
                items: z.array(BroadcastDetailSchema),
                total: z.int(),
                limit: z.int(),
                offset: z.int(),
              }),
              z.string(),
            ])
            .describe('JSON page, or text/csv with format=csv'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { from, to, limit, offset, format } = request.query;
      const range = { from: Date.parse(from), to: Date.parse(to) };
      if (range.to <= range.from) throw new InvalidRequestError('querystring.to: must be after from');
      if (range.to - range.from > 93 * 86_400_000)
        throw new InvalidRequestError('querystring.to: at most 93 days after from');
      // A commune-limited caller's log holds what reached their communes, paged in SQL; each
      // broadcast shows only their clusters' deliveries.
      const page = format === 'csv' ? { limit: 100_000, offset: 0 } : { limit, offset };
      const result = deps.broadcastStore.list(range, page, {
        reviewState: request.query.review,
        communeIds: request.principal?.communes ?? undefined,
      });
      const own = ownClusters(request.principal);
      const items = result.items
        .map((b) => {
          const all = deps.broadcastStore.deliveries(b.id);
          return { b, deliveries: own ? all.filter((d) => own.has(d.clusterId)) : all };
        })
        .map(({ b, deliveries }) => ({
          ...toBroadcast(b, deliveries),
          deliveries: toDeliveries(b, deliveries),
          switches: switchesOf(b.id),
          recorded: true,
        }));
      if (format === 'json') return { items, total: result.total, limit, offset };
      // One row per cluster and broadcast, as the commune reports it: dated and timed in the
      // cluster's commune's own zone (a 06:00 bulletin is on its own day, not UTC's), with names.
      const words = CSV_WORDS[request.query.lang];
      const places = new Map<string, { commune: string; village: string; zone: string }>();
      const placeOf = (clusterId: string) => {
        let place = places.get(clusterId);
        if (!place) {
          const cluster = registry.findCluster(clusterId);
          const commune = cluster ? registry.getCommune(cluster.communeId) : null;
          place = {
            commune: commune?.name ?? '',
            village: cluster ? registry.getVillage(cluster.villageId).name : '',
            zone: commune?.timezone ?? deps.timeZone,
          };
          places.set(clusterId, place);
        }
        return place;
      };
      const rows = items.flatMap((b) =>
        b.deliveries.map((d) => {
          const place = placeOf(d.clusterId);
          const local = (at: string | null) => (at ? localTime(Date.parse(at), place.zone) : '');
          return {
            date: local(b.startAt).slice(0, 10),
            broadcast: b.id,
            name: b.name,
            kind: words.kind[b.kind],
            level: words.level[b.level],
            origin: words.origin[b.bulletinId ? 'province' : 'commune'],
            scheduledBy: b.createdBy ?? '',
            approvedBy: b.approvedBy ?? '',
            review: b.review ? `${words.review[b.review.state]} ${b.review.reviewedBy ?? ''}`.trim() : '',
            scheduledStart: local(b.startAt),
            commune: place.commune,
            village: place.village,
            cluster: d.clusterId,
            clusterName: d.clusterName ?? '',
            outcome: words.state[d.state],
            heard: d.heard === null ? '' : d.heard ? words.yes : words.no,
            reason: d.reason ?? '',
            startedAt: local(d.startedAt),
            finishedAt: local(d.finishedAt),
            playedS: d.playedS ?? '',
            speakersFaulty: d.speakers
              ? d.speakers
                  .filter((sp) => sp.ok === false)
                  .map((sp) => sp.idx)
                  .join(' ')
              : '',
            items: (d.items ?? [])
              .map((item) => `${item.index + 1}: ${item.outcome ? words.item[item.outcome] : '?'}`)
              .join('; '),
          };
        }),
      );
      const day = localTime(clock.now(), deps.timeZone).slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="broadcast-log-${day}.csv"`)
        .serializer((payload: string) => payload)
        .send(
          `\uFEFF${stringify(rows, {
            header: true,
            columns: CSV_COLUMNS.map((key) => ({ key, header: words.headers[key] })),
          })}`,
        );
    },
  );

  app.post(
    '/broadcasts/emergency',
    {
      config: { access: operators, audit: 'broadcast.emergency' },
      schema: {
        tags,
        summary:
          'Send an emergency bulletin now to every target, pre-empting anything lower, at forced volume',
        description: 'Answers once every cluster has acknowledged, or after waitMs with the states so far.',
        querystring: z.object({ waitMs: z.coerce.number().int().min(0).max(30_000).default(5_000) }),
        body: EmergencyRequestSchema,
        response: { 201: BroadcastDetailSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      // Text is read aloud first (a few seconds at most); a commune-limited operator plays only
      // media their communes may use.
      const content = await deps.speech.prepare(request.body.content, {
        username: actorName(request.principal),
        communeId: homeCommune(request.principal),
      });
      for (const id of contentMediaIds(content)) deps.media.getVisible(id, request.principal?.communes);
      const targets = targetsFor(request.principal, request.body.targets);
      const broadcast = dispatcher.emergency(
        { ...request.body, content, targets, reviewDue: reviewDue(targets) },
        actorName(request.principal),
      );
      request.auditNote = {
        target: { type: 'broadcast', id: broadcast.id },
        after: { name: broadcast.name, level: broadcast.level },
      };
      await dispatcher.waitForAnswers(broadcast.id, request.query.waitMs);
      return reply.status(201).send(detail(request.principal, broadcast.id));
    },
  );

  app.post(
    '/broadcasts/live',
    {
      config: { access: operators, audit: 'broadcast.live.start' },
      schema: {
        tags,
        summary: 'Relay an external live stream (e.g. provincial radio) to the targets for a time window',
        body: LiveRequestSchema,
        response: { 201: BroadcastDetailSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const broadcast = dispatcher.live(
        { ...body, targets: targetsFor(request.principal, body.targets) },
        actorName(request.principal),
      );
      request.auditNote = {
        target: { type: 'broadcast', id: broadcast.id },
        after: { name: broadcast.name, url: body.url },
      };
      return reply.status(201).send(detail(request.principal, broadcast.id));
    },
  );

  app.get(
    '/broadcasts/:id',
    {
      config: { access: ['operator', 'approver', 'viewer', 'technician'] },
      schema: {
        tags,
        summary: 'Proof of delivery: per-cluster and per-speaker outcome with timestamps',
        params: z.object({ id: z.string().regex(/^b-[0-9a-f]{12}$/) }),
        response: { 200: BroadcastDetailSchema, ...errorResponses },
      },
    },
    async (request) => detail(request.principal, request.params.id),
  );

  app.get(
    '/broadcasts/:id/reach',
    {
      config: { access: ['operator', 'approver', 'viewer', 'technician'] },
      schema: {
        tags,
        summary: 'The reach gap: villages whose clusters did not play the broadcast, to follow up',
        description:
          'Villages with at least one cluster that did not play it, worst first (none of their clusters ' +
          'played it); a village none of whose clusters played it was not reached at all.',
        params: z.object({ id: z.string().regex(/^b-[0-9a-f]{12}$/) }),
        response: { 200: ReachSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      detail(request.principal, id); // 404 for another commune's broadcast
      const { final, villages } = reachGap(
        visibleDeliveries(request.principal, dispatcher.get(id).deliveries),
        registry,
      );
      return { broadcastId: id, final, villages };
    },
  );

  app.post(
    '/broadcasts/:id/review',
    {
      config: { access: ['approver'], audit: 'broadcast.review' },
      schema: {
        tags,
        summary: 'Mark an emergency that aired without approval as reviewed',
        description:
          'Emergencies never wait; where the commune requires approval, an approver reviews them after.',
        params: z.object({ id: z.string().regex(/^b-[0-9a-f]{12}$/) }),
        body: z.strictObject({ comment: z.string().trim().max(1_000).optional() }).nullish(),
        response: { 200: BroadcastDetailSchema, ...errorResponses },
      },
    },
    async (request) => {
      detail(request.principal, request.params.id); // 404 for another commune's broadcast
      const by = actorName(request.principal) ?? 'unknown';
      const comment = request.body?.comment ?? null;
      if (!deps.broadcastStore.review(request.params.id, by, comment, clock.now()))
        throw new ConflictError('this broadcast has no review pending', {});
      request.auditNote = {
        target: { type: 'broadcast', id: request.params.id },
        after: { review: 'reviewed', comment },
      };
      return detail(request.principal, request.params.id);
    },
  );

  app.post(
    '/broadcasts/:id/stop',
    {
      config: { access: operators, audit: 'broadcast.stop' },
      schema: {
        tags,
        summary:
          'Stop a broadcast (or end a live relay) on every cluster still playing or about to; a ' +
          'commune-limited operator stops it on their commune’s clusters only',
        params: z.object({ id: z.string().regex(/^b-[0-9a-f]{12}$/) }),
        response: { 200: BroadcastDetailSchema, ...errorResponses },
      },
    },
    async (request) => {
      detail(request.principal, request.params.id); // 404 for another commune's broadcast
      const own = ownClusters(request.principal);
      await dispatcher.stopAnywhere(
        request.params.id,
        actorName(request.principal),
        own ? (clusterId) => own.has(clusterId) : undefined,
      );
      return detail(request.principal, request.params.id);
    },
  );
};
