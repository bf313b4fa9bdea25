import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ForeignWords } from '../browser/foreign-words.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.js';
import { buildConsole } from '../support/console-build.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { wavTone } from '../support/wav.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = chromiumSkipReason();
const PROVINCE_VIEWER = 'viewer-tinh-phu-tho';
const COMMUNES = [
  { id: 'hy-cuong', code: '07915', name: 'Xã Hy Cương', clusterId: 'hc-c01' },
  { id: 'phu-ninh', code: '07930', name: 'Xã Phù Ninh', clusterId: 'pn-c01' },
] as const;

/*
 * Báo cáo tổng hợp in the console: a province viewer of Phú Thọ opens the summary of this month,
 * reads the totals, the chart by level and origin and the per-commune table, in Vietnamese only,
 * narrows it to one commune, and opens the printable report the links give. The production build
 * in Chromium against a real platform; the bulletin aired on simulated clusters.
 */
describe.skipIf(skip !== null)(
  `the summary report in the console${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let webRoot = '';
    let t: TestPlatform;
    let fleet: SimulatedFleet;
    let browser: Browser;

    beforeAll(async () => {
      webRoot = await buildConsole('sc-summary-console-');
      t = await startTestPlatform({ webRoot });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      const { registry } = t.platform;
      for (const commune of COMMUNES) {
        await registry.createCommune({
          id: commune.id,
          code: commune.code,
          name: commune.name,
          provinceId: 'phu-tho',
        });
        await registry.createVillage({ id: `${commune.id}-thon-1`, communeId: commune.id, name: 'Thôn 1' });
        await registry.createCluster({
          id: commune.clusterId,
          villageId: `${commune.id}-thon-1`,
          name: `Cụm loa ${commune.name}`,
          location: { lat: 21.35, lon: 105.2 },
        });
      }
      fleet = await startFleet(
        t,
        COMMUNES.map((c) => c.clusterId),
        { timeScale: 20 },
      );
      const audio = (
        await t.platform.media.ingest(
          { stream: Readable.from([wavTone(2)]), filename: 'khan-cap.wav' },
          { name: 'Khẩn cấp', createdBy: null },
        )
      ).id;
      const province = { headers: await t.headersFor('operator', { provinceId: 'phu-tho' }) };
      const sent = await t.api('/api/v1/provincial-bulletins', {
        method: 'POST',
        as: province,
        body: { name: 'Cảnh báo mưa lớn', level: 'emergency', content: { kind: 'media', mediaId: audio } },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      // The province's emergency plays to its end before the commune's own, which would pre-empt it.
      await vi.waitFor(
        async () => {
          const view = await t.api(`/api/v1/provincial-bulletins/${sent.body.id}`, { as: 'admin' });
          expect(view.body.totals.clusters.done).toBe(COMMUNES.length);
        },
        { timeout: 30_000, interval: 200 },
      );
      const hyCuong = { headers: await t.headersFor('operator', { communeId: 'hy-cuong' }) };
      const own = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
        method: 'POST',
        as: hyCuong,
        body: { name: 'Báo cháy', content: { kind: 'media', mediaId: audio } },
      });
      expect(own.status, JSON.stringify(own.body)).toBe(201);
      await vi.waitFor(
        async () => {
          const log = await t.api(
            `/api/v1/broadcasts?from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`,
            { as: 'admin' },
          );
          const states = log.body.items.flatMap((b: { deliveries: { state: string }[] }) =>
            b.deliveries.map((d) => d.state),
          );
          expect(states).toEqual(['done', 'done', 'done']);
        },
        { timeout: 30_000, interval: 200 },
      );
      await t.headersFor('viewer', { provinceId: 'phu-tho' });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await fleet?.stop();
      await t?.close();
      rmSync(webRoot, { recursive: true, force: true });
    });

    it('shows this month’s totals, the chart and the communes, in Vietnamese, and opens the printable report', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${t.httpUrl}/`);
      await page.getByTestId('login-username').fill(PROVINCE_VIEWER);
      await page.getByTestId('login-password').fill(`${PROVINCE_VIEWER}-password`);
      // Signed in, a refused request is a page asking for what the account may not read.
      page.on('response', (response) => {
        if (new URL(response.url()).pathname.startsWith('/api/') && response.status() >= 400)
          errors.push(`${response.request().method()} ${response.url()}: ${response.status()}`);
      });
      await page.getByTestId('login-submit').click();
      await page.getByTestId('nav-summary').click();
      expect(await page.getByTestId('nav-summary').textContent()).toBe('Báo cáo tổng hợp');
      const totals = page.getByTestId('summary-totals');
      await totals.waitFor();
      expect(await page.locator('main h1').textContent()).toBe('Báo cáo tổng hợp');
      // This month, from its first day.
      const first = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
      expect(await page.getByTestId('summary-from').inputValue()).toBe(`${first.slice(0, 8)}01`);
      expect(await totals.locator('[data-figure=bulletins]').textContent()).toBe('2');
      expect(await totals.locator('[data-figure=delivered]').textContent()).toBe('3 / 3');
      expect(await totals.locator('[data-figure=delivery-rate]').textContent()).toBe('100,00 %');
      await page.getByTestId('summary-chart').locator('canvas').waitFor();
      const chartLabel = await page.getByTestId('summary-chart').getAttribute('aria-label');
      expect(chartLabel).toContain('Khẩn cấp: Của tỉnh 1, Của xã 1');
      const levels = page.getByTestId('summary-levels');
      expect(await levels.locator('tbody tr').first().innerText()).toBe('Khẩn cấp\t1\t1\t2');
      const communes = page.getByTestId('summary-communes');
      expect(await communes.locator('tbody tr').count()).toBe(2);
      expect(await communes.locator('[data-commune=hy-cuong]').innerText()).toContain('07915');
      expect(await page.getByTestId('summary-broadcasts').locator('tbody tr').count()).toBe(2);
      const words = new ForeignWords(ROOT, new Set(['Hy', 'Cương', 'Phù', 'Ninh', 'CSV']));
      expect(words.find(await page.locator('main').innerText())).toEqual([]);
      if (process.env.UPDATE_SCREENSHOTS)
        await page.screenshot({ path: '/tmp/summary-console.png', fullPage: true });

      // One commune of the province.
      await page.getByTestId('summary-place').selectOption('commune:phu-ninh');
      await expect.poll(() => page.getByTestId('summary-scope').textContent()).toBe('Xã Phù Ninh');
      expect(await totals.locator('[data-figure=bulletins]').textContent()).toBe('1');
      const csv = await page.getByTestId('summary-csv').getAttribute('href');
      expect(csv).toContain('communeId=phu-ninh');
      expect(csv).toContain('format=csv');
      expect(csv).toContain('lang=vi');

      // The printable report, as the link opens it in a new tab.
      const [printable] = await Promise.all([
        context.waitForEvent('page'),
        page.getByTestId('summary-print').click(),
      ]);
      await printable.waitForLoadState();
      expect(await printable.locator('h1').textContent()).toBe(
        'BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG ĐÀI TRUYỀN THANH CƠ SỞ',
      );
      expect(await printable.locator('body').innerText()).toContain('CHỦ TỊCH UBND XÃ');
      expect(await printable.locator('body').innerText()).toContain('XÃ PHÙ NINH');
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  },
);
