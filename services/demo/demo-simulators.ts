import {
  CAMERA_FAULT_KINDS,
  CAMERA_FAULT_SUMMARIES,
  parseCameraFault,
} from '../../simulators/onvif-camera/faults.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { FAULT_KINDS, FAULT_SUMMARIES, parseFault } from '../../simulators/speaker-cluster/faults.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import type { DemoSimulators } from './demo-routes.js';

/**
 * The demo's simulated clusters and cameras behind the console's fault panel. Fleets are looked up
 * on each call: the platform starts before them.
 */
export function demoSimulators(fleets: {
  clusters(): SimulatedFleet | null;
  /** Simulated cameras by the id they are onboarded under. */
  cameras(): Map<string, SimulatedCamera>;
}): DemoSimulators {
  const clusterKinds = FAULT_KINDS.map((kind) => ({ kind, summary: FAULT_SUMMARIES[kind] }));
  const cameraKinds = CAMERA_FAULT_KINDS.map((kind) => ({ kind, summary: CAMERA_FAULT_SUMMARIES[kind] }));
  return {
    faults(deviceId) {
      const cluster = fleets.clusters()?.get(deviceId);
      if (cluster) return { kinds: clusterKinds, active: [...cluster.status().faults] };
      const camera = fleets.cameras().get(deviceId);
      if (camera) return { kinds: cameraKinds, active: camera.status().faults };
      return null;
    },
    async inject(deviceId, kind, arg) {
      const cluster = fleets.clusters()?.get(deviceId);
      if (cluster) return cluster.injectFault(parseFault(kind, arg));
      const camera = fleets.cameras().get(deviceId);
      if (camera) return camera.injectFault(parseCameraFault(kind, arg));
    },
    async clear(deviceId) {
      const cluster = fleets.clusters()?.get(deviceId);
      if (cluster) return cluster.clearFault('all');
      await fleets.cameras().get(deviceId)?.clearFault('all');
    },
  };
}
