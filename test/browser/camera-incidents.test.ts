import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { parseCameraEvent } from '../../simulators/onvif-camera/event-messages.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.js';
import { buildConsole } from '../support/console-build.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * The camera wall's events panel in the console's production build, in Chromium: a motion the
 * simulated camera raises shows as going on without a reload, and as ended when it stops.
 */
const skip = chromiumSkipReason();
const CAMERA_ID = 'hd-cam-events';

describe.skipIf(skip !== null)(
  `camera events on the wall in Chromium${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let webRoot = '';
    let t: TestPlatform;
    let camera: SimulatedCamera;
    let browser: Browser;

    beforeAll(async () => {
      webRoot = await buildConsole('sc-camera-events-console-');
      t = await startTestPlatform({
        webRoot,
        config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600 },
      });
      camera = new SimulatedCamera({
        name: 'Ngã ba chợ Hướng Đạo',
        username: 'admin',
        password: 'camera-events-pw',
        discoveryPort: null,
        clock: systemClock,
        logger: pino({ level: 'silent' }),
      });
      await camera.start();
      t.platform.cameras.create({
        id: CAMERA_ID,
        communeId: 'huong-dao',
        name: 'Ngã ba chợ Hướng Đạo',
        xaddr: camera.addresses().deviceXAddr,
        username: 'admin',
        password: 'camera-events-pw',
      });
      await t.platform.cameraHealth.sweep();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await t?.close();
      await camera?.stop();
      rmSync(webRoot, { recursive: true, force: true });
    });

    it('shows police a motion as it starts and when it ends, without a reload', async () => {
      await t.headersFor('police');
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
      const page = await context.newPage();
      await page.goto(`${t.httpUrl}/`);
      await page.getByTestId('login-username').fill('police-all');
      await page.getByTestId('login-password').fill('police-all-password');
      await page.getByTestId('login-submit').click();
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
      await context.close();
    });
  },
);
