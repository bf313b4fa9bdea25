import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { MessageBus } from '../../broker/bus/message-bus.js';
import { MqttClientBus } from '../../broker/bus/mqtt-client-bus.js';
import { MqttBroker } from '../../broker/mqtt-broker.js';
import type { Feature } from '../platform/feature.js';
import { loadInternalPassword } from './internal-credential.js';

declare module '../platform/feature.js' {
  interface Provides {
    mqtt: {
      /** Publish and subscribe as the platform, on the embedded broker or an external one. */
      bus: MessageBus;
      /** The embedded broker; null when MQTT_URL names an external one. */
      broker: MqttBroker | null;
      /** The platform's own MQTT account, for tools on this machine. */
      internalCredential: { username: string; password: string };
    };
  }
}

/**
 * The MQTT side: the embedded Aedes broker (devices authenticated against the registry, each
 * confined to its own topics), or a client of an external broker when MQTT_URL is set. Connections
 * and refusals become `broker.connection` and `security.refused` events.
 */
export function mqttFeature(): Feature<'mqtt'> {
  let broker: MqttBroker | null = null;
  let bus: MessageBus | null = null;
  return {
    name: 'mqtt',
    dependsOn: ['registry'],
    async start(ctx) {
      const { config, clock, logger, events, options } = ctx;
      const registry = ctx.get('registry');
      const password = loadInternalPassword(
        config.MQTT_INTERNAL_PASSWORD,
        join(config.DATA_DIR, 'mqtt-internal-password'),
      );
      const counters = mqttCounters(ctx.metrics);
      ctx.on('security.refused', (event) => {
        if (event.type === 'auth-failed')
          counters.authFailures.inc({
            reason: event.via === 'media' ? `media-${event.reason}` : event.reason,
          });
        else if (event.type === 'acl-denied') counters.aclDenials.inc({ action: event.action });
      });
      if (config.MQTT_URL) {
        const client = new MqttClientBus({
          url: config.MQTT_URL,
          username: config.MQTT_INTERNAL_USERNAME,
          password,
          logger,
        });
        await client.start();
        bus = client;
      } else {
        broker = new MqttBroker({
          host: config.MQTT_HOST,
          port: config.MQTT_PORT,
          maxPacketBytes: config.MQTT_MAX_PACKET_BYTES,
          internalUsername: config.MQTT_INTERNAL_USERNAME,
          internalPassword: password,
          authenticator: { verifyDeviceSecret: (id, secret) => registry.verifySecret(id, secret) },
          clock,
          logger,
          ...(options.loginThrottle ? { throttle: options.loginThrottle } : {}),
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
                events.emit('broker.connection', { clientId, connected: true, at: clock.now() });
            },
            onClientDisconnected: (clientId, principal, end) => {
              if (principal.kind === 'device')
                events.emit('broker.connection', { clientId, connected: false, end, at: clock.now() });
            },
            onClientMoved: (clientId, principal) => {
              if (principal.kind === 'device') events.emit('broker.moved', { clientId, at: clock.now() });
            },
            onSecurityEvent: (event) =>
              events.emit('security.refused', { ...event, via: 'mqtt', at: clock.now() }),
            onConnectionError: (stage) => counters.connectionErrors.inc({ stage }),
          },
        });
        await broker.start();
        bus = broker.createBus();
      }
      return {
        bus,
        broker,
        internalCredential: { username: config.MQTT_INTERNAL_USERNAME, password },
      };
    },
    async stop() {
      const stopping = broker;
      broker = null;
      try {
        await stopping?.stop();
      } finally {
        await bus?.close();
        bus = null;
      }
    },
    health: () => ({
      broker: { embedded: broker !== null, connectedClients: broker ? broker.connectedClients : null },
    }),
  };
}

function mqttCounters(registry: Registry) {
  return {
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
    connectionErrors: new Counter({
      name: 'sc_mqtt_connection_errors_total',
      help: 'MQTT connections that broke the protocol (malformed framing, a bad CONNECT, a timeout), by stage',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
  };
}
