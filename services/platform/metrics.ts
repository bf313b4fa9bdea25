import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** One Prometheus registry per platform instance (no global default), so tests can run several. */
export function createMetrics(live: { devicesOnline(): number }) {
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
