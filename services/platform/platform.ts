import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import type { LoginThrottleOptions } from '../../broker/login-throttle.js';
import { type Clock, systemClock } from '../../devices/index.js';
import { accountsFeature } from '../accounts/accounts-feature.js';
import type { AuthService } from '../accounts/auth-service.js';
import type { ScryptParams } from '../accounts/passwords.js';
import type { AlarmEngine } from '../alarms/alarm-engine.js';
import type { AlarmStore } from '../alarms/alarm-store.js';
import { alarmsFeature } from '../alarms/alarms-feature.js';
import { apiFeature, type Listening } from '../api/api-feature.js';
import { auditFeature } from '../audit/audit-feature.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BroadcastStore } from '../broadcasts/broadcast-store.js';
import { broadcastsFeature } from '../broadcasts/broadcasts-feature.js';
import type { Dispatcher } from '../broadcasts/dispatcher.js';
import type { BulletinService } from '../bulletins/bulletin-service.js';
import { bulletinsFeature } from '../bulletins/bulletins-feature.js';
import { BurstLogger } from '../burst-logger.js';
import type { CameraHealthService } from '../cameras/camera-health-service.js';
import type { CameraStore } from '../cameras/camera-store.js';
import { camerasFeature } from '../cameras/cameras-feature.js';
import { clusterFeature } from '../cluster/cluster-feature.js';
import { clustersFeature } from '../clusters/clusters-feature.js';
import { commandsFeature } from '../commands/commands-feature.js';
import type { Config } from '../config.js';
import { demoFeature } from '../demo/demo-feature.js';
import type { DemoSimulators } from '../demo/demo-routes.js';
import { EventBus } from '../event-bus.js';
import { firmwareFeature } from '../firmware/firmware-feature.js';
import { historyFeature } from '../history/history-feature.js';
import type { TelemetryStore } from '../history/telemetry-store.js';
import type { DeviceIngress } from '../ingress/device-ingress.js';
import { ingressFeature } from '../ingress/ingress-feature.js';
import { liveFeature } from '../live/live-feature.js';
import type { LiveService } from '../live/live-service.js';
import type { MediaBase } from '../media/media-base-url.js';
import { mediaFeature } from '../media/media-feature.js';
import type { MediaLibrary } from '../media/media-library.js';
import { dynsecFeature } from '../mqtt/dynsec-feature.js';
import { emqxHooksFeature } from '../mqtt/emqx-hooks-feature.js';
import { mqttFeature } from '../mqtt/mqtt-feature.js';
import { notificationsFeature } from '../notifications/notifications-feature.js';
import { presenceFeature } from '../presence/presence-feature.js';
import type { PresenceService } from '../presence/presence-service.js';
import { readinessFeature } from '../readiness/readiness-feature.js';
import { realtimeFeature } from '../realtime/realtime-feature.js';
import type { RealtimeGateway } from '../realtime/realtime-gateway.js';
import { registryFeature } from '../registry/registry-feature.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { ReportService } from '../reports/report-service.js';
import { reportsFeature } from '../reports/reports-feature.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import { schedulesFeature } from '../schedules/schedules-feature.js';
import { sharingFeature } from '../sharing/sharing-feature.js';
import { stationsFeature } from '../stations/stations-feature.js';
import { storageFeature } from '../storage/storage-feature.js';
import { ttsFeature } from '../tts/tts-feature.js';
import type { Feature, FeatureName, Provides } from './feature.js';
import { FeatureLifecycle } from './lifecycle.js';

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
 * The platform is this list of features, started in its order (each after those it depends on),
 * told `ready` once all have started and the API listens, and stopped in reverse order, every stop
 * awaited even when an earlier one failed. A feature with routes comes before `api`.
 */
function features(
  options: PlatformOptions,
  api: Parameters<typeof apiFeature>[0],
  realtime: Parameters<typeof realtimeFeature>[0],
): Feature[] {
  return [
    clusterFeature(),
    storageFeature(),
    auditFeature(),
    accountsFeature(),
    registryFeature(),
    mqttFeature(),
    // Before the features that subscribe: the platform's own broker role is made here.
    dynsecFeature(),
    emqxHooksFeature(),
    historyFeature(),
    presenceFeature(),
    mediaFeature(),
    ttsFeature(),
    stationsFeature(),
    schedulesFeature(),
    commandsFeature(),
    firmwareFeature(),
    readinessFeature(),
    // After every feature that listens to device events, so none misses the first messages.
    ingressFeature(),
    clustersFeature(),
    broadcastsFeature(),
    reportsFeature(),
    bulletinsFeature(),
    camerasFeature(),
    alarmsFeature(),
    notificationsFeature(),
    liveFeature(),
    sharingFeature(),
    ...(options.simulators ? [demoFeature(options.simulators)] : []),
    apiFeature(api),
    realtimeFeature(realtime),
  ] as Feature[];
}

/** The composition root: nothing else constructs services. */
export class Platform {
  readonly events = new EventBus();
  readonly clock: Clock;
  private lifecycle: FeatureLifecycle | null = null;
  private listeningOn: Listening | null = null;

  constructor(private readonly options: PlatformOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    const { config, logger } = this.options;
    const clock = this.clock;
    // One Prometheus registry per platform (no global default), so tests can run several.
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    // A failing listener is counted (sc_event_listener_failures_total) and logged once per burst.
    const listenerLog = new BurstLogger(logger.child({ component: 'events' }), clock);
    this.events.onListenerFailure(({ owner, event, error }) =>
      listenerLog.warn(`${owner}:${event}`, { owner, event, err: error }, 'an event listener failed'),
    );
    const lifecycle: FeatureLifecycle = new FeatureLifecycle({
      config,
      logger,
      clock,
      events: this.events,
      metrics,
      options: this.options,
      endpoints: {
        httpPort: () => this.listeningOn?.port ?? null,
        mediaServer: () =>
          this.listeningOn && {
            port: this.listeningOn.mediaPort ?? this.listeningOn.port,
            scheme: this.listeningOn.mediaPort === null ? this.listeningOn.scheme : 'http',
          },
        mqttPort: (): number | null => lifecycle.get('mqtt')?.broker?.port ?? null,
      },
    });
    this.lifecycle = lifecycle;
    platformMetrics(metrics, this.events, () => lifecycle.keptRunning());
    await lifecycle.start(
      features(
        this.options,
        {
          routes: () => lifecycle.takeRoutes(),
          health: () => lifecycle.health(),
          listening: (listening) => {
            this.listeningOn = listening;
          },
          version: VERSION,
          webRoot: this.webRoot(),
        },
        { namespaces: () => lifecycle.takeNamespaces() },
      ),
    );
  }

  /** Stops every feature in reverse order; each stop runs even when an earlier one failed. */
  async stop(): Promise<void> {
    const lifecycle = this.lifecycle;
    this.lifecycle = null;
    this.listeningOn = null;
    await lifecycle?.stop();
  }

  private use<N extends FeatureName>(name: N): Provides[N] {
    if (!this.lifecycle?.has(name)) throw new Error('platform not started');
    return this.lifecycle.get(name) as Provides[N];
  }

  /** Where clusters download media from, how it was chosen, and a warning when they probably cannot. */
  mediaBase(): MediaBase {
    return this.use('media').base();
  }

  get httpPort(): number {
    if (this.listeningOn === null) throw new Error('HTTP server not listening');
    return this.listeningOn.port;
  }

  /** `https` when the API serves HTTPS (TLS_CERT_FILE or TLS_SELF_SIGNED), else `http`. */
  get httpScheme(): 'http' | 'https' {
    if (this.listeningOn === null) throw new Error('HTTP server not listening');
    return this.listeningOn.scheme;
  }

  get mqttPort(): number {
    const broker = this.use('mqtt').broker;
    if (!broker) throw new Error('no embedded broker (MQTT_URL is set)');
    return broker.port;
  }

  get internalMqttCredential(): { username: string; password: string } {
    return this.use('mqtt').internalCredential;
  }

  get registry(): RegistryStore {
    return this.use('registry');
  }

  get presence(): PresenceService {
    return this.use('presence');
  }

  get ingress(): DeviceIngress {
    return this.use('ingress');
  }

  get auth(): AuthService {
    return this.use('accounts');
  }

  get audit(): AuditLog {
    return this.use('audit');
  }

  get http(): FastifyInstance {
    return this.use('api');
  }

  get telemetry(): TelemetryStore {
    return this.use('history').store;
  }

  get media(): MediaLibrary {
    return this.use('media').library;
  }

  get schedules(): ScheduleService {
    return this.use('schedules');
  }

  get cameras(): CameraStore {
    return this.use('cameras').store;
  }

  get cameraHealth(): CameraHealthService {
    return this.use('cameras').health;
  }

  /** The dispatcher and the broadcast log (tools that fill or read it directly: benchmarks, tests). */
  get broadcasts(): { dispatcher: Dispatcher; store: BroadcastStore } {
    return this.use('broadcasts');
  }

  get alarms(): { store: AlarmStore; engine: AlarmEngine } {
    return this.use('alarms');
  }

  get bulletins(): BulletinService {
    return this.use('bulletins');
  }

  get reports(): ReportService {
    return this.use('reports');
  }

  get live(): LiveService {
    return this.use('live');
  }

  get realtime(): RealtimeGateway {
    return this.use('realtime');
  }

  /** Adds a lookup of what still uses a media item (names; empty when nothing does). */
  addMediaReferenceCheck(check: (mediaId: string) => string[]): void {
    this.use('media').addUse({ references: check });
  }

  /** The console's build folder when it holds a build; null keeps `/` on the API reference. */
  private webRoot(): string | null {
    const root = this.options.webRoot ?? (PACKAGE_ROOT ? join(PACKAGE_ROOT, 'dist', 'web') : null);
    return root && existsSync(join(root, 'index.html')) ? root : null;
  }
}

/** What the platform itself counts: failed event listeners, and errors features ran through. */
function platformMetrics(
  registry: Registry,
  events: EventBus,
  keptRunning: () => { kind: string; count: number }[],
): void {
  new Counter({
    name: 'sc_event_listener_failures_total',
    help: 'Event listeners that threw or rejected (the event still reached the others), by owner and event',
    labelNames: ['owner', 'event'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { owner, event, count } of events.failures()) this.inc({ owner, event }, count);
    },
  });
  new Counter({
    name: 'sc_errors_kept_running_total',
    help: 'Errors the platform ran through, by kind (schedule-expansion, audit-write, camera-poll-save)',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { kind, count } of keptRunning()) this.inc({ kind }, count);
    },
  });
}
