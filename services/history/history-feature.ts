import { Counter, Gauge, type Registry } from 'prom-client';
import { maintenanceSpans } from '../alarms/maintenance-downtime.js';
import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { isoTimeOrNull } from '../time.js';
import { createTelemetryStore } from './create-store.js';
import { HistoryRecorder } from './history-recorder.js';
import { type HistoryDevice, historyRoutes } from './history-routes.js';
import type { TelemetryStats, TelemetryStore } from './telemetry-store.js';

declare module '../platform/feature.js' {
  interface Provides {
    history: {
      /** The history backend: InfluxDB when INFLUX_URL is set, else the embedded store. */
      store: TelemetryStore;
      /**
       * Adds a kind of device whose history `/devices/:id/history` serves (clusters are built in):
       * `find` answers for the ids of that kind and null for any other.
       */
      addDeviceKind(find: (id: string) => HistoryDevice | null): void;
    };
  }
}

/**
 * History: heartbeats and presence transitions recorded as points (InfluxDB or the embedded
 * store), tagged with where the device sits, and `/devices/:id/history` and `/history/availability`.
 */
export function historyFeature(): Feature<'history'> {
  let store: TelemetryStore | null = null;
  let recorder: HistoryRecorder | null = null;
  return {
    name: 'history',
    dependsOn: ['registry', 'storage'],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const registry = ctx.get('registry');
      const telemetry = createTelemetryStore(config, { clock, logger });
      await telemetry.start();
      store = telemetry;
      historyMetrics(ctx.metrics, () => store?.stats() ?? null);
      // Started here, before presence, so the transitions presence replays at its start are recorded.
      recorder = new HistoryRecorder({
        events: ctx.events,
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
      recorder.start();
      const kinds: ((id: string) => HistoryDevice | null)[] = [
        (id) => {
          const cluster = registry.findCluster(id);
          return cluster
            ? { communeId: cluster.communeId, measurement: 'heartbeat', technicianOnly: false }
            : null;
        },
      ];
      const findDevice = (id: string) => {
        for (const find of kinds) {
          const device = find(id);
          if (device) return device;
        }
        return null;
      };
      ctx.routes(
        routePlugin('history-routes', historyRoutes, {
          registry,
          telemetry,
          clock,
          findDevice,
          // The alarms' maintenance windows, read from their table (alarms start later).
          maintenanceSpans: (range, communeIds) => maintenanceSpans(ctx.get('storage').db, range, communeIds),
        }),
      );
      return { store: telemetry, addDeviceKind: (find) => kinds.push(find) };
    },
    // After presence (it starts later, so stops earlier): its last transitions belong in the history.
    async stop() {
      recorder?.stop();
      recorder = null;
      const closing = store;
      store = null;
      await closing?.close();
    },
    health() {
      if (!store) return {};
      const { backend, buffered, dropped, lastError, lastErrorAt, failingSince } = store.stats();
      return {
        history: {
          backend,
          state: failingSince === null ? 'ok' : 'failing',
          failingSince: isoTimeOrNull(failingSince),
          buffered,
          dropped,
          lastError,
          lastErrorAt: isoTimeOrNull(lastErrorAt),
        },
      };
    },
  };
}

function historyMetrics(registry: Registry, stats: () => TelemetryStats | null): void {
  new Counter({
    name: 'sc_history_points_total',
    help: 'History points by outcome: written, retried (per failed attempt) and dropped',
    labelNames: ['backend', 'outcome'] as const,
    registers: [registry],
    collect() {
      const now = stats();
      this.reset();
      if (!now) return;
      for (const outcome of ['written', 'retried', 'dropped'] as const) {
        this.inc({ backend: now.backend, outcome }, now[outcome]);
      }
    },
  });
  new Gauge({
    name: 'sc_history_points_buffered',
    help: 'History points accepted but not yet written',
    labelNames: ['backend'] as const,
    registers: [registry],
    collect() {
      const now = stats();
      this.reset();
      if (now) this.set({ backend: now.backend }, now.buffered);
    },
  });
}
