import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Namespace } from 'socket.io';
import type { Role } from '../../contracts/accounts.js';
import type { Clock } from '../../devices/index.js';
import type { HealthEntry } from '../api/health-routes.js';
import type { Config } from '../config.js';
import type { EventBus, OwnedListeners } from '../event-bus.js';
import type { PlatformOptions } from './platform.js';

/**
 * What each feature hands to the features that depend on it, by feature name. A feature adds its
 * own entry beside its `Feature` (`declare module '../platform/feature.js' { interface Provides
 * { name: What } }`), so adding a feature never edits this file.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging, one entry per feature
export interface Provides {}

export type FeatureName = keyof Provides & string;

/** A feature's Socket.IO namespace (see FeatureContext.namespace). */
export interface NamespaceRequest {
  name: string;
  roles: readonly Role[];
  // biome-ignore lint/suspicious/noExplicitAny: each feature types its own events
  attach(namespace: Namespace<any, any, Record<string, never>, any>): void;
}

/** Where the platform listens, once it does (0 ports in tests are only known then). */
export interface Endpoints {
  /** The HTTP(S) port, or null before the API listens. */
  httpPort(): number | null;
  /** Where clusters download media: the API's port and scheme, or the plain MEDIA_HTTP_PORT; null before. */
  mediaServer(): { port: number; scheme: 'http' | 'https' } | null;
  /** The embedded broker's MQTT port, or null when an external broker is used (or before it listens). */
  mqttPort(): number | null;
}

/** What a feature is given at start: the platform's shared parts and the features it depends on. */
export interface FeatureContext {
  readonly config: Config;
  /** The platform's logger, with `feature` set to this feature's name. */
  readonly logger: Logger;
  readonly clock: Clock;
  readonly events: EventBus;
  /** Subscribes under the feature's name: counted by it when it fails, and removed after its stop. */
  readonly on: OwnedListeners['on'];
  /** The Prometheus registry `/metrics` serves; a feature registers its own counters in it. */
  readonly metrics: Registry;
  readonly options: Readonly<PlatformOptions>;
  readonly endpoints: Endpoints;
  /** What a feature named in `dependsOn` provides; any other name throws (dependencies are declared). */
  get<N extends FeatureName>(name: N): Provides[N];
  /**
   * Adds the feature's HTTP routes under `/api/v1`: a named plugin (see `routePlugin`). Only before
   * the API starts; features with routes are listed before it.
   */
  routes(plugin: FastifyPluginAsync): void;
  /**
   * Adds a Socket.IO namespace of the feature's own on the console's connection (same session),
   * open to accounts holding one of `roles` (and admins); `attach` receives it once realtime runs.
   */
  namespace(request: NamespaceRequest): void;
  /** Counts an error the feature runs through, on `sc_errors_kept_running_total{kind}`. */
  keptRunning(kind: string, count: () => number): void;
}

/**
 * One capability of the platform, with its own folder under `services/`: its store, its service,
 * its HTTP routes, its event subscriptions and its health entry. The platform starts features in
 * the order of its list (each after those it depends on), calls `ready` on each once all have
 * started and the API listens, and stops them in reverse order, every stop awaited even when an
 * earlier one failed.
 */
export interface Feature<N extends FeatureName = FeatureName> {
  readonly name: N;
  readonly dependsOn: readonly FeatureName[];
  start(ctx: FeatureContext): Promise<Provides[N]> | Provides[N];
  /** Work that needs the whole platform serving (a listening port, every route), after every start. */
  ready?(): Promise<void> | void;
  stop(): Promise<void> | void;
  /** This feature's part of `/healthz`. */
  health?(): HealthEntry;
}
