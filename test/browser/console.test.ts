import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { demoSimulators } from '../../services/platform/demo-simulators.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { wavTone } from '../support/wav.js';

/*
 * The console in a real browser: the production build of web/ served by a real platform with the
 * simulated Hướng Đạo fleet and two simulated crossroads cameras, on the real clock (a browser
 * cannot share a manual one). Screenshots of the main pages go to docs/screenshots for the README.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The README's pictures are refreshed only when asked (UPDATE_SCREENSHOTS=1): a plain test run
// must leave the working tree as it found it. Otherwise they are still taken, into a temp dir.
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? join(ROOT, 'docs', 'screenshots')
  : mkdtempSync(join(tmpdir(), 'sc-screenshots-'));
const silent = pino({ level: 'silent' });
const skip = chromiumSkipReason();

/** Wall time in Hà Nội as a datetime-local value, `seconds` from now. */
function hanoiWallTime(secondsAhead: number): string {
  const at = new Date(Date.now() + secondsAhead * 1000);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Asia/Ho_Chi_Minh',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

describe.skipIf(skip !== null)(`operator console in Chromium${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let webRoot = '';
  let t: TestPlatform;
  let fleet: SimulatedFleet;
  const cameras: SimulatedCamera[] = [];
  let browser: Browser;

  const signIn = async (role: 'operator' | 'police' | 'technician' | 'admin', language?: 'en') => {
    await t.headersFor(role);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'vi-VN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // Console errors explain a failure; expected 401s before sign-in are among them, so only
    // uncaught page errors fail a test.
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(`${t.httpUrl}/`);
    await page
      .getByTestId('login-username')
      .waitFor({ timeout: 15_000 })
      .catch((error: Error) => {
        throw new Error(`${error.message}\npage errors: ${[...errors, ...consoleErrors].join('; ')}`);
      });
    if (language === 'en') {
      await page.getByTestId('language-switch').first().selectOption('en');
    }
    await page.getByTestId('login-username').fill(role === 'admin' ? 'admin' : `${role}-all`);
    await page
      .getByTestId('login-password')
      .fill(role === 'admin' ? 'admin-password-for-tests' : `${role}-all-password`);
    await page.getByTestId('login-submit').click();
    return { page, errors, close: () => context.close() };
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'sc-console-'));
    // vitest runs with NODE_ENV=test, which would give React's development build; CI ships production.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        configFile: join(ROOT, 'web', 'vite.config.ts'),
        logLevel: 'warn',
        build: { outDir: webRoot, emptyOutDir: true },
      });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestPlatform({
      webRoot,
      demo: true,
      simulators: demoSimulators({
        clusters: () => fleet ?? null,
        cameras: () => new Map(cameras.map((c, i) => [`hd-cam0${i + 1}`, c])),
      }),
      config: {
        SEED_PRESET: 'huong-dao',
        DISPATCH_LEAD_S: 5,
        LATE_START_GRACE_S: 60,
        CAMERA_POLL_INTERVAL_S: 5,
        CAMERA_OFFLINE_AFTER_POLLS: 2,
      },
    });
    const clusters = t.platform.registry.listClusters(
      { communeId: 'huong-dao' },
      { limit: 100, offset: 0 },
    ).items;
    const devices = [];
    for (const c of clusters)
      devices.push({ deviceId: c.id, secret: (await t.platform.registry.issueSecret(c.id)).secret });
    fleet = new SimulatedFleet({ devices, url: t.mqttUrl, logger: silent, clock: systemClock });
    await fleet.start();
    for (const [i, name] of ['Ngã tư Hướng Đạo', 'Cổng UBND xã'].entries()) {
      const camera = new SimulatedCamera({
        name,
        username: 'admin',
        password: `camera-${i}`,
        discoveryPort: null,
        clock: systemClock,
        logger: silent,
      });
      await camera.start();
      cameras.push(camera);
      t.platform.cameras.create({
        id: `hd-cam0${i + 1}`,
        communeId: 'huong-dao',
        name,
        xaddr: camera.addresses().deviceXAddr,
        username: 'admin',
        password: `camera-${i}`,
      });
    }
    await t.platform.cameraHealth.sweep();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    await Promise.all(cameras.map((c) => c.stop()));
    await t?.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('ships less than 250 KB of JavaScript, gzipped, with the map and chart loaded only where needed', () => {
    const scripts = readdirSync(join(webRoot, 'assets')).filter((f) => f.endsWith('.js'));
    const gzipped = scripts.map(
      (f) => gzipSync(readFileSync(join(webRoot, 'assets', f)), { level: 9 }).length,
    );
    expect(gzipped.reduce((a, b) => a + b, 0)).toBeLessThan(250 * 1024);
    const entry = readFileSync(join(webRoot, 'index.html'), 'utf8');
    const entryScript = /src="\/assets\/([^"]+\.js)"/.exec(entry)?.[1] as string;
    const first = readFileSync(join(webRoot, 'assets', entryScript), 'utf8');
    expect(first).not.toContain('leaflet-container');
  });

  it('shows an operator the 18 clusters online, on the dashboard and the map', async () => {
    const { page, errors, close } = await signIn('operator');
    await expect
      .poll(() => page.locator('[data-testid^="cluster-"][data-online="true"]').count(), { timeout: 20_000 })
      .toBe(18);
    await shot(page, 'dashboard');
    await page.getByTestId('nav-map').click();
    await page.locator('.leaflet-container').waitFor();
    await shot(page, 'map');
    await page.getByTestId('nav-calendar').click();
    await page.getByTestId('calendar-next').waitFor();
    await shot(page, 'calendar');
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('lets an operator schedule a bulletin a few seconds ahead and watch it complete', async () => {
    const { page, errors, close } = await signIn('operator');
    await page.getByTestId('nav-announcements').click();
    await page.getByTestId('schedule-new').click();
    await page.getByTestId('schedule-name').fill('Thông báo tiêm phòng');
    await page.getByTestId('media-upload').setInputFiles({
      name: 'tiem-phong.wav',
      mimeType: 'audio/wav',
      buffer: wavTone(2),
    });
    await expect.poll(() => page.getByTestId('media-select').inputValue(), { timeout: 10_000 }).not.toBe('');
    await page.getByTestId('schedule-recurrence').selectOption('once');
    await page.getByTestId('schedule-start').fill(hanoiWallTime(12));
    for (const checkbox of await page.locator('[data-testid^="target-village-"]').all())
      await checkbox.check();
    await shot(page, 'announcement-form');
    await page.getByTestId('schedule-save').click();
    await page.getByTestId('schedule-form').waitFor({ state: 'detached', timeout: 10_000 });

    // The broadcast log shows it played on every cluster.
    await page.getByTestId('nav-reports').click();
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByTestId('broadcast-log').waitFor();
          return page.locator('[data-testid^="broadcast-"][data-status]').first().getAttribute('data-status');
        },
        { timeout: 60_000, interval: 2000 },
      )
      .toBe('finished');
    await page.locator('[data-testid^="broadcast-"][data-status] button').first().click();
    await page.getByTestId('broadcast-detail').waitFor();
    // Proof of delivery: every one of the 18 clusters played it to the end.
    await expect
      .poll(() =>
        page
          .locator('[data-testid="broadcast-detail"] [data-testid^="delivery-"][data-state="done"]')
          .count(),
      )
      .toBe(18);
    await shot(page, 'reports');
    expect(errors).toEqual([]);
    await close();
  }, 120_000);

  it('sends an emergency bulletin after a confirmation and shows each cluster acknowledge it live', async () => {
    const { page, errors, close } = await signIn('operator');
    await page.getByTestId('nav-emergency').click();
    await page.getByTestId('media-upload').setInputFiles({
      name: 'bao-lu.wav',
      mimeType: 'audio/wav',
      buffer: wavTone(1),
    });
    await expect.poll(() => page.getByTestId('media-select').inputValue(), { timeout: 10_000 }).not.toBe('');
    await page.getByTestId('emergency-all').check();
    await page.getByTestId('emergency-button').click();
    // Nothing goes out until the operator confirms.
    expect(await page.getByTestId('emergency-progress').count()).toBe(0);
    await shot(page, 'emergency-confirm');
    await page.getByTestId('emergency-confirm-confirm').click();
    await page
      .getByTestId('emergency-progress')
      .waitFor({ timeout: 15_000 })
      .catch(async (error: Error) => {
        throw new Error(`${error.message}\npage errors: ${errors.join('; ')}`);
      });
    await expect
      .poll(() => page.locator('[data-testid^="delivery-"][data-state="done"]').count(), { timeout: 30_000 })
      .toBe(18);
    await shot(page, 'emergency');
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('shows a cut cluster offline without a reload', async () => {
    const { page, close } = await signIn('operator');
    const row = page.getByTestId('cluster-hd-c05');
    await expect.poll(() => row.getAttribute('data-online'), { timeout: 20_000 }).toBe('true');
    await fleet.injectFault('hd-c05', { kind: 'power-cut' });
    await expect.poll(() => row.getAttribute('data-online'), { timeout: 20_000 }).toBe('false');
    await shot(page, 'dashboard-offline');
    await fleet.clearFault('hd-c05', 'all');
    await close();
  }, 60_000);

  it('shows police a camera going offline, and nothing of the broadcasts', async () => {
    const { page, errors, close } = await signIn('police');
    const tile = page.getByTestId('camera-hd-cam02');
    await expect.poll(() => tile.getAttribute('data-state'), { timeout: 20_000 }).toBe('ok');
    await (cameras[1] as SimulatedCamera).injectFault({ kind: 'offline' });
    // Two unanswered polls 5 s apart, then the live update: well within 30 s.
    await expect.poll(() => tile.getAttribute('data-state'), { timeout: 40_000 }).toBe('offline');
    await shot(page, 'camera-wall');
    expect(await page.getByTestId('nav-announcements').count()).toBe(0);
    expect(await page.getByTestId('nav-emergency').count()).toBe(0);
    await page.goto(`${t.httpUrl}/announcements`);
    await page.getByTestId('not-allowed').waitFor();
    const log = await page.evaluate(() => fetch('/api/v1/broadcasts').then((r) => r.status));
    expect(log).toBe(403);
    await (cameras[1] as SimulatedCamera).clearFault('all');
    expect(errors).toEqual([]);
    await close();
  }, 90_000);

  it('works on a phone-sized screen and with the keyboard alone', async () => {
    await t.headersFor('operator');
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    await page.goto(`${t.httpUrl}/`);
    await page.getByTestId('login-username').waitFor();
    // Keyboard only: focus the first field, type, Tab to the next, Enter submits.
    await page.getByTestId('login-username').focus();
    await page.keyboard.type('operator-all');
    await page.keyboard.press('Tab');
    await page.keyboard.type('operator-all-password');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('[data-testid^="cluster-"][data-online]').count(), { timeout: 20_000 })
      .toBe(18);
    // Nothing is wider than the phone's screen.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await shot(page, 'dashboard-phone');
    // On a phone the pages are behind a menu button; it and the page links work from the keyboard.
    await page.getByTestId('menu-button').focus();
    await page.keyboard.press('Enter');
    const calendar = page.getByTestId('nav-calendar');
    await calendar.waitFor();
    await calendar.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('calendar-next').waitFor();
    await context.close();
  }, 60_000);

  it('switches between Vietnamese and English', async () => {
    const { page, close } = await signIn('operator');
    const nav = page.getByTestId('nav-dashboard');
    await nav.waitFor();
    const vietnamese = await nav.textContent();
    await page.getByTestId('language-switch').first().selectOption('en');
    await expect.poll(() => nav.textContent()).not.toBe(vietnamese);
    const english = await nav.textContent();
    expect(english).toMatch(/[A-Za-z]/);
    await shot(page, 'dashboard-en');
    await page.reload();
    await expect.poll(() => page.getByTestId('nav-dashboard').textContent()).toBe(english);
    await page.getByTestId('language-switch').first().selectOption('vi');
    await expect.poll(() => page.getByTestId('nav-dashboard').textContent()).toBe(vietnamese);
    await close();
  }, 60_000);

  it('gives technicians the device page with live values and history', async () => {
    const { page, errors, close } = await signIn('technician');
    await page.goto(`${t.httpUrl}/devices/hd-c01`);
    await page.getByTestId('device-live').waitFor();
    await page.getByTestId('history-chart').waitFor();
    await page.getByTestId('device-messages').waitFor();
    await shot(page, 'device');
    // Demo mode: rehearse a power cut from the page, and see the device go offline.
    await page.getByTestId('fault-kind').selectOption('power-cut');
    await page.getByTestId('fault-inject').click();
    await expect.poll(() => page.getByTestId('fault-active').textContent()).toContain('power-cut');
    await expect.poll(() => t.platform.presence.isOnline('hd-c01'), { timeout: 15_000 }).toBe(false);
    await page.getByTestId('fault-clear').click();
    await expect.poll(() => t.platform.presence.isOnline('hd-c01'), { timeout: 20_000 }).toBe(true);
    expect(errors).toEqual([]);
    await close();
  }, 60_000);
});
