import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../devices/index.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { chromiumSkipReason } from '../support/chromium.js';
import { type ConsoleSession, startConsoleSession } from '../support/console-session.js';
import type { TestPlatform } from '../support/platform-harness.js';
import { registerCamera, startSimulatedCamera } from '../support/simulated-cameras.js';

/*
 * A technician onboarding cameras in the console's production build, in Chromium: the channels of
 * a simulated NVR listed from its address and account, two of them picked and onboarded as two
 * cameras; and a camera whose certificate changed trusted again from its tile.
 */
const skip = chromiumSkipReason();
const NVR_PASSWORD = 'nvr-pass-2026';
const TLS_ID = 'hd-cam-tls';

describe.skipIf(skip !== null)(`camera onboarding in Chromium${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let session: ConsoleSession;
  let t: TestPlatform;
  let nvr: SimulatedCamera;
  let tls: SimulatedCamera;

  const signIn = async () => {
    const { page, close } = await session.signInAs('technician', {
      apiErrors: false,
      viewport: { width: 1280, height: 1000 },
    });
    await page.getByTestId('nav-cameras').click();
    await page.getByTestId(`camera-${TLS_ID}`).waitFor();
    return { page, close };
  };

  beforeAll(async () => {
    session = await startConsoleSession('sc-camera-onboarding-console-', {
      config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600 },
    });
    t = session.t;
    const tlsAccount = { name: 'Cổng trường', username: 'admin', password: 'tls-pass' };
    [nvr, tls] = await Promise.all([
      startSimulatedCamera({
        name: 'Đầu ghi UBND xã',
        username: 'admin',
        password: NVR_PASSWORD,
        clock: systemClock,
        channels: 4,
        events: false,
      }),
      startSimulatedCamera({ ...tlsAccount, clock: systemClock, faults: [{ kind: 'https' }], events: false }),
    ]);
    await registerCamera(t, tls, { id: TLS_ID, communeId: 'huong-dao', ...tlsAccount });
    await t.platform.cameraHealth.sweep();
  }, 180_000);

  afterAll(async () => {
    await session?.close();
    await Promise.all([nvr?.stop(), tls?.stop()]);
  });

  it('lists the channels of an NVR and onboards the ones picked, one camera each', async () => {
    const { page, close } = await signIn();
    try {
      await page.getByTestId('camera-new').click();
      const form = page.getByTestId('camera-form');
      await form.waitFor();
      await page.getByTestId('camera-form-id').fill('hd-nvr');
      const commune = page.getByTestId('camera-form-commune');
      if (await commune.isVisible()) await commune.selectOption('huong-dao');
      await page.getByTestId('camera-form-name').fill('Đầu ghi UBND');
      await page.getByTestId('camera-form-xaddr').fill(nvr.addresses().deviceXAddr);
      await page.getByTestId('camera-form-username').fill('admin');
      await page.getByTestId('camera-form-password').fill(NVR_PASSWORD);
      await page.getByTestId('camera-list-channels').click();

      for (let n = 1; n <= 4; n++) await page.getByTestId(`camera-channel-VideoSource_${n}`).waitFor();
      await page.getByTestId('camera-channel-VideoSource_2-pick').check();
      await page.getByTestId('camera-channel-VideoSource_4-pick').check();
      // Each picked channel names the camera it becomes and the stream it shows.
      expect(await page.getByTestId('camera-channel-VideoSource_4').textContent()).toContain('hd-nvr-ch4');
      expect(await page.getByTestId('camera-channel-VideoSource_4-profile').inputValue()).toBe('Profile_4');
      expect(await page.getByTestId('camera-form-save').textContent()).toBe('Thêm 2 camera');
      await page.getByTestId('camera-form-save').click();

      await page.getByTestId('camera-hd-nvr-ch2').waitFor();
      await page.getByTestId('camera-hd-nvr-ch4').waitFor();
      const onboarded = await t.platform.cameras.atAddress(nvr.addresses().deviceXAddr);
      expect(
        onboarded.map(({ id, name, videoSourceToken, profileToken }) => ({
          id,
          name,
          videoSourceToken,
          profileToken,
        })),
      ).toEqual([
        {
          id: 'hd-nvr-ch2',
          name: 'Đầu ghi UBND · CH2',
          videoSourceToken: 'VideoSource_2',
          profileToken: 'Profile_2',
        },
        {
          id: 'hd-nvr-ch4',
          name: 'Đầu ghi UBND · CH4',
          videoSourceToken: 'VideoSource_4',
          profileToken: 'Profile_4',
        },
      ]);
      // Each new camera is polled at once: its own channel's stream and snapshot answer.
      await page.locator('[data-testid="camera-hd-nvr-ch4"][data-state="ok"]').waitFor({ timeout: 15_000 });
      await page.locator('[data-testid="camera-hd-nvr-ch2"][data-state="ok"]').waitFor({ timeout: 15_000 });

      // Listed again, the onboarded channels say so and cannot be picked twice.
      await page.getByTestId('camera-new').click();
      await page.getByTestId('camera-form-xaddr').fill(nvr.addresses().deviceXAddr);
      await page.getByTestId('camera-form-username').fill('admin');
      await page.getByTestId('camera-form-password').fill(NVR_PASSWORD);
      await page.getByTestId('camera-list-channels').click();
      await page.getByTestId('camera-channel-VideoSource_2').waitFor();
      expect(await page.getByTestId('camera-channel-VideoSource_2').textContent()).toContain('hd-nvr-ch2');
      expect(await page.getByTestId('camera-channel-VideoSource_2-pick').isDisabled()).toBe(true);
      expect(await page.getByTestId('camera-channel-VideoSource_3-pick').isDisabled()).toBe(false);

      // A wrong password is said as such, not as an empty list.
      await page.getByTestId('camera-form-password').fill('wrong-password');
      await page.getByTestId('camera-list-channels').click();
      await page.getByTestId('camera-channels-error').waitFor();
      expect(await page.getByTestId('camera-channels-error').textContent()).toContain(
        'Thiết bị từ chối tài khoản này.',
      );
    } finally {
      await close();
    }
  });

  it('offers to trust a camera’s new certificate on its tile, and the camera comes back', async () => {
    await tls.injectFault({ kind: 'new-certificate' });
    await t.platform.cameraHealth.sweep();
    await t.platform.cameraHealth.sweep();
    expect(t.platform.cameraHealth.status(TLS_ID)).toMatchObject({
      state: 'auth_failed',
      reason: 'certificate-changed',
    });
    const { page, close } = await signIn();
    try {
      const tile = page.getByTestId(`camera-${TLS_ID}`);
      expect(await tile.textContent()).toContain('chứng chỉ bảo mật đã thay đổi');
      const trust = page.getByTestId(`camera-trust-certificate-${TLS_ID}`);
      await trust.click();
      // Trusted and polled at once; one more good poll confirms the recovery.
      await expect
        .poll(() => Object.values(t.platform.cameraHealth.certificates(TLS_ID)).length, { timeout: 10_000 })
        .toBe(1);
      await expect.poll(() => t.platform.cameraHealth.status(TLS_ID).lastPollAt).not.toBeNull();
      await t.platform.cameraHealth.sweep();
      await page.locator(`[data-testid="camera-${TLS_ID}"][data-state="ok"]`).waitFor({ timeout: 10_000 });
      expect(await trust.count()).toBe(0);
      expect(tls.failedLogins()).toBe(0);
    } finally {
      await close();
    }
  });
});
