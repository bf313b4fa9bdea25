import { pino } from 'pino';
import type { CameraCreate } from '../../contracts/cameras.js';
import type { SimulatedCameraOptions } from '../../simulators/onvif-camera/camera-options.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import type { TestPlatform } from './platform-harness.js';

const silent = pino({ level: 'silent' });

/** The gate of Hướng Đạo's People's Committee, watched by the police (its ONVIF account too). */
export const GATE_CAMERA = {
  id: 'cam-ubnd',
  communeId: 'huong-dao',
  name: 'Cổng UBND',
  username: 'police',
  password: 'pw-cong-ubnd',
} as const;

/** A simulated ONVIF camera started on loopback, without WS-Discovery, logging nothing. */
export async function startSimulatedCamera(
  options: Omit<SimulatedCameraOptions, 'discoveryPort' | 'logger'>,
): Promise<SimulatedCamera> {
  const camera = new SimulatedCamera({ discoveryPort: null, logger: silent, ...options });
  await camera.start();
  return camera;
}

/** The gate camera on the given clock, answering with its account and without faults. */
export function startGateCamera(clock: SimulatedCameraOptions['clock']): Promise<SimulatedCamera> {
  const { name, username, password } = GATE_CAMERA;
  return startSimulatedCamera({ name, username, password, clock, faults: [] });
}

/** Registers a camera with the platform directly, at the simulated camera's own device address. */
export async function registerCamera(
  t: TestPlatform,
  camera: SimulatedCamera,
  fields: Omit<CameraCreate, 'xaddr'> & { xaddr?: string },
): Promise<void> {
  await t.platform.cameras.create({ xaddr: camera.addresses().deviceXAddr, ...fields });
}
