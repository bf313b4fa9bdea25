import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { parseCameraEvent } from '../../simulators/onvif-camera/event-messages.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { chromiumSkipReason } from '../support/chromium.js';
import { type ConsoleSession, startConsoleSession } from '../support/console-session.js';
import type { TestPlatform } from '../support/platform-harness.js';
import { registerCamera, startSimulatedCamera } from '../support/simulated-cameras.js';

/*
 * The camera wall's events panel in the console's production build, in Chromium: a motion the
 * simulated camera raises shows as going on without a reload, and as ended when it stops.
 */
const skip = chromiumSkipReason();
const CAMERA_ID = 'hd-cam-events';

describe.skipIf(skip !== null)(
  `camera events on the wall in Chromium${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let session: ConsoleSession;
    let t: TestPlatform;
    let camera: SimulatedCamera;

    beforeAll(async () => {
      session = await startConsoleSession('sc-camera-events-console-', {
        config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600 },
      });
      t = session.t;
      const account = { name: 'Ngã ba chợ Hướng Đạo', username: 'admin', password: 'camera-events-pw' };
      camera = await startSimulatedCamera({ ...account, clock: systemClock });
      await registerCamera(t, camera, { id: CAMERA_ID, communeId: 'huong-dao', ...account });
      await t.platform.cameraHealth.sweep();
    }, 120_000);

    afterAll(async () => {
      await session?.close();
      await camera?.stop();
    });

    it('shows police a motion as it starts and when it ends, without a reload', async () => {
      const { page, close } = await session.signInAs('police', { apiErrors: false });
      await page.getByTestId('nav-cameras').click();
      const panel = page.getByTestId('camera-incidents-panel');
      await panel.waitFor();
      await expect.poll(() => camera.eventStatus()?.subscriptions, { timeout: 10_000 }).toBe(1);

      camera.raiseEvent(parseCameraEvent('motion', 'on'));
      const item = panel.locator(`[data-camera-id="${CAMERA_ID}"][data-kind="motion"]`);
      await item.waitFor({ timeout: 5_000 });
      expect(await item.getAttribute('data-ongoing')).toBe('true');
      expect(await item.textContent()).toContain('Chuyển động');

      camera.raiseEvent(parseCameraEvent('motion', 'off'));
      await panel
        .locator(`[data-camera-id="${CAMERA_ID}"][data-ongoing="false"]`)
        .waitFor({ timeout: 5_000 });
      await close();
    });
  },
);
