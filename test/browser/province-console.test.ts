import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { chromiumSkipReason } from '../support/chromium.js';
import { type ConsoleSession, startConsoleSession } from '../support/console-session.js';
import { TEST_ADMIN_PASSWORD, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { ForeignWords } from './foreign-words.js';

/*
 * Bulletins from the province in the console (Circular 39): the province of Phú Thọ, two of its
 * communes each with a simulated cluster. The province's operator sends a normal bulletin read
 * aloud; a commune's operator sees it arrive in "Tin từ tỉnh" (and the count in the navigation)
 * and schedules it; the province's page shows that commune's receipt change, all without a reload.
 * Then an emergency, sent only once confirmed, aired in both communes. The production build in
 * Chromium against a real platform with its own synthesizer.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = chromiumSkipReason();
const DAY_MS = 86_400_000;
const PROVINCE_OPERATOR = 'operator-tinh-phu-tho';
const COMMUNE_OPERATOR = 'operator-hy-cuong';
const COMMUNES = [
  { id: 'hy-cuong', code: '07915', name: 'Xã Hy Cương', clusterId: 'hc-c01' },
  { id: 'phu-ninh', code: '07930', name: 'Xã Phù Ninh', clusterId: 'pn-c01' },
] as const;
const NORMAL_TEXT =
  'Sở Nông nghiệp thông báo: tiêm phòng cúm gia cầm đợt hai từ ngày 10 đến ngày 20 tháng 12.';
const EMERGENCY_TEXT = 'Khẩn cấp: mưa lớn, nguy cơ lũ quét; bà con tránh xa suối.';

/** A date (YYYY-MM-DD) in Hà Nội. */
function hanoiDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Ho_Chi_Minh',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

describe.skipIf(skip !== null)(
  `bulletins from the province in the console${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let session: ConsoleSession;
    let t: TestPlatform;
    let fleet: SimulatedFleet;
    // Tomorrow at 07:00: hours away, so the normal bulletin does not air while the test runs.
    const requested = `${hanoiDate(new Date(Date.now() + DAY_MS))}T07:00:00`;
    const words = () =>
      new ForeignWords(
        ROOT,
        new Set([PROVINCE_OPERATOR, COMMUNE_OPERATOR, ...COMMUNES.flatMap((c) => c.name.split(' '))]),
      );

    const signIn = (username: string, password?: string) => session.signIn(username, password);

    /** Fills the send form on the province page: a text read aloud, to every commune. */
    const fillBulletin = async (page: Page, name: string, level: 'normal' | 'emergency', text: string) => {
      await page.getByTestId('bulletin-new').click();
      await page.getByTestId('bulletin-name').fill(name);
      await page.getByTestId(`bulletin-level-${level}`).check();
      await page.getByTestId('content-tts').check();
      await page.getByTestId('content-tts-text').fill(text);
      expect(await page.getByTestId('bulletin-communes-all').isChecked()).toBe(true);
    };

    beforeAll(async () => {
      session = await startConsoleSession('sc-province-console-');
      t = session.t;
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
      );
      await t.headersFor('operator', { provinceId: 'phu-tho' });
      await t.headersFor('operator', { communeId: 'hy-cuong' });
    }, 180_000);

    afterAll(async () => {
      await fleet?.stop();
      await session?.close();
    });

    it('sends a normal bulletin read aloud; the commune sees it arrive and schedules it; the province sees that live', async () => {
      const name = 'Thông báo tiêm phòng gia cầm';
      // The commune's operator is already at work on "Tin từ tỉnh", with nothing waiting.
      const commune = await signIn(COMMUNE_OPERATOR);
      const inbox = commune.page;
      expect(await inbox.getByTestId('nav-province').count()).toBe(0);
      await inbox.getByTestId('nav-inbox').click();
      await inbox.getByTestId('inbox-empty').waitFor();
      expect(await inbox.getByTestId('nav-inbox-count').count()).toBe(0);

      const province = await signIn(PROVINCE_OPERATOR);
      const { page } = province;
      // A province account lands on its own fleet, and has the province page but no commune inbox.
      expect(await page.getByTestId('nav-inbox').count()).toBe(0);
      await page.getByTestId('nav-province').click();
      const totals = page.getByTestId('province-totals');
      await totals.waitFor();
      expect(await page.locator('main h1').textContent()).toBe('Tỉnh Phú Thọ');
      expect(await totals.getAttribute('data-communes')).toBe('2');
      await expect.poll(() => totals.getAttribute('data-online')).toBe('2');
      const row = page.getByTestId('province-commune-hy-cuong');
      expect(await row.innerText()).toContain('07915');
      expect(await row.innerText()).toContain('Xã Hy Cương');

      await fillBulletin(page, name, 'normal', NORMAL_TEXT);
      expect(await page.getByTestId('bulletin-level').innerText()).toContain('xã tự chọn giờ phát');
      await page.getByTestId('bulletin-start').fill(requested);
      // Text is read aloud on the platform as it is sent; then the bulletin's page opens.
      await page.getByTestId('bulletin-send').click();
      const detail = page.getByTestId('bulletin-detail');
      await detail.waitFor({ timeout: 30_000 });
      const id = (await detail.getAttribute('data-bulletin-id')) as string;
      expect(new URL(page.url()).pathname).toBe(`/province/bulletins/${id}`);
      const receipt = page.getByTestId('receipt-hy-cuong');
      await expect.poll(() => receipt.getAttribute('data-state')).toBe('pending');
      expect(await receipt.getByTestId('receipt-state').textContent()).toBe('Chờ xã quyết định');

      const sent = await t.api(`/api/v1/provincial-bulletins/${id}`, { as: 'admin' });
      expect(sent.body).toMatchObject({
        name,
        level: 'normal',
        provinceId: 'phu-tho',
        createdBy: PROVINCE_OPERATOR,
      });
      expect(sent.body.content).toMatchObject({ kind: 'tts', text: NORMAL_TEXT, voice: 'northern' });
      expect(Date.parse(sent.body.start)).toBe(Date.parse(`${requested}+07:00`));

      // The commune sees it arrive without a reload: the count in the navigation, then the bulletin.
      const count = inbox.getByTestId('nav-inbox-count');
      await count.waitFor();
      expect(await count.getAttribute('data-count')).toBe('1');
      const card = inbox.getByTestId(`inbox-${id}-hy-cuong`);
      await card.waitFor();
      expect(await card.getAttribute('data-state')).toBe('pending');
      expect(await card.getByTestId('listen-text').textContent()).toBe(NORMAL_TEXT);
      expect(await card.getByTestId('inbox-requested').textContent()).toContain('07:00:00');
      // And hears what would air: the speech the platform made, played with the commune's session.
      const heardS = await inbox.evaluate<number>(`new Promise((resolve, reject) => {
      const audio = document.querySelector('[data-testid="inbox-${id}-hy-cuong"] [data-testid=listen-audio]');
      audio.addEventListener('loadedmetadata', () => resolve(audio.duration), { once: true });
      audio.addEventListener('error', () => reject(new Error('media error ' + audio.error?.code)), { once: true });
      audio.preload = 'metadata';
      audio.load();
    })`);
      expect(heardS).toBeGreaterThan(2);
      expect(words().find(await inbox.locator('main').innerText())).toEqual([]);

      // Scheduled at the time the province asked for, which the dialog offers.
      await card.getByTestId('inbox-schedule').click();
      const dialog = inbox.getByTestId('inbox-schedule-dialog');
      // (Chromium writes a whole minute without its seconds.)
      expect(await dialog.getByTestId('inbox-schedule-start').inputValue()).toBe(requested.slice(0, 16));
      await dialog.getByTestId('inbox-schedule-confirm').click();
      await card.waitFor({ state: 'detached' });
      await count.waitFor({ state: 'detached' });
      const handled = inbox.getByTestId(`handled-${id}-hy-cuong`);
      await expect.poll(() => handled.getAttribute('data-state')).toBe('scheduled');

      // The province's page follows, without a reload.
      await expect.poll(() => receipt.getAttribute('data-state'), { timeout: 10_000 }).toBe('scheduled');
      expect(await receipt.getByTestId('receipt-state').textContent()).toBe('Đã lên lịch');
      expect(await receipt.getByTestId('receipt-decided-by').textContent()).toContain(COMMUNE_OPERATOR);
      expect(await page.getByTestId('receipt-phu-ninh').getAttribute('data-state')).toBe('pending');
      expect(words().find(await page.locator('main').innerText())).toEqual([]);

      const decided = await t.api(`/api/v1/provincial-bulletins/${id}`, { as: 'admin' });
      const hyCuong = (decided.body.receipts as { communeId: string; scheduleId: string }[]).find(
        (r) => r.communeId === 'hy-cuong',
      );
      expect(hyCuong).toMatchObject({ state: 'scheduled', decidedBy: COMMUNE_OPERATOR });
      const schedule = await t.api(`/api/v1/schedules/${hyCuong?.scheduleId}`, {
        as: 'admin',
      });
      expect(schedule.body).toMatchObject({ start: requested, targets: { communeIds: ['hy-cuong'] } });

      // Back on the province page, the recent bulletin counts the commune's answer.
      await page.getByTestId('bulletin-back').click();
      const recent = page.getByTestId(`recent-${id}`);
      await recent.waitFor();
      await expect
        .poll(() => recent.locator('[data-state="scheduled"]').getAttribute('data-count'))
        .toBe('1');

      expect(commune.errors).toEqual([]);
      expect(province.errors).toEqual([]);
      await commune.close();
      await province.close();
    }, 120_000);

    it('sends an emergency only once confirmed, and shows it aired in every commune', async () => {
      const name = 'Cảnh báo lũ quét';
      const { page, errors, close } = await signIn(PROVINCE_OPERATOR);
      await page.getByTestId('nav-province').click();
      await page.getByTestId('province-totals').waitFor();
      await fillBulletin(page, name, 'emergency', EMERGENCY_TEXT);
      // An emergency airs at once: no time to ask for.
      expect(await page.getByTestId('bulletin-start').count()).toBe(0);
      await page.getByTestId('bulletin-send').click();
      const confirm = page.getByTestId('bulletin-confirm');
      await confirm.getByTestId('bulletin-confirm-confirm').waitFor();
      expect(await confirm.innerText()).toContain('2 xã');
      // Nothing has gone out while the dialog asks.
      const before = await t.api('/api/v1/provincial-bulletins?limit=50', { as: 'admin' });
      expect((before.body.items as { name: string }[]).map((b) => b.name)).not.toContain(name);

      await confirm.getByTestId('bulletin-confirm-confirm').click();
      const detail = page.getByTestId('bulletin-detail');
      await detail.waitFor({ timeout: 30_000 });
      for (const commune of COMMUNES) {
        const receipt = page.getByTestId(`receipt-${commune.id}`);
        await expect.poll(() => receipt.getAttribute('data-state')).toBe('aired');
        expect(await receipt.getByTestId('receipt-state').textContent()).toBe('Đã phát');
      }
      // Each commune's cluster plays it to the end, and the page counts it as it happens.
      for (const commune of COMMUNES)
        await expect
          .poll(
            () =>
              page
                .getByTestId(`receipt-${commune.id}`)
                .getByTestId('receipt-clusters')
                .getAttribute('data-done'),
            {
              timeout: 45_000,
            },
          )
          .toBe('1');
      expect(words().find(await page.locator('main').innerText())).toEqual([]);

      const id = (await detail.getAttribute('data-bulletin-id')) as string;
      const aired = await t.api(`/api/v1/provincial-bulletins/${id}`, { as: 'admin' });
      expect(aired.body.level).toBe('emergency');
      expect(aired.body.totals.byState).toEqual({ aired: 2 });
      expect(errors).toEqual([]);
      await close();
    }, 120_000);

    it('asks a commune to order a priority bulletin that clashes with its own priority item', async () => {
      const day = requested.slice(0, 10);
      const communeHeaders = { headers: await t.headersFor('operator', { communeId: 'hy-cuong' }) };
      const own = await t.api('/api/v1/schedules', {
        method: 'POST',
        as: communeHeaders,
        body: {
          name: 'Lịch họp dân của xã',
          level: 'priority',
          content: { kind: 'tts', text: 'Mời bà con dự họp tại nhà văn hóa thôn 1.', voice: 'northern' },
          start: `${day}T08:00:00`,
          targets: { communeIds: ['hy-cuong'] },
        },
      });
      expect(own.status, JSON.stringify(own.body)).toBe(201);
      const sent = await t.api('/api/v1/provincial-bulletins', {
        method: 'POST',
        as: { headers: await t.headersFor('operator', { provinceId: 'phu-tho' }) },
        body: {
          name: 'Lịch cắt điện toàn tỉnh',
          level: 'priority',
          content: { kind: 'tts', text: 'Ngày mai cắt điện từ 8 giờ đến 11 giờ.', voice: 'northern' },
          start: `${day}T08:00:00+07:00`,
        },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      const id = sent.body.id as string;

      const { page, errors, close } = await signIn(COMMUNE_OPERATOR);
      expect(await page.getByTestId('nav-inbox-count').getAttribute('data-count')).toBe('1');
      await page.getByTestId('nav-inbox').click();
      const card = page.getByTestId(`inbox-${id}-hy-cuong`);
      await card.waitFor();
      expect(await card.getAttribute('data-state')).toBe('needs-order');
      expect(await card.getByTestId('receipt-state').textContent()).toBe('Chờ xã chọn thứ tự');
      expect(await card.getByTestId('inbox-clash').textContent()).toContain('Lịch họp dân của xã');
      // Only a normal bulletin may be declined; a priority one is ordered.
      expect(await card.getByTestId('inbox-decline').count()).toBe(0);
      expect(words().find(await page.locator('main').innerText())).toEqual([]);

      await card.getByTestId('inbox-order-bulletin').click();
      await card.waitFor({ state: 'detached' });
      const handled = page.getByTestId(`handled-${id}-hy-cuong`);
      await expect.poll(() => handled.getAttribute('data-state')).toBe('scheduled');
      expect(await handled.innerText()).toContain('Xã chọn phát tin của tỉnh trước');
      // The commune's own item now follows the province's.
      const moved = await t.api(`/api/v1/schedules/${own.body.schedule.id}`, { as: communeHeaders });
      expect(moved.body.start > `${day}T08:00:00`).toBe(true);
      expect(errors).toEqual([]);
      await close();
    }, 60_000);

    it("lets an admin register a commune's code, province and former district, and give a viewer a province", async () => {
      const admin = await signIn('admin', TEST_ADMIN_PASSWORD);
      const { page } = admin;
      await page.getByTestId('nav-communes').click();
      await page.getByTestId('commune-new').click();
      await page.getByTestId('commune-form-id').fill('tien-kien');
      await page.getByTestId('commune-form-name').fill('Xã Xuân Lũng');
      await page.getByTestId('commune-form-code').fill('08500');
      await page.getByTestId('commune-form-province').selectOption('phu-tho');
      await page.getByTestId('commune-form-district').fill('Huyện Lâm Thao');
      await page.getByTestId('commune-form-save').click();
      await page.getByTestId('commune-form').waitFor({ state: 'detached' });
      const commune = page.getByTestId('commune-tien-kien');
      expect(await commune.getAttribute('data-province')).toBe('phu-tho');
      expect(await commune.innerText()).toContain('Tỉnh Phú Thọ');
      expect(await commune.innerText()).toContain('Huyện Lâm Thao');
      expect((await t.api('/api/v1/communes/tien-kien')).body).toMatchObject({
        code: '08500',
        provinceId: 'phu-tho',
        district: 'Huyện Lâm Thao',
        province: 'Tỉnh Phú Thọ',
      });

      // A viewer of the whole province: read-only, every commune of it.
      await page.getByTestId('nav-users').click();
      await page.locator('details.card summary').click();
      await page.getByTestId('user-form-username').fill('theo-doi-tinh');
      await page.getByTestId('user-form-display-name').fill('Sở Văn hóa theo dõi');
      await page.getByTestId('user-form-password').fill('theo-doi-tinh-password');
      await page.getByTestId('new-role-operator').uncheck();
      await page.getByTestId('new-role-viewer').check();
      await page.getByTestId('new-scope-province').check();
      await page.getByTestId('new-scope-province-select').selectOption('phu-tho');
      await page.getByTestId('user-save').click();
      const row = page.getByTestId('user-theo-doi-tinh');
      await row.waitFor();
      expect(await row.getByTestId('user-scope').textContent()).toBe('Tỉnh Phú Thọ (mọi xã)');
      expect(await row.innerText()).toContain('Theo dõi, báo cáo');
      const users = await t.api('/api/v1/users?limit=500');
      const created = (users.body.items as { username: string }[]).find(
        (u) => u.username === 'theo-doi-tinh',
      );
      expect(created).toMatchObject({ roles: ['viewer'], provinceId: 'phu-tho', communeIds: [] });

      // The viewer lands on the province, and reads it without sending.
      const viewer = await signIn('theo-doi-tinh');
      await viewer.page.getByTestId('province-totals').waitFor();
      expect(new URL(viewer.page.url()).pathname).toBe('/province');
      expect(await viewer.page.getByTestId('province-totals').getAttribute('data-communes')).toBe('3');
      expect(await viewer.page.getByTestId('bulletin-new').count()).toBe(0);
      const nav = await viewer.page
        .locator('nav a')
        .evaluateAll((links) => links.map((link) => link.getAttribute('data-testid')));
      expect(nav).toEqual(['nav-province', 'nav-calendar', 'nav-reports', 'nav-summary', 'nav-password']);
      expect(words().find(await viewer.page.locator('main').innerText())).toEqual([]);
      expect(viewer.errors).toEqual([]);
      await viewer.close();

      // Narrowed to two communes of it.
      await page.getByTestId('user-edit-scope-theo-doi-tinh').click();
      const dialog = page.getByTestId('user-scope-dialog');
      await dialog.getByTestId('edit-scope-several').check();
      await dialog.getByTestId('edit-scope-commune-hy-cuong').check();
      await dialog.getByTestId('edit-scope-commune-phu-ninh').check();
      await dialog.getByTestId('user-scope-save').click();
      await expect
        .poll(() => row.getByTestId('user-scope').textContent())
        .toBe('2 xã: Xã Hy Cương, Xã Phù Ninh');
      const narrowed = await t.api('/api/v1/users?limit=500');
      expect(
        (narrowed.body.items as { username: string }[]).find((u) => u.username === 'theo-doi-tinh'),
      ).toMatchObject({ provinceId: null, communeIds: ['hy-cuong', 'phu-ninh'] });
      expect(admin.errors).toEqual([]);
      await admin.close();
    }, 120_000);
  },
);
