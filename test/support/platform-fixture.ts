import { afterEach, beforeEach } from 'vitest';
import { startTestPlatform, type TestPlatform } from './platform-harness.js';

export interface PlatformWithDevice {
  t: TestPlatform;
  /** The cluster's freshly issued MQTT password. */
  secret: string;
}

/**
 * Gives each test of the enclosing suite a fresh platform with the cluster `deviceId` registered,
 * and closes it after the test. The fields change from test to test: read them inside a test.
 */
export function platformWithDeviceEachTest(deviceId: string): PlatformWithDevice {
  const fixture = {} as PlatformWithDevice;
  beforeEach(async () => {
    fixture.t = await startTestPlatform();
    fixture.secret = await fixture.t.addDevice(deviceId);
  });
  afterEach(() => fixture.t.close());
  return fixture;
}
