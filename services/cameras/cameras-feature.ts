import type { Clock, TimerHandle } from '../../devices/index.js';
import { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import { routePlugin } from '../api/route-plugin.js';
import type { Lease } from '../cluster/lease.js';
import type { SharedLatest } from '../cluster/shared-latest.js';
import { runWhileHeld, type SingletonRun } from '../cluster/singleton-loop.js';
import type { Feature } from '../platform/feature.js';
import { isoTimeOrNull } from '../time.js';
import { cameraEventRoutes } from './camera-event-routes.js';
import { CameraEventStore } from './camera-event-store.js';
import { CameraEventService } from './camera-events.js';
import { CameraHealthService } from './camera-health-service.js';
import { CameraHealthStore } from './camera-health-store.js';
import { cameraLive } from './camera-live-routes.js';
import { cameraRoutes } from './camera-routes.js';
import { CameraStore, registryCameraPlaces } from './camera-store.js';
import { sharedCameraFeeds, sharedCameraHealth } from './shared-camera-health.js';

declare module '../platform/feature.js' {
  interface Provides {
    cameras: {
      store: CameraStore;
      health: CameraHealthService;
      events: CameraEventService;
      /** The poller's lease: the alarm engine runs where the health changes it follows are seen. */
      poller: Lease;
    };
  }
}

/**
 * ONVIF security cameras: onboarding (discovery or an address on CAMERA_NETWORKS, an NVR channel
 * by channel), their sealed credentials, the health poller and its incidents, motion, tamper and
 * video loss from their ONVIF events, `/cameras` and `/camera-events`, and camera health in the
 * history.
 */
export function camerasFeature(): Feature<'cameras'> {
  let health: CameraHealthService | null = null;
  let cameraEvents: CameraEventService | null = null;
  let pollerLease: Lease | null = null;
  let shared: SharedLatest<unknown>[] = [];
  let eventsRun: SingletonRun | null = null;
  let directoryTimer: TimerHandle | null = null;
  let timerClock: Clock | null = null;
  return {
    name: 'cameras',
    dependsOn: ['storage', 'registry', 'history', 'audit', 'accounts', 'cluster'],
    async start(ctx) {
      const { config, clock, logger, endpoints } = ctx;
      timerClock = clock;
      const cluster = ctx.get('cluster');
      // With several instances one sweeps, and another takes over within CLUSTER_LEASE_MS of its death.
      const lease = cluster.lease('camera-health-poller');
      pollerLease = lease;
      const redis = cluster.redis;
      const sharing = redis
        ? sharedCameraHealth({
            redis,
            instanceId: cluster.instanceId,
            adopt: (status) => health?.adopt(status),
            logger,
          })
        : null;
      const sharingFeeds = redis
        ? sharedCameraFeeds({
            redis,
            instanceId: cluster.instanceId,
            adopt: ({ xaddr, status }) => cameraEvents?.adoptStatus(xaddr, status),
            logger,
          })
        : null;
      shared = [sharing, sharingFeeds].filter((s) => s !== null) as SharedLatest<unknown>[];
      const { db, state } = ctx.get('storage');
      const registry = ctx.get('registry');
      const history = ctx.get('history');
      const cameras = new CameraStore(
        state,
        registryCameraPlaces(db),
        await ctx.get('storage').key('camera-credentials.key'),
        () => clock.now(),
        (change) => cameraEvents?.cameraChanged(change),
      );
      await cameras.refreshDirectory();
      // Cameras are reached only on CAMERA_NETWORKS, and never on a port of the platform's own or
      // of the services it talks to (the ports are read at each check: in tests they are ephemeral).
      const servicePorts = [config.REDIS_URL, config.INFLUX_URL, config.MQTT_URL].flatMap((url) => {
        if (!url) return [];
        const parsed = new URL(url);
        return parsed.port ? [Number(parsed.port)] : [];
      });
      const policy = new CameraAddressPolicy({
        networks: config.CAMERA_NETWORKS,
        deniedPorts: () => [
          ...servicePorts,
          endpoints.httpPort() ?? config.HTTP_PORT,
          endpoints.mqttPort() ?? config.MQTT_PORT,
        ],
      });
      const service = new CameraHealthService({
        policy,
        cameras,
        store: new CameraHealthStore(state),
        events: ctx.events,
        telemetry: history.store,
        clock,
        logger,
        tagsOf: async (id) => {
          const camera = await cameras.get(id);
          return {
            commune: registry.getCommune(camera.communeId).name,
            village: camera.villageId ? registry.getVillage(camera.villageId).name : '',
            device: id,
            kind: 'camera',
          };
        },
        intervalMs: config.CAMERA_POLL_INTERVAL_S * 1000,
        concurrency: config.CAMERA_POLL_CONCURRENCY,
        callTimeoutMs: config.CAMERA_CALL_TIMEOUT_MS,
        health: {
          failuresBeforeOffline: config.CAMERA_OFFLINE_AFTER_POLLS,
          successesBeforeRecovery: config.CAMERA_RECOVERY_POLLS,
        },
        mayPoll: () => lease.held(),
        ...(sharing ? { onRecorded: (status) => sharing.share(status) } : {}),
        onCertificatesChanged: (cameraId) => cameraEvents?.trustChanged(cameraId),
      });
      health = service;
      const eventService = new CameraEventService({
        cameras,
        store: new CameraEventStore(state),
        events: ctx.events,
        clock,
        logger,
        callTimeoutMs: config.CAMERA_CALL_TIMEOUT_MS,
        concurrency: config.CAMERA_POLL_CONCURRENCY,
        policy,
        logins: {
          heldBack: (xaddr) => service.loginHeldBack(xaddr),
          report: (xaddr, outcome) => service.reportLogin(xaddr, outcome),
        },
        // The subscription pins the certificates the poller trusted, and never trusts one itself.
        trust: { pinned: (cameraId, origin) => service.certificates(cameraId)[origin] },
        ...(sharingFeeds ? { onStatus: (xaddr, status) => sharingFeeds.share({ xaddr, status }) } : {}),
      });
      cameraEvents = eventService;
      history.addDeviceKind((id) => {
        const camera = cameras.known(id);
        return camera
          ? { communeId: camera.communeId, measurement: 'camera_health', technicianOnly: true }
          : null;
      });
      ctx.keptRunning('camera-poll-save', () => service.stats().saveFailures);
      ctx.keptRunning('camera-event-save', () => eventService.stats().saveFailures);
      await service.start();
      await Promise.all(shared.map((s) => s.start()));
      await lease.start();
      // Subscribed to by the poller's holder only: one subscription per device, each event recorded once.
      eventsRun = runWhileHeld(
        lease,
        {
          resume: () => {
            eventService
              .start()
              .catch((err: unknown) => logger.error({ err }, 'camera event feeds did not start'));
          },
          pause: () => eventService.stop(),
        },
        { logger },
      );
      // Instances that do not sweep learn of cameras another one onboarded at the same pace. Alone,
      // the store's own writes keep the directory current. One refresh at a time.
      if (cluster.redis) {
        let refreshing = false;
        directoryTimer = clock.setInterval(() => {
          if (refreshing) return;
          refreshing = true;
          cameras
            .refreshDirectory()
            .catch((err: unknown) => logger.warn({ err }, 'the cameras directory could not be refreshed'))
            .finally(() => {
              refreshing = false;
            });
        }, config.CAMERA_POLL_INTERVAL_S * 1000);
      }
      ctx.routes(
        routePlugin('camera-routes', cameraRoutes, {
          cameras,
          cameraHealth: service,
          cameraEvents: eventService,
          cameraCallTimeoutMs: config.CAMERA_CALL_TIMEOUT_MS,
          registry,
          telemetry: history.store,
          clock,
          cameraPolicy: policy,
          cameraDiscoveryInterface: config.CAMERA_DISCOVERY_INTERFACE,
        }),
      );
      ctx.routes(
        routePlugin('camera-event-routes', cameraEventRoutes, { cameraEvents: eventService, clock }),
      );
      // The live view goes through the poller's trusted certificates and login backoff.
      ctx.routes(cameraLive(ctx, { cameras, policy, trust: service }));
      return { store: cameras, health: service, events: eventService, poller: lease };
    },
    async stop() {
      const stopping = [health, cameraEvents];
      const [lease, sharing, feeds] = [pollerLease, shared, eventsRun];
      eventsRun = null;
      if (directoryTimer !== null) timerClock?.clearInterval(directoryTimer);
      directoryTimer = null;
      health = null;
      cameraEvents = null;
      pollerLease = null;
      shared = [];
      await feeds?.stop();
      await Promise.all(stopping.map((s) => s?.stop()));
      // Released once the last sweep has ended, so the next holder starts at once.
      await Promise.all([lease?.stop(), ...sharing.map((s) => s.stop())]);
    },
    health() {
      if (!health) return {};
      const { unsavedCameras, saveFailures, lastSaveError, lastSaveErrorAt } = health.stats();
      return {
        problems: {
          cameraPollsUnsaved: {
            cameras: unsavedCameras,
            failures: saveFailures,
            lastError: lastSaveError,
            lastErrorAt: isoTimeOrNull(lastSaveErrorAt),
          },
        },
      };
    },
  };
}
