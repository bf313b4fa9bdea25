import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { TelemetryStats } from '../history/telemetry-store.js';

/** One Prometheus registry per platform instance (no global default), so tests can run several. */
export function createMetrics(live: {
  devicesOnline(): number;
  history(): TelemetryStats | null;
  listenerFailures(): { owner: string; event: string; count: number }[];
  /** Errors the platform runs through, by kind: each also on /healthz. */
  keptRunning(): { kind: string; count: number }[];
}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    rejectedMessages: new Counter({
      name: 'sc_device_messages_rejected_total',
      help: 'Device messages dropped at ingress, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'sc_mqtt_auth_failures_total',
      help: 'Refused MQTT logins, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    aclDenials: new Counter({
      name: 'sc_mqtt_acl_denials_total',
      help: 'Publishes and subscriptions refused by the topic ACL',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    mqttConnectionErrors: new Counter({
      name: 'sc_mqtt_connection_errors_total',
      help: 'MQTT connections that broke the protocol (malformed framing, a bad CONNECT, a timeout), by stage',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    httpRefused: new Counter({
      name: 'sc_http_refused_total',
      help: 'HTTP requests refused before any handler ran (401, 403, 429, malformed URLs), by method and status',
      labelNames: ['method', 'status'] as const,
      registers: [registry],
    }),
    listenerFailures: new Counter({
      name: 'sc_event_listener_failures_total',
      help: 'Event listeners that threw or rejected (the event still reached the others), by owner and event',
      labelNames: ['owner', 'event'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const { owner, event, count } of live.listenerFailures()) this.inc({ owner, event }, count);
      },
    }),
    keptRunning: new Counter({
      name: 'sc_errors_kept_running_total',
      help: 'Errors the platform ran through, by kind (schedule-expansion, audit-write, camera-poll-save)',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const { kind, count } of live.keptRunning()) this.inc({ kind }, count);
      },
    }),
    historyPoints: new Counter({
      name: 'sc_history_points_total',
      help: 'History points by outcome: written, retried (per failed attempt) and dropped',
      labelNames: ['backend', 'outcome'] as const,
      registers: [registry],
      collect() {
        const stats = live.history();
        this.reset();
        if (!stats) return;
        for (const outcome of ['written', 'retried', 'dropped'] as const) {
          this.inc({ backend: stats.backend, outcome }, stats[outcome]);
        }
      },
    }),
    historyBuffered: new Gauge({
      name: 'sc_history_points_buffered',
      help: 'History points accepted but not yet written',
      labelNames: ['backend'] as const,
      registers: [registry],
      collect() {
        const stats = live.history();
        this.reset();
        if (stats) this.set({ backend: stats.backend }, stats.buffered);
      },
    }),
    devicesOnline: new Gauge({
      name: 'sc_devices_online',
      help: 'Devices currently online',
      registers: [registry],
      collect() {
        this.set(live.devicesOnline());
      },
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
