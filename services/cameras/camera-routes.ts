import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  type Camera,
  CameraCreateSchema,
  type CameraHealth,
  CameraIncidentSchema,
  CameraPatchSchema,
  CameraWithHealthSchema,
  ChannelProbeRequestSchema,
  ChannelProbeResultSchema,
  DiscoveryRequestSchema,
  DiscoveryResultSchema,
  PollResultSchema,
} from '../../contracts/cameras.js';
import { ErrorSchema, pagedSchema } from '../../contracts/pages.js';
import { SlugSchema } from '../../contracts/registry.js';
import { type Clock, DeviceIdSchema } from '../../devices/index.js';
import type { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import { inventoryDevice } from '../../devices/onvif-camera/device-inventory.js';
import { changes, summary } from '../api/audit-summary.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, communeScope, inScope } from '../api/security.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { uptimePercent } from '../history/availability.js';
import type { TelemetryStore } from '../history/telemetry-store.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { isoTime } from '../time.js';
import type { CameraEventService } from './camera-events.js';
import type { CameraHealthService } from './camera-health-service.js';
import type { CameraStore } from './camera-store.js';
import { discoverCameras } from './discovery.js';

const IdParams = z.object({ id: DeviceIdSchema });
/** host:port of a device-service address, as the camera is reached; the path may change freely. */
const originOf = (xaddr: string) => {
  try {
    return new URL(xaddr).origin;
  } catch {
    return xaddr;
  }
};
export interface CameraRouteDeps {
  /** Onboarded cameras; passwords stay sealed inside. */
  cameras: CameraStore;
  /** Camera health from the poller, incidents and latest snapshots. */
  cameraHealth: CameraHealthService;
  /** The cameras' event subscriptions, shown beside their health. */
  cameraEvents: CameraEventService;
  /** Budget of each call to a camera (CAMERA_CALL_TIMEOUT_MS). */
  cameraCallTimeoutMs: number;
  registry: RegistryStore;
  telemetry: TelemetryStore;
  clock: Clock;
  /** Where cameras may be onboarded (CAMERA_NETWORKS, never the platform's own ports). */
  cameraPolicy: CameraAddressPolicy;
  /** The network interface WS-Discovery probes from when a request names none. */
  cameraDiscoveryInterface: string | undefined;
}

const DAY = 86_400_000;
const isoOrNull = (ms: number | null) => (ms === null ? null : isoTime(ms));

/**
 * Camera onboarding and health. Technicians onboard (from discovery or by address) and poll on
 * demand; police read health, snapshots, uptime and incidents. Passwords never leave the store.
 */
export const cameraRoutes: FastifyPluginAsyncZod<{ deps: CameraRouteDeps }> = async (app, { deps }) => {
  /** An address the platform may not reach (CAMERA_NETWORKS, its own ports) is refused at onboarding. */
  const checkAddress = (xaddr: string) => {
    const refusal = deps.cameraPolicy.refusal(xaddr);
    if (refusal) throw new InvalidRequestError(`body.xaddr: ${refusal}`);
  };
  /**
   * A separate snapshot account is a user and a password together: one without the other would
   * send the snapshot URI half an account.
   */
  const checkSnapshotAccount = (username: string | null, password: 'given' | 'stored' | 'none') => {
    if (username !== null && password === 'none')
      throw new InvalidRequestError('body.snapshotPassword: required with snapshotUsername');
    if (username === null && password === 'given')
      throw new InvalidRequestError('body.snapshotUsername: required with snapshotPassword');
  };
  const { cameras, registry, cameraHealth, cameraEvents, telemetry, clock } = deps;
  const tags = ['cameras'];
  const readers = ['police', 'technician'] as const;
  const installers = ['technician'] as const;
  const visible = async (request: Parameters<typeof inScope>[0], id: string): Promise<Camera> => {
    const camera = await cameras.get(id);
    assertInScope(request, camera.communeId, 'camera', id);
    return camera;
  };
  const checkVillage = (
    request: Parameters<typeof inScope>[0],
    communeId: string,
    villageId?: string | null,
  ) => {
    if (!villageId) return;
    const village = registry.getVillage(villageId);
    if (village.communeId !== communeId || !inScope(request, village.communeId))
      throw new NotFoundError('village', villageId);
  };
  const healthOf = (id: string): CameraHealth => {
    const h = cameraHealth.status(id);
    return {
      state: h.state,
      since: isoTime(h.since),
      reason: h.reason,
      detail: h.detail,
      lastPollAt: isoOrNull(h.lastPollAt),
      lastOkAt: isoOrNull(h.lastOkAt),
      snapshotAt: isoOrNull(cameraHealth.snapshot(id)?.at ?? null),
    };
  };
  /** Joins each camera with its health and its uptime over the last day and week (two reads). */
  const withHealth = async (list: Camera[]) => {
    const now = clock.now();
    const devices = list.map((c) => c.id);
    const [day, week] =
      devices.length === 0
        ? [[], []]
        : await Promise.all([
            telemetry.availability({ devices, from: now - DAY, to: now }),
            telemetry.availability({ devices, from: now - 7 * DAY, to: now }),
          ]);
    return list.map((camera, i) => {
      const d = day[i];
      const w = week[i];
      const feed = cameraEvents.feedOf(camera);
      return {
        ...camera,
        health: healthOf(camera.id),
        events: feed && {
          state: feed.state,
          kinds: feed.kinds,
          since: isoTime(feed.since),
          reason: feed.reason,
          lastError: feed.lastError,
        },
        uptime: { last24hPct: d ? uptimePercent(d) : null, last7dPct: w ? uptimePercent(w) : null },
      };
    });
  };
  const one = async (camera: Camera) =>
    (await withHealth([camera]))[0] as Awaited<ReturnType<typeof withHealth>>[0];

  app.get(
    '/cameras',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Cameras with their health, since when, and uptime over 24 h and 7 days',
        description:
          'Health comes from the poller: a camera is offline only after several unanswered polls in a ' +
          'row and back only after several good ones, so one lost packet never raises an alarm. ' +
          'With problems=true, only cameras that are not ok.',
        querystring: PageQuerySchema.extend({
          communeId: SlugSchema.optional(),
          villageId: SlugSchema.optional(),
          problems: z.enum(['true', 'false']).default('false'),
        }),
        response: { 200: pagedSchema(CameraWithHealthSchema), 503: ErrorSchema },
      },
    },
    async (request) => {
      const { villageId, limit, offset, problems } = request.query;
      const filter = { ...communeScope(request, request.query.communeId), villageId };
      if (problems === 'false') {
        const page = await cameras.list(filter, { limit, offset });
        return { ...page, items: await withHealth(page.items) };
      }
      // Health lives in memory, not in SQL: filter the commune's cameras, then page.
      const all = (await cameras.list(filter, { limit: 1_000_000, offset: 0 })).items;
      const matching = all.filter((c) => cameraHealth.status(c.id).state !== 'ok');
      return {
        items: await withHealth(matching.slice(offset, offset + limit)),
        total: matching.length,
        limit,
        offset,
      };
    },
  );

  app.post(
    '/cameras',
    {
      config: { access: installers, audit: 'camera.create' },
      schema: {
        tags,
        summary: 'Onboard a camera (or one channel of an NVR) by its ONVIF address and credentials',
        description:
          'From a discovered device (pass its endpointUrn and xaddr) or a manual address. The password ' +
          'is stored sealed (AES-256-GCM, key in DATA_DIR) and never returned. The poller checks the ' +
          'camera on its next sweep; POST …/poll checks it at once. Each channel of an NVR or ' +
          'multi-channel camera is its own camera: pass the videoSourceToken and profileToken that ' +
          'POST …/probe-channels lists; an address is unique per channel.',
        body: CameraCreateSchema,
        response: { 201: CameraWithHealthSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      assertInScope(request, request.body.communeId, 'commune', request.body.communeId);
      const commune = registry.getCommune(request.body.communeId);
      checkVillage(request, commune.id, request.body.villageId);
      checkAddress(request.body.xaddr);
      checkSnapshotAccount(
        request.body.snapshotUsername ?? null,
        request.body.snapshotPassword ? 'given' : 'none',
      );
      const camera = await cameras.create(request.body);
      request.auditNote = { target: { type: 'camera', id: camera.id }, after: summary(camera) };
      return reply.status(201).send(await one(camera));
    },
  );

  app.post(
    '/cameras/probe-channels',
    {
      config: { access: installers, audit: 'camera.probe-channels' },
      schema: {
        tags,
        summary: "List a device's channels (video sources and their profiles) before onboarding them",
        description:
          'Asks the device at xaddr, with the credentials given (never stored), for its video sources and ' +
          'profiles through ONVIF Media (and Media2 when present), and for the events it offers. Each ' +
          'channel becomes a camera with POST /cameras and its videoSourceToken and profileToken. A device ' +
          'that does not answer or refuses the credentials is reported in steps, as a poll is.',
        body: ChannelProbeRequestSchema,
        response: { 200: ChannelProbeResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { xaddr, username, password } = request.body;
      checkAddress(xaddr);
      const inventory = await inventoryDevice(
        { deviceUrl: xaddr, username, password },
        { clock, callTimeoutMs: deps.cameraCallTimeoutMs, policy: deps.cameraPolicy },
      );
      const onboarded = new Map(
        (await cameras.atAddress(xaddr)).map((c) => [c.videoSourceToken ?? '', c.id]),
      );
      request.auditNote = {
        detail: { xaddr, channels: inventory.channels.length, error: inventory.error },
      };
      return {
        reachable: inventory.reachable,
        authOk: inventory.authOk,
        media2: inventory.services?.media2Url != null,
        eventKinds: inventory.eventKinds,
        channels: inventory.channels.map((channel) => ({
          videoSourceToken: channel.videoSourceToken,
          width: channel.width,
          height: channel.height,
          framerate: channel.framerate,
          profiles: channel.profiles.map(({ token, name, encoding, width, height, service }) => ({
            token,
            name,
            encoding,
            width,
            height,
            service,
          })),
          onboardedAs: onboarded.get(channel.videoSourceToken) ?? null,
        })),
        steps: inventory.steps,
        error: inventory.error,
      };
    },
  );

  app.post(
    '/cameras/discovery',
    {
      config: { access: installers, audit: 'camera.discover' },
      schema: {
        tags,
        summary: 'Find ONVIF cameras on the local network (WS-Discovery)',
        description:
          'Sends a WS-Discovery Probe from the chosen network interface (default: CAMERA_DISCOVERY_INTERFACE, ' +
          'else the default route) and lists what answers within the timeout, marking devices already onboarded.',
        body: DiscoveryRequestSchema,
        response: { 200: DiscoveryResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const networkInterface = request.body.networkInterface ?? deps.cameraDiscoveryInterface;
      const found = await discoverCameras({
        timeoutMs: request.body.timeoutMs,
        ...(networkInterface ? { networkInterface } : {}),
      });
      const known = new Map<string, string>();
      // An NVR's channels share its address and urn: the first one onboarded names it.
      for (const c of (await cameras.list({}, { limit: 1_000_000, offset: 0 })).items) {
        if (!known.has(c.xaddr)) known.set(c.xaddr, c.id);
        if (c.endpointUrn && !known.has(c.endpointUrn)) known.set(c.endpointUrn, c.id);
      }
      request.auditNote = {
        detail: { found: found.cameras.length, networkInterface: networkInterface ?? null },
      };
      return {
        items: found.cameras.map((d) => ({
          endpointUrn: d.endpointUrn,
          xaddr: d.xaddr,
          name: d.name,
          hardware: d.hardware,
          location: d.location,
          from: d.from,
          onboardedAs: known.get(d.endpointUrn) ?? known.get(d.xaddr) ?? null,
        })),
      };
    },
  );

  app.get(
    '/cameras/:id',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Get a camera with its health',
        params: IdParams,
        response: { 200: CameraWithHealthSchema, ...errorResponses, 503: ErrorSchema },
      },
    },
    async (request) => one(await visible(request, request.params.id)),
  );

  app.get(
    '/cameras/:id/snapshot',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'The latest good snapshot the poller took (image/jpeg)',
        params: IdParams,
        response: { 200: z.any().describe('a JPEG image'), ...errorResponses },
      },
    },
    async (request, reply) => {
      await visible(request, request.params.id);
      const snapshot = cameraHealth.snapshot(request.params.id);
      if (!snapshot) throw new NotFoundError('snapshot', request.params.id);
      reply.header('content-type', 'image/jpeg');
      reply.header('last-modified', new Date(snapshot.at).toUTCString());
      reply.header('cache-control', 'private, no-cache');
      return reply.send(snapshot.jpeg);
    },
  );

  app.get(
    '/cameras/:id/incidents',
    {
      config: { access: readers },
      schema: {
        tags,
        summary: 'Periods the camera was offline or refused the platform, newest first',
        params: IdParams,
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(CameraIncidentSchema), ...errorResponses },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const now = clock.now();
      const page = await cameraHealth.incidents(request.params.id, request.query);
      return {
        ...page,
        items: page.items.map((i) => ({
          id: i.id,
          kind: i.kind,
          startedAt: isoTime(i.startedAt),
          endedAt: isoOrNull(i.endedAt),
          durationS: ((i.endedAt ?? now) - i.startedAt) / 1000,
          reason: i.reason.code,
          detail: i.reason.detail,
        })),
      };
    },
  );

  app.post(
    '/cameras/:id/poll',
    {
      config: { access: installers, audit: 'camera.poll' },
      schema: {
        tags,
        summary: 'Poll the camera now and show each call it made',
        description: 'The result counts like a scheduled poll: debouncing still applies to the health.',
        params: IdParams,
        response: {
          200: PollResultSchema,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const result = await cameraHealth.poll(request.params.id);
      request.auditNote = {
        detail: { steps: result.steps.map((s) => `${s.name}:${s.ok ? 'ok' : 'failed'}`) },
      };
      return {
        steps: result.steps,
        clockDriftS: result.clockDriftS,
        streamUri: result.streamUri,
        snapshotUri: result.snapshotUri,
        health: healthOf(request.params.id),
      };
    },
  );

  app.delete(
    '/cameras/:id/certificate',
    {
      config: { access: installers, audit: 'camera.trust-certificate' },
      schema: {
        tags,
        summary: "Trust the camera's new TLS certificate (after a reset, a renewal or a swapped unit)",
        description:
          'An https camera is trusted on the certificate it first presented; one that presents another is ' +
          'refused (health reason certificate-changed) and sent no password. Once a technician has checked ' +
          'the camera on site, this forgets the trusted certificates: the next poll trusts the one the camera ' +
          'presents then. The fingerprints forgotten are kept in the audit log.',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await visible(request, request.params.id);
      const forgotten = cameraHealth.certificates(request.params.id);
      await cameraHealth.forgetCertificates(request.params.id);
      request.auditNote = {
        target: { type: 'camera', id: request.params.id },
        detail: { forgotten, reason: cameraHealth.status(request.params.id).reason },
      };
      return reply.status(204).send(null);
    },
  );

  app.patch(
    '/cameras/:id',
    {
      config: { access: installers, audit: 'camera.update' },
      schema: {
        tags,
        summary: 'Update a camera (name, place, address, credentials)',
        params: IdParams,
        body: CameraPatchSchema,
        response: { 200: CameraWithHealthSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = await visible(request, request.params.id);
      checkVillage(request, before.communeId, request.body.villageId);
      // The stored password signs every call to the address: pointed at a host of the caller's
      // choosing, it would hand them the digest to crack. A new host needs the password again,
      // typed by someone who knows it (an admin may move a camera without it).
      const { xaddr, password, snapshotUsername, snapshotPassword } = request.body;
      if (xaddr !== undefined) checkAddress(xaddr);
      const admin = request.principal?.roles.includes('admin') ?? false;
      const moves = xaddr !== undefined && !admin && originOf(xaddr) !== originOf(before.xaddr);
      if (moves && password === undefined) {
        throw new InvalidRequestError(
          "body.password: enter the camera's password again when its address moves to another host or port",
        );
      }
      const snapshotUser = snapshotUsername === undefined ? before.snapshotUsername : snapshotUsername;
      const snapshotKept =
        snapshotPassword === undefined &&
        snapshotUser !== null &&
        (await cameras.hasSnapshotPassword(before.id));
      checkSnapshotAccount(snapshotUser, snapshotPassword ? 'given' : snapshotKept ? 'stored' : 'none');
      // The snapshot password signs the snapshot requests to the new host just as well.
      if (moves && snapshotKept) {
        throw new InvalidRequestError(
          'body.snapshotPassword: enter the snapshot password again when the address moves to another host or port',
        );
      }
      const after = await cameras.update(request.params.id, request.body);
      const secrets = {
        ...(password !== undefined ? { passwordChanged: true } : {}),
        ...(snapshotPassword !== undefined ? { snapshotPasswordChanged: true } : {}),
      };
      request.auditNote = {
        ...changes(before, after),
        ...(Object.keys(secrets).length > 0 ? { detail: secrets } : {}),
      };
      return one(after);
    },
  );

  app.delete(
    '/cameras/:id',
    {
      config: { access: installers, audit: 'camera.delete' },
      schema: {
        tags,
        summary: 'Remove a camera',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const before = await visible(request, request.params.id);
      await cameras.delete(request.params.id);
      cameraHealth.forget(request.params.id);
      request.auditNote = { before: summary(before) };
      return reply.status(204).send(null);
    },
  );
};
