import { SESSION_COOKIE } from '../api/security.js';
import type { Feature, NamespaceRequest } from '../platform/feature.js';
import { RealtimeGateway } from './realtime-gateway.js';

declare module '../platform/feature.js' {
  interface Provides {
    realtime: RealtimeGateway;
  }
}

/**
 * Socket.IO to the consoles on the API's server and session: live presence, heartbeats, camera
 * health and deliveries, each console seeing only its commune. Stopped before the API, whose
 * server its sockets would otherwise hold open.
 */
export function realtimeFeature(sources: {
  /** The namespaces features before this one asked for (ctx.namespace). */
  namespaces(): NamespaceRequest[];
}): Feature<'realtime'> {
  let gateway: RealtimeGateway | null = null;
  return {
    name: 'realtime',
    dependsOn: ['mqtt', 'accounts', 'registry', 'presence', 'cameras', 'api', 'cluster'],
    start(ctx) {
      const { config, clock, logger, options } = ctx;
      const cameras = ctx.get('cameras');
      const service = new RealtimeGateway({
        events: ctx.events,
        bus: ctx.get('mqtt').bus,
        redis: ctx.get('cluster').redis,
        auth: ctx.get('accounts'),
        registry: ctx.get('registry'),
        presence: ctx.get('presence'),
        cameras: cameras.store,
        cameraHealth: cameras.health,
        clock,
        logger,
        sessionCookie: SESSION_COOKIE,
        corsOrigins: config.CORS_ORIGINS,
        ...(options.realtimeRecheckMs ? { recheckEveryMs: options.realtimeRecheckMs } : {}),
      });
      service.start(ctx.get('api').server);
      gateway = service;
      for (const { name, roles, attach } of sources.namespaces()) attach(service.namespace(name, roles));
      return service;
    },
    async stop() {
      const stopping = gateway;
      gateway = null;
      await stopping?.stop();
    },
  };
}
