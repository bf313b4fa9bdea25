import type { FastifyPluginAsync } from 'fastify';
import type { HealthEntry } from '../api/health-routes.js';
import type { Feature, FeatureContext, FeatureName, NamespaceRequest, Provides } from './feature.js';

/** What every feature's context shares; the lifecycle adds the per-feature parts. */
export type SharedContext = Omit<FeatureContext, 'on' | 'get' | 'routes' | 'namespace' | 'keptRunning'>;

/**
 * Starts a list of features in its order, each after those it depends on, tells them `ready` once
 * all have started, and stops them in reverse order, every stop awaited even when an earlier one
 * failed. A start that fails stops what had started, and the error is thrown.
 */
export class FeatureLifecycle {
  private started: Feature[] = [];
  private readonly provided = new Map<FeatureName, unknown>();
  private readonly routes: FastifyPluginAsync[] = [];
  private routesTaken = false;
  private readonly namespaces: NamespaceRequest[] = [];
  private namespacesTaken = false;
  private readonly kept: { kind: string; count: () => number }[] = [];

  constructor(private readonly shared: SharedContext) {}

  async start(list: readonly Feature[]): Promise<void> {
    checkOrder(list);
    try {
      for (const feature of list) {
        // Pushed first: a feature whose start failed half-way still has its stop called.
        this.started.push(feature);
        this.provided.set(feature.name, await feature.start(this.contextOf(feature)));
      }
      for (const feature of list) await feature.ready?.();
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  async stop(): Promise<void> {
    const failures: unknown[] = [];
    for (const feature of this.started.reverse()) {
      try {
        await feature.stop();
      } catch (error) {
        failures.push(error);
        this.shared.logger.error({ err: error, feature: feature.name }, 'a feature failed to stop');
      }
      this.shared.events.owner(feature.name).removeAll();
    }
    this.started = [];
    this.provided.clear();
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} features failed to stop`);
  }

  /** What a started feature provides; undefined before its start and after the stop. */
  get<N extends FeatureName>(name: N): Provides[N] | undefined {
    return this.provided.get(name) as Provides[N] | undefined;
  }

  has(name: FeatureName): boolean {
    return this.provided.has(name);
  }

  /** The route plugins the features added; after this, adding more is refused. */
  takeRoutes(): FastifyPluginAsync[] {
    this.routesTaken = true;
    return this.routes;
  }

  /** The Socket.IO namespaces the features asked for; after this, asking is refused. */
  takeNamespaces(): NamespaceRequest[] {
    this.namespacesTaken = true;
    return this.namespaces;
  }

  /** Errors features ran through, by kind (sc_errors_kept_running_total). */
  keptRunning(): { kind: string; count: number }[] {
    return this.kept.map(({ kind, count }) => ({ kind, count: count() }));
  }

  /** Every started feature's part of /healthz, merged (problems by entry). */
  health(): HealthEntry {
    const merged: HealthEntry = { problems: { eventListenerFailures: this.shared.events.failures() } };
    for (const feature of this.started) {
      const { problems, ...rest } = feature.health?.() ?? {};
      Object.assign(merged, rest);
      merged.problems = { ...merged.problems, ...problems };
    }
    return merged;
  }

  private contextOf(feature: Feature): FeatureContext {
    return {
      ...this.shared,
      logger: this.shared.logger.child({ feature: feature.name }),
      on: this.shared.events.owner(feature.name).on,
      get: <N extends FeatureName>(name: N): Provides[N] => {
        if (!feature.dependsOn.includes(name))
          throw new Error(`feature "${feature.name}" uses "${name}" without naming it in dependsOn`);
        return this.provided.get(name) as Provides[N];
      },
      routes: (plugin) => {
        if (this.routesTaken)
          throw new Error(
            `feature "${feature.name}" adds routes after the API started: list it before "api"`,
          );
        this.routes.push(plugin);
      },
      namespace: (request) => {
        if (this.namespacesTaken)
          throw new Error(
            `feature "${feature.name}" adds a namespace after realtime started: list it before "realtime"`,
          );
        this.namespaces.push(request);
      },
      keptRunning: (kind, count) => {
        this.kept.push({ kind, count });
      },
    };
  }
}

/** A feature must come after every feature it depends on; names are unique. */
function checkOrder(list: readonly Feature[]): void {
  const seen = new Set<string>();
  for (const feature of list) {
    if (seen.has(feature.name)) throw new Error(`feature "${feature.name}" is listed twice`);
    for (const dependency of feature.dependsOn) {
      if (!seen.has(dependency))
        throw new Error(
          `feature "${feature.name}" depends on "${dependency}", which is not listed before it`,
        );
    }
    seen.add(feature.name);
  }
}
