import { Counter } from 'prom-client';
import type { Feature } from '../platform/feature.js';
import { DeviceIngress } from './device-ingress.js';

declare module '../platform/feature.js' {
  interface Provides {
    ingress: DeviceIngress;
  }
}

/**
 * Every message from devices, validated once: accepted ones become `device.*` events, refused ones
 * are counted by reason (sc_device_messages_rejected_total) and kept per device for technicians.
 * Listed after the features that listen to device events, so none misses the first messages.
 */
export function ingressFeature(): Feature<'ingress'> {
  let ingress: DeviceIngress | null = null;
  return {
    name: 'ingress',
    dependsOn: ['mqtt', 'registry'],
    async start(ctx) {
      const registry = ctx.get('registry');
      const service = new DeviceIngress({
        bus: ctx.get('mqtt').bus,
        events: ctx.events,
        clock: ctx.clock,
        logger: ctx.logger,
        rejectedCounter: new Counter({
          name: 'sc_device_messages_rejected_total',
          help: 'Device messages dropped at ingress, by reason',
          labelNames: ['reason'] as const,
          registers: [ctx.metrics],
        }),
        registeredOutputs: (id) => registry.outputMask(id),
      });
      ingress = service;
      // An oversized packet never reaches ingress as a message; the broker tells it as a refusal.
      ctx.on('security.refused', (event) => {
        if (event.type === 'oversized-packet')
          service.reject(event.clientId, '(transport)', 'oversized', `${event.size} bytes > ${event.limit}`);
      });
      await service.start();
      return service;
    },
    async stop() {
      await ingress?.stop();
      ingress = null;
    },
  };
}
