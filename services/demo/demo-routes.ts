import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DemoFaultsSchema, FaultInjectSchema } from '../../contracts/demo.js';
import { DeviceIdSchema } from '../../devices/index.js';
import { errorResponses } from '../api/pagination.js';
import { inScope } from '../api/security.js';
import type { CameraStore } from '../cameras/camera-store.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';

/** The simulated devices of `npm run demo`, which technicians use to rehearse faults. */
export interface DemoSimulators {
  /** The device's simulated faults: what can be injected and what is active; null if not simulated. */
  faults(deviceId: string): { kinds: { kind: string; summary: string }[]; active: string[] } | null;
  /** Throws an Error with a readable message for an unknown kind or a bad argument. */
  inject(deviceId: string, kind: string, arg?: string): Promise<void>;
  clear(deviceId: string): Promise<void>;
}

const IdParams = z.object({ id: DeviceIdSchema });
/** Fault injection into the demo's simulated clusters and cameras; registered only in demo mode. */
export interface DemoRouteDeps {
  registry: RegistryStore;
  cameras: CameraStore;
  simulators: DemoSimulators;
}

export const demoRoutes: FastifyPluginAsyncZod<{ deps: DemoRouteDeps }> = async (app, { deps }) => {
  const { simulators } = deps;
  const tags = ['demo'];
  const simulated = (request: Parameters<typeof inScope>[0], id: string) => {
    const cluster = deps.registry.findCluster(id);
    const communeId = cluster?.communeId ?? deps.cameras.known(id)?.communeId;
    if (communeId === undefined) throw new NotFoundError('camera', id);
    const faults = simulators.faults(id);
    if (!inScope(request, communeId) || !faults) throw new NotFoundError('simulated device', id);
    return { deviceId: id, ...faults };
  };

  app.get(
    '/demo/faults/:id',
    {
      config: { access: ['technician'] },
      schema: {
        tags,
        summary: 'The faults a simulated device can rehearse, and the active ones (demo only)',
        params: IdParams,
        response: { 200: DemoFaultsSchema, ...errorResponses },
      },
    },
    async (request) => simulated(request, request.params.id),
  );

  app.post(
    '/demo/faults/:id',
    {
      config: { access: ['technician'], audit: 'demo.fault.inject' },
      schema: {
        tags,
        summary: 'Inject a fault into a simulated device (demo only)',
        params: IdParams,
        body: FaultInjectSchema,
        response: { 200: DemoFaultsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      simulated(request, id);
      try {
        await simulators.inject(id, request.body.kind, request.body.arg);
      } catch (error) {
        throw new InvalidRequestError((error as Error).message, { field: 'kind' });
      }
      return simulated(request, id);
    },
  );

  app.delete(
    '/demo/faults/:id',
    {
      config: { access: ['technician'], audit: 'demo.fault.clear' },
      schema: {
        tags,
        summary: 'Clear every fault of a simulated device (demo only)',
        params: IdParams,
        response: { 200: DemoFaultsSchema, ...errorResponses },
      },
    },
    async (request) => {
      simulated(request, request.params.id);
      await simulators.clear(request.params.id);
      return simulated(request, request.params.id);
    },
  );
};
