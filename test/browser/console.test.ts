import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { demoSimulators } from '../../services/demo/demo-simulators.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { SimulatedCluster } from '../../simulators/speaker-cluster/simulated-cluster.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.js';
import { buildConsole } from '../support/console-build.js';
import { api, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { wavTone } from '../support/wav.js';
import { ForeignWords } from './foreign-words.js';

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

  const signIn = async (
    role: 'operator' | 'approver' | 'viewer' | 'police' | 'technician' | 'admin',
    language?: 'en',
  ) => {
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
    webRoot = await buildConsole('sc-console-');
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
      await t.platform.cameras.create({
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

  it('ships less than 290 KB of JavaScript, gzipped, with the map and chart loaded only where needed', () => {
    const scripts = readdirSync(join(webRoot, 'assets')).filter((f) => f.endsWith('.js'));
    const gzipped = scripts.map(
      (f) => gzipSync(readFileSync(join(webRoot, 'assets', f)), { level: 9 }).length,
    );
    // 250 KB until content approval, text read aloud and programmes (+14 KB with their words); 265 KB
    // until the province's pages, the communes' inbox and account scopes (+13 KB with their words); 280 KB
    // until the alarms page, its navigation badge and bell, maintenance and rules (+10 KB with their words);
    // 290 KB until firmware rollouts, readiness drills, notification settings, the outage banner and
    // NVR channels (+17 KB with their words).
    expect(gzipped.reduce((a, b) => a + b, 0)).toBeLessThan(310 * 1024);
    const entry = readFileSync(join(webRoot, 'index.html'), 'utf8');
    const entryScript = /src="\/assets\/([^"]+\.js)"/.exec(entry)?.[1] as string;
    const first = readFileSync(join(webRoot, 'assets', entryScript), 'utf8');
    expect(first).not.toContain('leaflet-container');
    // English words are fetched only when a user picks English.
    expect(first).toContain('Đăng nhập');
    expect(first).not.toContain('Wrong username or password.');
  });

  it('shows an operator the 18 clusters online, on the dashboard and the map', async () => {
    const { page, errors, close } = await signIn('operator');
    await expect
      .poll(() => page.locator('[data-testid^="cluster-"][data-online="true"]').count(), { timeout: 20_000 })
      .toBe(18);
    await shot(page, 'dashboard');
    await page.getByTestId('nav-map').click();
    await page.locator('.leaflet-container').waitFor();
    // Without a tile server the map still reads: every cluster named, every village outlined and named.
    await expect.poll(() => page.locator('.leaflet-tooltip.cluster-label').count()).toBe(18);
    expect(await page.locator('.leaflet-tooltip.cluster-label').allTextContents()).toContain(
      'Cụm loa Thôn 3',
    );
    expect(await page.locator('path.village-area').count()).toBe(14);
    expect(await page.locator('.leaflet-tooltip.village-label').allTextContents()).toContain('Thôn 14');
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
    await expect.poll(() => page.getByTestId('fault-active').textContent()).toContain('Mất điện');
    await expect.poll(() => t.platform.presence.isOnline('hd-c01'), { timeout: 15_000 }).toBe(false);
    await page.getByTestId('fault-clear').click();
    await expect.poll(() => t.platform.presence.isOnline('hd-c01'), { timeout: 20_000 }).toBe(true);
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('lets a technician register a cluster, issue its secret, and see the cluster come online with it', async () => {
    const { page, errors, close } = await signIn('technician');
    await page.getByTestId('nav-clusters').click();
    await page.getByTestId('cluster-new').click();
    await page.getByTestId('cluster-form-id').fill('hd-c19');
    await page.getByTestId('cluster-form-village').selectOption('hd-thon-03');
    await page.getByTestId('cluster-form-name').fill('Cụm loa chợ Thôn 3');
    await page.getByTestId('cluster-form-address').fill('Chợ Thôn 3, xã Hướng Đạo');
    await page.getByTestId('cluster-form-lat').fill('21.3512');
    await page.getByTestId('cluster-form-lon').fill('105.5921');
    await page.getByTestId('cluster-form-save').click();
    // A registered cluster cannot connect yet: the page offers its secret at once.
    await page.getByTestId('credential-confirm-confirm').click();
    const secret = (await page.getByTestId('credential-secret-value').textContent()) ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(16);
    await shot(page, 'cluster-secret');
    await page.getByTestId('credential-secret-done').click();
    const row = page.getByTestId('device-row-hd-c19');
    expect(await row.getAttribute('data-online')).toBe('false');

    const cluster = new SimulatedCluster({
      deviceId: 'hd-c19',
      secret,
      url: t.mqttUrl,
      logger: silent,
      clock: systemClock,
    });
    await cluster.start();
    try {
      await expect.poll(() => row.getAttribute('data-online'), { timeout: 15_000 }).toBe('true');
      await page.getByTestId('cluster-edit-hd-c19').click();
      await page.getByTestId('cluster-form-name').fill('Cụm loa chợ Thôn 3 (mới)');
      await page.getByTestId('cluster-form-save').click();
      await expect.poll(() => row.locator('th a').textContent()).toBe('Cụm loa chợ Thôn 3 (mới)');
      expect(t.platform.registry.getCluster('hd-c19')).toMatchObject({
        villageId: 'hd-thon-03',
        address: 'Chợ Thôn 3, xã Hướng Đạo',
        location: { lat: 21.3512, lon: 105.5921 },
      });
    } finally {
      await cluster.stop();
    }
    await page.getByTestId('cluster-delete-hd-c19').click();
    await page.getByTestId('cluster-remove-confirm').click();
    await row.waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('lets a technician onboard a camera found on the network, and shows it on the wall', async () => {
    const camera = new SimulatedCamera({
      name: 'Cho Huong Dao',
      username: 'admin',
      password: 'camera-2',
      clock: systemClock,
      logger: silent,
    });
    await camera.start();
    cameras.push(camera);
    const { deviceXAddr } = camera.addresses();
    const { page, errors, close } = await signIn('technician');
    await page.getByTestId('nav-cameras').click();
    await page.getByTestId('camera-new').click();
    await page.getByTestId('camera-discover').click();
    // Other simulated cameras on this machine may answer too; pick this one by its address.
    const found = page.locator('li[data-testid^="camera-found-"]', { hasText: deviceXAddr });
    await found.getByRole('button').click({ timeout: 15_000 });
    expect(await page.getByTestId('camera-form-xaddr').inputValue()).toBe(deviceXAddr);
    expect(await page.getByTestId('camera-form-name').inputValue()).toBe('Cho_Huong_Dao');
    await page.getByTestId('camera-form-id').fill('hd-cam03');
    await page.getByTestId('camera-form-name').fill('Chợ Hướng Đạo');
    await page.getByTestId('camera-form-username').fill('admin');
    await page.getByTestId('camera-form-password').fill('camera-2');
    await page.getByTestId('camera-form-save').click();
    await page.getByTestId('camera-form').waitFor({ state: 'detached' });
    const tile = page.getByTestId('camera-hd-cam03');
    await expect.poll(() => tile.getAttribute('data-state'), { timeout: 20_000 }).toBe('ok');
    expect(await tile.locator('h2').textContent()).toBe('Chợ Hướng Đạo');
    expect((await t.platform.cameras.get('hd-cam03')).endpointUrn).toBe(
      `urn:uuid:${camera.addresses().uuid}`,
    );
    await shot(page, 'camera-onboarded');

    await page.getByTestId('camera-delete-hd-cam03').click();
    await page.getByTestId('camera-remove-confirm').click();
    await tile.waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('lets an operator group two clusters by village and rename the group', async () => {
    const { page, errors, close } = await signIn('operator');
    await page.getByTestId('nav-groups').click();
    await page.getByTestId('group-new').click();
    await page.getByTestId('group-form-name').fill('Trung tâm xã');
    // Thôn 1 has two clusters: its checkbox takes both.
    await page.getByTestId('group-village-hd-thon-01').check();
    expect(await page.getByTestId('group-cluster-hd-c01').isChecked()).toBe(true);
    expect(await page.getByTestId('group-cluster-hd-c02').isChecked()).toBe(true);
    await shot(page, 'group-form');
    await page.getByTestId('group-form-save').click();
    const row = page.locator('tr[data-name="Trung tâm xã"]');
    await row.waitFor();
    const id = ((await row.getAttribute('data-testid')) ?? '').replace(/^group-/, '');
    await page.getByTestId(`group-edit-${id}`).click();
    await page.getByTestId('group-form-name').fill('Trung tâm xã Hướng Đạo');
    await page.getByTestId('group-form-save').click();
    await expect
      .poll(() => page.getByTestId(`group-${id}`).getAttribute('data-name'))
      .toBe('Trung tâm xã Hướng Đạo');
    const saved = await t.api(`/api/v1/groups/${id}`, { as: 'operator' });
    expect(saved.body).toMatchObject({ name: 'Trung tâm xã Hướng Đạo', communeId: 'huong-dao' });
    expect([...(saved.body as { clusterIds: string[] }).clusterIds].sort()).toEqual(['hd-c01', 'hd-c02']);
    await page.getByTestId(`group-delete-${id}`).click();
    await page.getByTestId('group-remove-confirm').click();
    await page.getByTestId(`group-${id}`).waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it("lets an admin reset someone's password: the new one signs in, the old one no longer does", async () => {
    const username = 'can-bo-van-hoa';
    const oldPassword = 'mat-khau-cu-123';
    const newPassword = 'mat-khau-moi-456';
    await t.platform.auth.createUser({
      username,
      displayName: 'Cán bộ văn hoá',
      password: oldPassword,
      roles: ['operator'],
      communeId: null,
    });
    const login = (password: string) =>
      api(t.httpUrl, '/api/v1/auth/login', { method: 'POST', body: { username, password } });
    // The user has a token for a reporting script: the reset revokes it.
    const session = await login(oldPassword);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const token = await api(t.httpUrl, '/api/v1/auth/tokens', {
      method: 'POST',
      body: { name: 'báo cáo tuần' },
      headers: { cookie },
    });
    expect(token.status).toBe(201);

    const { page, errors, close } = await signIn('admin');
    await page.getByTestId('nav-users').click();
    await page.getByTestId(`user-reset-password-${username}`).click();
    await page.getByTestId('password-reset-new').fill(newPassword);
    await page.getByTestId('password-reset-repeat').fill(newPassword);
    await page.getByTestId('password-reset-save').click();
    const revoked = page.getByTestId('password-reset-tokens');
    await revoked.waitFor();
    expect(await revoked.getAttribute('data-count')).toBe('1');
    expect(await revoked.textContent()).toContain('1');
    await page.getByTestId('password-reset-close').click();
    expect(errors).toEqual([]);
    await close();

    expect((await login(oldPassword)).status).toBe(401);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const userPage = await context.newPage();
    await userPage.goto(`${t.httpUrl}/`);
    await userPage.getByTestId('login-username').fill(username);
    await userPage.getByTestId('login-password').fill(newPassword);
    await userPage.getByTestId('login-submit').click();
    await userPage.getByTestId('nav-dashboard').waitFor();
    // And they may choose their own from there.
    await userPage.getByTestId('nav-password').click();
    await userPage.getByTestId('own-password-current').fill(newPassword);
    await userPage.getByTestId('own-password-new').fill('mat-khau-rieng-789');
    await userPage.getByTestId('own-password-repeat').fill('mat-khau-rieng-789');
    await userPage.getByTestId('own-password-save').click();
    await userPage.getByTestId('own-password-done').waitFor();
    expect((await login('mat-khau-rieng-789')).status).toBe(200);
    await context.close();
  }, 60_000);

  it('shows schedule rules in words, in Vietnamese and English', async () => {
    const schedule = (name: string, start: string, rrule: string) =>
      t.api('/api/v1/schedules', {
        method: 'POST',
        as: 'operator',
        body: {
          name,
          level: 'normal',
          content: { kind: 'stream', url: 'http://127.0.0.1:9/dai-tinh' },
          durationS: 600,
          start,
          rrule,
          targets: { clusterIds: ['hd-c01'] },
          enabled: false,
        },
      });
    const created = await Promise.all([
      schedule('Phát thanh sáng', '2030-01-07T06:30:00', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'),
      schedule('Bản tin chiều', '2030-01-07T17:15:00', 'FREQ=DAILY;UNTIL=20301231'),
      schedule('Họp thôn', '2030-01-07T19:00:00', 'FREQ=MONTHLY;BYDAY=MO'),
    ]);
    const ids = created.map((answer) => {
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      return (answer.body as { schedule: { id: string } }).schedule.id;
    });
    const { page, errors, close } = await signIn('operator');
    await page.getByTestId('nav-announcements').click();
    const rule = (id: string) => page.getByTestId(`schedule-${id}`).getByTestId('schedule-rule');
    await expect.poll(() => rule(ids[0] as string).textContent()).toBe('Thứ Hai – Thứ Sáu, 06:30');
    expect(await rule(ids[1] as string).textContent()).toBe('Hằng ngày, 17:15, đến 31/12/2030');
    // A rule without plain words is shown as it is.
    expect(await rule(ids[2] as string).textContent()).toBe('FREQ=MONTHLY;BYDAY=MO');
    await page.getByTestId('language-switch').first().selectOption('en');
    await expect.poll(() => rule(ids[0] as string).textContent()).toBe('Monday – Friday, 06:30');
    expect(await rule(ids[1] as string).textContent()).toBe('Every day, 17:15, until 31/12/2030');
    expect(errors).toEqual([]);
    await close();
    for (const id of ids) await t.api(`/api/v1/schedules/${id}`, { method: 'DELETE', as: 'operator' });
  }, 60_000);

  it('fits the registration and onboarding forms on a phone', async () => {
    await t.headersFor('technician');
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await page.goto(`${t.httpUrl}/clusters`);
    await page.getByTestId('login-username').fill('technician-all');
    await page.getByTestId('login-password').fill('technician-all-password');
    await page.getByTestId('login-password').press('Enter');
    const overflow = () => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    await page.getByTestId('cluster-new').click();
    await page.getByTestId('cluster-form').waitFor();
    // The form opens with the keyboard in its first field.
    expect(await page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid')")).toBe(
      'cluster-form-id',
    );
    expect(await overflow()).toBeLessThanOrEqual(1);
    await page.goto(`${t.httpUrl}/cameras`);
    await page.getByTestId('camera-new').click();
    await page.getByTestId('camera-form').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(1);
    await shot(page, 'camera-form-phone');
    await context.close();
  }, 60_000);

  it('shows every page of every role in Vietnamese: no English word, no raw code from the server', async () => {
    // Something of each kind on the pages: a speaker fault, a cluster offline for a reason, a camera
    // down with what it answered, a finished bulletin, the audit log of everything before.
    await fleet.injectFault('hd-c07', { kind: 'speaker-fault', speaker: 2 });
    await fleet.injectFault('hd-c08', { kind: 'drop' });
    await expect.poll(() => t.platform.presence.isOnline('hd-c08'), { timeout: 15_000 }).toBe(false);
    // A bulletin of its own, with a delivery that cannot download its audio (a reason to word).
    await fleet.injectFault('hd-c09', { kind: 'download-fail', remaining: 1 });
    const form = new FormData();
    form.append('file', new Blob([wavTone(1)], { type: 'audio/wav' }), 'thong-bao.wav');
    const operator = await t.headersFor('operator');
    const upload = await fetch(`${t.httpUrl}/api/v1/media`, {
      method: 'POST',
      body: form,
      headers: operator,
    });
    const { id: mediaId } = (await upload.json()) as { id: string };
    const sent = await t.api('/api/v1/broadcasts/emergency?waitMs=10000', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Thông báo kiểm tra',
        content: { kind: 'media', mediaId },
        targets: { clusterIds: ['hd-c07', 'hd-c09'] },
      },
    });
    expect(sent.status).toBe(201);
    // Record names and ids are the users' own words, whatever they look like.
    for (const role of ['operator', 'approver', 'viewer', 'technician', 'police', 'admin'] as const)
      await t.headersFor(role);
    const names = new Set<string>();
    for (const path of [
      '/clusters',
      '/villages',
      '/cameras',
      '/users',
      '/groups',
      '/media',
      '/schedules',
      '/communes',
      '/provinces',
    ]) {
      const answer = await t.api(`/api/v1${path}?limit=500`, { as: 'admin' });
      for (const item of (answer.body.items ?? []) as Record<string, unknown>[])
        for (const key of ['id', 'username', 'name', 'displayName', 'fileName', 'originalName'])
          if (typeof item[key] === 'string')
            for (const word of String(item[key]).split(/\s+/)) names.add(word);
    }
    const words = new ForeignWords(ROOT, names);
    const found: string[] = [];
    for (const role of ['operator', 'approver', 'viewer', 'technician', 'police', 'admin'] as const) {
      const { page, errors, close } = await signIn(role);
      await page.locator('nav a').first().waitFor();
      const paths = await page
        .locator('nav a')
        .evaluateAll((links) =>
          links.map((link) => new URL((link as unknown as { href: string }).href).pathname),
        );
      if (role === 'technician') paths.push('/devices/hd-c07', '/devices/hd-c08');
      for (const path of paths) {
        await page.goto(`${t.httpUrl}${path}`);
        await page.locator('main h1').first().waitFor();
        // The page's own requests: lists, the chart, the live view.
        await page.waitForLoadState('networkidle').catch(() => undefined);
        if (path === '/reports') {
          await page.locator('main table button[aria-expanded]').first().click();
          await page.getByTestId('broadcast-detail').waitFor();
        }
        const text = await page.locator('main').innerText();
        const foreign = words.find(text);
        if (foreign.length > 0) found.push(`${role} ${path}: ${foreign.join(', ')}`);
      }
      expect(errors).toEqual([]);
      await close();
    }
    await fleet.clearFault('hd-c07', 'all');
    await fleet.clearFault('hd-c08', 'all');
    expect(found).toEqual([]);
  }, 180_000);
});
