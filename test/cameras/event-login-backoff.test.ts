import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultLoginBackoffConfig } from '../../devices/onvif-camera/login-backoff.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * The event subscription and the health poller log in to the same camera, and cameras lock an
 * account after a few refused logins whoever sent them. So the subscription asks the poller's
 * login backoff before it logs in, and reports what the camera said. A simulated camera with the
 * ONVIF Events service on real sockets, the real platform, one manual clock; the simulator counts
 * every refused login, which is the evidence.
 */
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MIN = 60_000;

describe('camera events within the login backoff', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function start(): Promise<{ t: TestPlatform; clock: ManualClock; camera: SimulatedCamera }> {
    const clock = new ManualClock();
    const t = await startTestPlatform({
      clock,
      config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600, CAMERA_CALL_TIMEOUT_MS: 5000 },
    });
    stops.push(() => t.close());
    const camera = new SimulatedCamera({
      name: 'Cổng chợ Hướng Đạo',
      username: 'admin',
      password: 'cam-pass',
      discoveryPort: null,
      clock,
      logger: silent,
    });
    await camera.start();
    stops.push(() => camera.stop());
    return { t, clock, camera };
  }

  it('does not log in while the poller holds the camera back, and counts its own refusals there', async () => {
    const { t, clock, camera } = await start();
    // The password was changed on the camera: every login the platform sends is refused.
    await t.platform.cameras.create({
      id: 'cam-gate',
      communeId: 'huong-dao',
      name: 'Cổng chợ',
      xaddr: camera.addresses().deviceXAddr,
      username: 'admin',
      password: 'changed-on-site',
    });
    const camera_ = async () => (await t.api('/api/v1/cameras/cam-gate', { as: 'technician' })).body;
    const feed = async () => (await camera_()).events as Json;

    // The subscription logs in first and is refused: once.
    await vi.waitFor(async () =>
      expect(await feed()).toMatchObject({
        state: 'retrying',
        lastError: expect.stringMatching(/NotAuthorized/),
      }),
    );
    expect(camera.failedLogins()).toBe(1);

    // Its refusal counts in the device's backoff: the poller sends nothing for a minute, and says so.
    clock.advance(30_000);
    await t.platform.cameraHealth.sweep();
    expect(camera.failedLogins()).toBe(1);
    expect((await camera_()).health.detail).toMatch(/next try in 1 min to avoid locking the account$/);

    // A restarted subscription (the camera was edited) asks first, and waits.
    const renamed = await t.api('/api/v1/cameras/cam-gate', {
      method: 'PATCH',
      as: 'technician',
      body: { name: 'Cổng chợ Hướng Đạo' },
    });
    expect(renamed.status).toBe(200);
    await vi.waitFor(async () =>
      expect(await feed()).toMatchObject({
        state: 'retrying',
        lastError: expect.stringMatching(
          /^login held back: login refused 1 time in a row; next try in 1 min/,
        ),
      }),
    );
    expect(camera.failedLogins()).toBe(1);

    // For an hour, poller and subscription together stay within the hourly bound of refused logins.
    const from = clock.now();
    for (let elapsed = 0; elapsed < 60 * MIN; elapsed += 30_000) {
      clock.advance(30_000);
      // The subscription's timers fire with the clock; its calls answer on real sockets.
      await sleep(40);
      await t.platform.cameraHealth.sweep();
    }
    const refusedInHour = camera.failedLoginTimes().filter((at) => at > from).length;
    expect(refusedInHour).toBeGreaterThan(0);
    expect(refusedInHour).toBeLessThanOrEqual(defaultLoginBackoffConfig.maxRefusedPerHour);

    // Once the password is corrected, the poller logs in, the wait ends, and the subscription follows.
    await t.api('/api/v1/cameras/cam-gate', {
      method: 'PATCH',
      as: 'technician',
      body: { password: 'cam-pass' },
    });
    clock.advance(30_000);
    await t.platform.cameraHealth.sweep();
    for (let i = 0; i < 4 && camera.eventStatus()?.subscriptions !== 1; i++) {
      clock.advance(30_000);
      await sleep(100);
    }
    await vi.waitFor(() => expect(camera.eventStatus()?.subscriptions).toBe(1));
    await vi.waitFor(async () =>
      expect(await feed()).toMatchObject({ state: 'subscribed', lastError: null }),
    );
  });
});
