import { afterEach, beforeEach, onTestFinished } from 'vitest';
import type { SimulatedCameraOptions } from '../../simulators/onvif-camera/camera-options.js';
import { type MediaServer, startMediaServer } from '../simulator/media-server.js';
import { type Harness, startHarness } from '../simulator/mqtt-harness.js';
import { startCamera } from '../simulator/onvif-harness.js';

/* What the simulator suites set up around each test: a broker with a media server, or a camera. */

export interface HarnessWithMedia {
  /** A broker, a manual clock and an observer client for the simulated clusters. */
  h: Harness;
  media: MediaServer;
}

/**
 * Gives each test of the enclosing suite a fresh broker harness and media server, and closes both
 * after the test. The fields change from test to test: read them inside a test.
 */
export function harnessWithMediaEachTest(): HarnessWithMedia {
  const fixture = {} as HarnessWithMedia;
  beforeEach(async () => {
    fixture.h = await startHarness();
    fixture.media = await startMediaServer();
  });
  afterEach(async () => {
    await fixture.h.close();
    await fixture.media.close();
  });
  return fixture;
}

/** A simulated camera (see startCamera) that is stopped when the test finishes, passed or failed. */
export async function startCameraForTest(
  overrides: Partial<SimulatedCameraOptions> = {},
): ReturnType<typeof startCamera> {
  const started = await startCamera(overrides);
  onTestFinished(() => started.camera.stop());
  return started;
}
