import type { Config } from '../../services/config.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/** One poll interval of the suites that sweep by hand. */
export const SWEEP_MS = 30_000;

/** A Hướng Đạo platform whose camera sweeps the test starts, and the simulated cameras it polls. */
export interface SweptPlatform {
  t: TestPlatform;
  clock: ManualClock;
  /** The suite's simulated cameras by id, stopped with the platform. */
  cameras: Map<string, SimulatedCamera>;
  /** Moves the clock one poll interval and polls every camera once. */
  sweep(): Promise<void>;
  /** A camera's health as police read it through the API. */
  health(id: string): Promise<Json>;
  close(): Promise<void>;
}

/** The real platform and its poller on a manual clock, without cameras yet. */
export async function startSweptPlatform(config: Partial<Config> = {}): Promise<SweptPlatform> {
  const clock = new ManualClock();
  const t = await startTestPlatform({
    clock,
    config: {
      SEED_PRESET: 'huong-dao',
      // Sweeps are started by the test; the interval timer stays out of the way.
      CAMERA_POLL_INTERVAL_S: 3600,
      CAMERA_CALL_TIMEOUT_MS: 1500,
      ...config,
    },
  });
  const cameras = new Map<string, SimulatedCamera>();
  return {
    t,
    clock,
    cameras,
    async sweep() {
      clock.advance(SWEEP_MS);
      await t.platform.cameraHealth.sweep();
    },
    async health(id) {
      return (await t.api(`/api/v1/cameras/${id}`, { as: 'police' })).body.health as Json;
    },
    async close() {
      await t.close();
      await Promise.all([...cameras.values()].map((c) => c.stop()));
    },
  };
}
