import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { MessageBus } from '../../broker/bus/message-bus.js';
import { MqttClientBus } from '../../broker/bus/mqtt-client-bus.js';
import type { LoginThrottleOptions } from '../../broker/login-throttle.js';
import { type BrokerSecurityEvent, LISTEN_BACKLOG, MqttBroker } from '../../broker/mqtt-broker.js';
import { type Clock, systemClock, type TimerHandle } from '../../devices/index.js';
import { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import { AccountStore } from '../accounts/account-store.js';
import { AuthService } from '../accounts/auth-service.js';
import type { ScryptParams } from '../accounts/passwords.js';
import { buildApp } from '../api/app.js';
import type { DemoSimulators } from '../api/routes/demo.js';
import { SESSION_COOKIE } from '../api/security.js';
import { AuditLog } from '../audit/audit-log.js';
import { SecurityEventDigest } from '../audit/security-digest.js';
import { BroadcastStore } from '../broadcasts/broadcast-store.js';
import { Dispatcher } from '../broadcasts/dispatcher.js';
import { CameraHealthService } from '../cameras/camera-health-service.js';
import { CameraHealthStore } from '../cameras/camera-health-store.js';
import { CameraStore } from '../cameras/camera-store.js';
import { CommandService } from '../commands/command-service.js';
import { CommandStore } from '../commands/command-store.js';
import type { Config } from '../config.js';
import { loadKeyFile } from '../crypto/key-file.js';
import { EventBus } from '../event-bus.js';
import { createTelemetryStore } from '../history/create-store.js';
import { HistoryRecorder } from '../history/history-recorder.js';
import type { TelemetryStore } from '../history/telemetry-store.js';
import { BurstLogger } from '../ingress/burst-logger.js';
import { DeviceIngress } from '../ingress/device-ingress.js';
import { MediaLibrary } from '../media/media-library.js';
import { PresenceService } from '../presence/presence-service.js';
import { PresenceStore } from '../presence/presence-store.js';
import { RealtimeGateway } from '../realtime/realtime-gateway.js';
import { RegistryStore } from '../registry/registry-store.js';
import { seedPreset } from '../registry/seed.js';
import { ScheduleService } from '../scheduling/schedule-service.js';
import { type Db, openDatabase } from '../storage/database.js';
import { DiskGuard } from '../storage/disk-guard.js';
import { loadInternalPassword } from './internal-credential.js';
import { lanAddress, type MediaBase, mediaBaseUrl } from './media-base-url.js';
import { createMetrics, type Metrics } from './metrics.js';

export interface PlatformOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Tests shorten the failed-login backoff; production uses the broker's defaults. */
  loginThrottle?: LoginThrottleOptions;
  /** Tests use a cheaper scrypt cost (it is recorded in each hash); production uses OWASP's. */
  passwordParams?: ScryptParams;
  /** Where the generated first admin password is shown, once. */
  announce?: (message: string) => void;
  /** The demo fleet runs beside the platform; the console says so. */
  demo?: boolean;
  /** The demo's simulated devices, which technicians may inject faults into from the console. */
  simulators?: DemoSimulators;
  /** The built web console; default the package's `dist/web`. Served only when it holds index.html. */
  webRoot?: string;
  /** How often console sockets' sessions are checked again; tests shorten it. */
  realtimeRecheckMs?: number;
  /** The host clusters download media from when PUBLIC_BASE_URL is unset (the demo's are local). */
  mediaHost?: string;
}

/** The package root, found by walking up from this module (source and dist/ differ in depth). */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
const PACKAGE_ROOT = packageRoot();
const VERSION = PACKAGE_ROOT
  ? (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version
  : '0.0.0';

/**
 * The composition root: builds every component with its dependencies, starts them in order and
 * stops them in reverse. Nothing else constructs services.
 */
export class Platform {
  readonly events = new EventBus();
  readonly clock: Clock;
  private db: Db | null = null;
  private diskGuard: DiskGuard | null = null;
  private broker: MqttBroker | null = null;
  private bus: MessageBus | null = null;
  private app: FastifyInstance | null = null;
  private components: {
    registry: RegistryStore;
    presence: PresenceService;
    commands: CommandService;
    ingress: DeviceIngress;
    metrics: Metrics;
    auth: AuthService;
    audit: AuditLog;
  } | null = null;
  private pruneTimer: TimerHandle | null = null;
  private auditPruneTimer: TimerHandle | null = null;
  private securityDigest: SecurityEventDigest | null = null;
  private internalPassword = '';
  private dispatcher: Dispatcher | null = null;
  /** Schedules and broadcasts each say which of theirs still use a media item, so it is not deleted. */
  private mediaReferences: ((mediaId: string) => string[])[] = [];
  private mediaLibrary: MediaLibrary | null = null;
  private telemetryStore: TelemetryStore | null = null;
  private cameraStore: CameraStore | null = null;
  private cameraHealthService: CameraHealthService | null = null;
  private realtimeGateway: RealtimeGateway | null = null;

  get realtime(): RealtimeGateway {
    if (!this.realtimeGateway) throw new Error('platform not started');
    return this.realtimeGateway;
  }

  get cameraHealth(): CameraHealthService {
    if (!this.cameraHealthService) throw new Error('platform not started');
    return this.cameraHealthService;
  }

  get cameras(): CameraStore {
    if (!this.cameraStore) throw new Error('platform not started');
    return this.cameraStore;
  }
  private historyRecorder: HistoryRecorder | null = null;

  get telemetry(): TelemetryStore {
    if (!this.telemetryStore) throw new Error('platform not started');
    return this.telemetryStore;
  }

  /** Adds a lookup of what still uses a media item (names; empty when nothing does). */
  addMediaReferenceCheck(check: (mediaId: string) => string[]): void {
    this.mediaReferences.push(check);
  }

  get media(): MediaLibrary {
    if (!this.mediaLibrary) throw new Error('platform not started');
    return this.mediaLibrary;
  }

  private scheduleService: ScheduleService | null = null;

  get schedules(): ScheduleService {
    if (!this.scheduleService) throw new Error('platform not started');
    return this.scheduleService;
  }

  constructor(private readonly options: PlatformOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    const { config, logger } = this.options;
    const clock = this.clock;
    // Before the database: on a disk already full, the reserve is given up so the platform starts.
    const disk = new DiskGuard({
      dir: config.DATA_DIR,
      reserveBytes: config.DISK_RESERVE_MB * 1024 * 1024,
      clock,
      logger,
    });
    disk.start();
    this.diskGuard = disk;
    let db: Db;
    try {
      db = openDatabase(join(config.DATA_DIR, 'smart-commune.sqlite'), logger);
    } catch (error) {
      disk.stop();
      this.diskGuard = null;
      throw error;
    }
    disk.check(); // a new DATA_DIR exists only now
    this.db = db;
    const registry = new RegistryStore(
      db,
      () => clock.now(),
      config.TZ_DEFAULT,
      (change) => this.events.emit('registry.changed', { ...change, at: clock.now() }),
    );
    if (config.SEED_PRESET !== 'none') seedPreset(registry, config.SEED_PRESET, logger);
    const metrics = createMetrics({
      devicesOnline: () => this.components?.presence.onlineCount() ?? 0,
      history: () => this.telemetryStore?.stats() ?? null,
      listenerFailures: () => this.events.failures(),
      keptRunning: () => [
        {
          kind: 'schedule-expansion',
          count: (this.scheduleService?.expansionFailures() ?? []).reduce((n, f) => n + f.count, 0),
        },
        { kind: 'audit-write', count: this.components?.audit.writeFailures ?? 0 },
        { kind: 'camera-poll-save', count: this.cameraHealthService?.stats().saveFailures ?? 0 },
      ],
    });
    // A failing listener is counted (sc_event_listener_failures_total) and logged once per burst.
    const listenerLog = new BurstLogger(logger.child({ component: 'events' }), clock);
    this.events.onListenerFailure(({ owner, event, error }) =>
      listenerLog.warn(`${owner}:${event}`, { owner, event, err: error }, 'an event listener failed'),
    );
    const audit = new AuditLog(db, clock, logger);
    this.securityDigest = new SecurityEventDigest({ audit, clock, logger });
    this.securityDigest.start();
    if (config.AUDIT_RETENTION_DAYS > 0) {
      const prune = () => {
        try {
          audit.prune(
            clock.now() - config.AUDIT_RETENTION_DAYS * 86_400_000,
            join(config.DATA_DIR, 'audit-archive'),
          );
        } catch (error) {
          logger.error({ err: error }, 'could not archive old audit entries; trying again tomorrow');
        }
      };
      prune();
      this.auditPruneTimer = clock.setInterval(prune, 86_400_000);
    }
    const auth = new AuthService({
      store: new AccountStore(db),
      clock,
      logger,
      sessionMaxMs: config.SESSION_MAX_H * 3_600_000,
      sessionIdleMs: config.SESSION_IDLE_MIN * 60_000,
      ...(this.options.passwordParams ? { passwordParams: this.options.passwordParams } : {}),
      onChange: (change) => this.events.emit('accounts.changed', { ...change, at: clock.now() }),
    });
    const admin = await auth.ensureAdmin(config.ADMIN_PASSWORD);
    if (admin) {
      audit.record({
        actor: { type: 'system', name: 'first-start' },
        action: 'user.create',
        target: { type: 'user', id: admin.user.id },
        outcome: 'success',
      });
      if (admin.generatedPassword) {
        (this.options.announce ?? ((m: string) => process.stdout.write(`${m}\n`)))(
          `First start: created the account "${admin.user.username}" with password ${admin.generatedPassword}\n` +
            'It is shown only this once. Sign in and change it (POST /api/v1/auth/password), or set ADMIN_PASSWORD before the first start.',
        );
      }
    }
    this.internalPassword = loadInternalPassword(
      config.MQTT_INTERNAL_PASSWORD,
      join(config.DATA_DIR, 'mqtt-internal-password'),
    );

    if (config.MQTT_URL) {
      const bus = new MqttClientBus({
        url: config.MQTT_URL,
        username: config.MQTT_INTERNAL_USERNAME,
        password: this.internalPassword,
        logger,
      });
      await bus.start();
      this.bus = bus;
    } else {
      const broker = new MqttBroker({
        host: config.MQTT_HOST,
        port: config.MQTT_PORT,
        maxPacketBytes: config.MQTT_MAX_PACKET_BYTES,
        internalUsername: config.MQTT_INTERNAL_USERNAME,
        internalPassword: this.internalPassword,
        authenticator: { verifyDeviceSecret: (id, secret) => registry.verifySecret(id, secret) },
        clock,
        logger,
        ...(this.options.loginThrottle ? { throttle: this.options.loginThrottle } : {}),
        // A fresh id per start: Aedes publishes a dead instance's stored wills only once that id
        // stops heartbeating, which a restart under the same id would prevent.
        ...(config.REDIS_URL
          ? {
              cluster: {
                redisUrl: config.REDIS_URL,
                brokerId: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
              },
            }
          : {}),
        hooks: {
          onClientConnected: (clientId, principal) => {
            if (principal.kind === 'device')
              this.events.emit('broker.connection', { clientId, connected: true, at: clock.now() });
          },
          onClientDisconnected: (clientId, principal, end) => {
            if (principal.kind === 'device') {
              this.events.emit('broker.connection', { clientId, connected: false, end, at: clock.now() });
            }
          },
          onSecurityEvent: (event) => this.onSecurityEvent(event),
          onConnectionError: (stage) => metrics.mqttConnectionErrors.inc({ stage }),
        },
      });
      await broker.start();
      this.broker = broker;
      this.bus = broker.createBus();
    }

    // [history] services
    const telemetry = createTelemetryStore(config, { clock, logger });
    await telemetry.start();
    this.telemetryStore = telemetry;
    const recorder = new HistoryRecorder({
      events: this.events,
      store: telemetry,
      clock,
      logger,
      locate: (id) => {
        const cluster = registry.findCluster(id);
        if (!cluster) return null;
        return {
          commune: registry.getCommune(cluster.communeId).name,
          village: registry.getVillage(cluster.villageId).name,
          kind: 'speaker-cluster',
        };
      },
    });
    this.historyRecorder = recorder;
    const presence = new PresenceService({
      events: this.events,
      store: new PresenceStore(db),
      clock,
      logger,
      heartbeatIntervalS: config.HEARTBEAT_INTERVAL_S,
      missedHeartbeats: config.HEARTBEAT_MISSED_LIMIT,
      timeoutOverrides: registry.clusterTimeouts(),
    });
    const ingress = new DeviceIngress({
      bus: this.bus,
      events: this.events,
      clock,
      logger,
      rejectedCounter: metrics.rejectedMessages,
      registeredOutputs: (id) => registry.outputMask(id),
    });
    const commands = new CommandService({
      bus: this.bus,
      events: this.events,
      store: new CommandStore(db),
      clock,
      logger,
      isOnline: (id) => presence.isOnline(id),
      // A `config` command the device acknowledged as done moves its offline timeout with its new
      // heartbeat interval (firmware that does not report the interval in its heartbeats too).
      onAcked: ({ deviceId, status, command }) => {
        if (status === 'done' && command.type === 'config' && command.heartbeatIntervalS)
          presence.setHeartbeatInterval(deviceId, command.heartbeatIntervalS);
      },
    });
    // [media] services
    const media = new MediaLibrary({
      db,
      clock,
      logger,
      dir: join(config.DATA_DIR, 'media'),
      maxBytes: config.MEDIA_MAX_MB * 1024 * 1024,
      // Read per link: the port is only known once the server listens (0 in tests).
      baseUrl: () => this.mediaBase().url,
      signingKey: loadKeyFile(join(config.DATA_DIR, 'media-signing.key')),
      isReferenced: (id) => this.mediaReferences.flatMap((check) => check(id)),
    });
    await media.start();
    this.mediaLibrary = media;
    // [schedules] services
    const schedules = new ScheduleService({
      db,
      clock,
      logger,
      registry,
      mediaDuration: (id) => this.media.get(id).durationS,
      defaultTimezone: config.TZ_DEFAULT,
      onChange: (change) => this.events.emit('schedules.changed', { ...change, at: clock.now() }),
    });
    this.scheduleService = schedules;
    this.addMediaReferenceCheck((id) => schedules.referencesMedia(id));
    // [broadcasts] services
    const broadcastStore = new BroadcastStore(db, (error) => {
      if (!disk.noteWriteError(error))
        logger.error({ err: error }, 'could not write delivery changes; retrying');
    });
    const dispatcher = new Dispatcher({
      store: broadcastStore,
      bus: this.bus,
      events: this.events,
      clock,
      logger,
      plan: schedules,
      media,
      isOnline: (id) => presence.isOnline(id),
      speakers: (id) => presence.speakersOf(id),
      leadMs: config.DISPATCH_LEAD_S * 1000,
      graceMs: config.LATE_START_GRACE_S * 1000,
      disk,
    });
    this.dispatcher = dispatcher;
    this.addMediaReferenceCheck((id) => broadcastStore.activeUsingMedia(id));
    this.components = { registry, presence, commands, ingress, metrics, auth, audit };
    this.pruneTimer = clock.setInterval(() => auth.pruneSessions(), 3_600_000);

    // Before presence, so the transitions it replays at start are recorded too.
    recorder.start();
    presence.start();
    commands.start();
    await ingress.start();

    // [cameras] services
    const cameras = new CameraStore(db, loadKeyFile(join(config.DATA_DIR, 'camera-credentials.key')), () =>
      clock.now(),
    );
    this.cameraStore = cameras;
    // Cameras are reached only on CAMERA_NETWORKS, and never on a port of the platform's own or
    // of the services it talks to (the ports are read at each check: in tests they are ephemeral).
    const servicePorts = [config.REDIS_URL, config.INFLUX_URL, config.MQTT_URL].flatMap((url) => {
      if (!url) return [];
      const parsed = new URL(url);
      return parsed.port ? [Number(parsed.port)] : [];
    });
    const cameraPolicy = new CameraAddressPolicy({
      networks: config.CAMERA_NETWORKS,
      deniedPorts: () => [
        ...servicePorts,
        this.app ? this.httpPort : config.HTTP_PORT,
        this.broker ? this.broker.port : config.MQTT_PORT,
      ],
    });
    const cameraHealth = new CameraHealthService({
      policy: cameraPolicy,
      cameras,
      store: new CameraHealthStore(db),
      events: this.events,
      telemetry,
      clock,
      logger,
      tagsOf: (id) => {
        const camera = cameras.get(id);
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
    });
    this.cameraHealthService = cameraHealth;
    cameraHealth.start();

    const app = await buildApp(
      {
        registry,
        presence,
        commands,
        ingress,
        metrics: metrics.registry,
        countRefused: (method, status) => metrics.httpRefused.inc({ method, status: String(status) }),
        dispatcher,
        broadcastStore,
        disk,
        auth,
        audit,
        listenerFailures: () => this.events.failures(),
        schedules,
        media,
        telemetry,
        cameras,
        cameraHealth,
        cameraDiscoveryInterface: config.CAMERA_DISCOVERY_INTERFACE,
        cameraPolicy,
        mediaBase: () => this.mediaBase(),
        deviceAuthFailed: ({ username, address, reason }) => {
          this.components?.metrics.authFailures.inc({ reason: `media-${reason}` });
          this.securityDigest?.record({
            type: 'auth-failed',
            via: 'media',
            clientId: username,
            username,
            address,
            reason,
          });
        },
        loginRateLimitPerMinute: config.LOGIN_RATE_LIMIT_PER_MIN,
        cookieSecure: config.COOKIE_SECURE === 'auto' ? 'auto' : config.COOKIE_SECURE === 'true',
        corsOrigins: config.CORS_ORIGINS,
        clock,
        version: VERSION,
        brokerStatus: () => ({
          embedded: this.broker !== null,
          connectedClients: this.broker ? this.broker.connectedClients : null,
        }),
        demoSimulators: this.options.simulators ?? null,
        console: {
          tileUrl: config.CONSOLE_TILE_URL,
          tileAttribution: config.CONSOLE_TILE_ATTRIBUTION,
          timeZone: config.TZ_DEFAULT,
          demo: this.options.demo ?? false,
          webRoot: this.webRoot(),
        },
      },
      { logger, trustProxy: config.TRUST_PROXY },
    );
    this.broker?.attachWebSocket(app.server);
    // [realtime] services
    const realtime = new RealtimeGateway({
      events: this.events,
      bus: this.bus,
      auth,
      registry,
      presence,
      cameras,
      cameraHealth,
      clock,
      logger,
      sessionCookie: SESSION_COOKIE,
      corsOrigins: config.CORS_ORIGINS,
      ...(this.options.realtimeRecheckMs ? { recheckEveryMs: this.options.realtimeRecheckMs } : {}),
    });
    realtime.start(app.server);
    this.realtimeGateway = realtime;
    await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT, backlog: LISTEN_BACKLOG });
    this.app = app;
    const base = this.mediaBase();
    if (base.warning) logger.warn({ mediaBaseUrl: base.url }, base.warning);
    else logger.info({ mediaBaseUrl: base.url, source: base.source }, 'clusters download media from here');
    // Last: a play names the media URL, which needs the listening port, and the acks that answer
    // the dispatcher's questions after a restart must find ingress running.
    dispatcher.start();
  }

  async stop(): Promise<void> {
    const c = this.components;
    if (this.pruneTimer) this.clock.clearInterval(this.pruneTimer);
    this.pruneTimer = null;
    if (this.auditPruneTimer) this.clock.clearInterval(this.auditPruneTimer);
    this.auditPruneTimer = null;
    // Before the app: its sockets would otherwise hold the HTTP server open.
    await this.realtimeGateway?.stop();
    this.realtimeGateway = null;
    await this.app?.close();
    this.app = null;
    await this.dispatcher?.stop();
    this.dispatcher = null;
    await this.cameraHealthService?.stop();
    this.cameraHealthService = null;
    if (c) {
      await c.ingress.stop();
      c.commands.stop();
      c.presence.stop();
    }
    // After presence, whose last transitions ("platform-stopped") belong in the history.
    this.historyRecorder?.stop();
    this.historyRecorder = null;
    await this.telemetryStore?.close();
    this.telemetryStore = null;
    await this.broker?.stop();
    await this.bus?.close();
    this.broker = null;
    this.bus = null;
    this.securityDigest?.stop();
    this.securityDigest = null;
    this.db?.close();
    this.db = null;
    this.diskGuard?.stop();
    this.diskGuard = null;
    this.components = null;
    this.scheduleService = null;
    this.mediaLibrary = null;
    this.cameraStore = null;
    // A later start() builds new stores and registers their checks again.
    this.mediaReferences = [];
  }

  /** Where clusters download media from, how it was chosen, and a warning when they probably cannot. */
  mediaBase(): MediaBase {
    const { config, mediaHost } = this.options;
    // A host given by the caller (the demo's clusters run on this PC) is used as HTTP_HOST would be.
    if (mediaHost && !config.PUBLIC_BASE_URL)
      return mediaBaseUrl({ ...config, HTTP_HOST: mediaHost }, this.httpPort, null);
    this.lan ??= lanAddress();
    return mediaBaseUrl(config, this.httpPort, this.lan);
  }
  private lan: string | null | undefined;

  get httpPort(): number {
    const address = this.requireApp().server.address();
    if (!address || typeof address === 'string') throw new Error('HTTP server not listening');
    return address.port;
  }

  get mqttPort(): number {
    if (!this.broker) throw new Error('no embedded broker (MQTT_URL is set)');
    return this.broker.port;
  }

  get internalMqttCredential(): { username: string; password: string } {
    return { username: this.options.config.MQTT_INTERNAL_USERNAME, password: this.internalPassword };
  }

  get registry(): RegistryStore {
    return this.require().registry;
  }

  get presence(): PresenceService {
    return this.require().presence;
  }

  get ingress(): DeviceIngress {
    return this.require().ingress;
  }

  get auth(): AuthService {
    return this.require().auth;
  }

  get audit(): AuditLog {
    return this.require().audit;
  }

  get http(): FastifyInstance {
    return this.requireApp();
  }

  /** The console's build folder when it holds a build; null keeps `/` on the API reference. */
  private webRoot(): string | null {
    const root = this.options.webRoot ?? (PACKAGE_ROOT ? join(PACKAGE_ROOT, 'dist', 'web') : null);
    return root && existsSync(join(root, 'index.html')) ? root : null;
  }

  private onSecurityEvent(event: BrokerSecurityEvent): void {
    const c = this.components;
    if (!c) return;
    switch (event.type) {
      case 'auth-failed':
        c.metrics.authFailures.inc({ reason: event.reason });
        this.securityDigest?.record(event);
        break;
      case 'acl-denied':
        c.metrics.aclDenials.inc({ action: event.action });
        this.securityDigest?.record(event);
        break;
      case 'oversized-packet':
        c.ingress.reject(event.clientId, '(transport)', 'oversized', `${event.size} bytes > ${event.limit}`);
        break;
    }
  }

  private require() {
    if (!this.components) throw new Error('platform not started');
    return this.components;
  }

  private requireApp(): FastifyInstance {
    if (!this.app) throw new Error('platform not started');
    return this.app;
  }
}
