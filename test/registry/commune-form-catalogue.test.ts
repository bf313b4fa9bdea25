import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../support/chromium.js';
import { type ConsoleSession, startConsoleSession } from '../support/console-session.js';
import { TEST_ADMIN_PASSWORD, type TestPlatform } from '../support/platform-harness.js';

const skip = chromiumSkipReason();

/*
 * The console's commune form: an admin adds a commune of Phú Thọ by searching the national list
 * by its name typed without diacritics, picks it, and the code and name are filled and saved; a
 * code of another province typed by hand is refused with the field named. The production build in
 * Chromium against a real platform.
 */
describe.skipIf(skip !== null)(
  `the commune form's search of the national list${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let session: ConsoleSession;
    let t: TestPlatform;

    beforeAll(async () => {
      session = await startConsoleSession('sc-commune-catalogue-', { config: { SEED_PRESET: 'none' } });
      t = session.t;
    }, 180_000);

    afterAll(() => session?.close());

    it('fills the code and name from the list of the chosen province, and refuses a code of another', async () => {
      // The refusal below is the point: only page errors count here.
      const { page, errors, close } = await session.signIn('admin', TEST_ADMIN_PASSWORD, {
        apiErrors: false,
      });
      await page.getByTestId('nav-communes').click();
      await page.getByTestId('commune-new').click();
      const catalogue = page.getByTestId('commune-form-catalogue');
      expect(await catalogue.innerText()).toContain('Chọn tỉnh để tìm trong danh mục.');

      await page.getByTestId('commune-form-id').fill('tho-tang');
      await page.getByTestId('commune-form-province').selectOption('phu-tho');
      await page.getByTestId('commune-form-catalogue-q').fill('tho tang');
      await page.getByTestId('commune-form-catalogue-09112').click();
      expect(await page.getByTestId('commune-form-code').inputValue()).toBe('09112');
      expect(await page.getByTestId('commune-form-name').inputValue()).toBe('Thổ Tang');
      await page.getByTestId('commune-form-save').click();
      await page.getByTestId('commune-form').waitFor({ state: 'detached' });
      expect(await page.getByTestId('commune-tho-tang').getAttribute('data-code')).toBe('09112');
      expect((await t.api('/api/v1/communes/tho-tang')).body).toMatchObject({
        code: '09112',
        name: 'Thổ Tang',
        provinceId: 'phu-tho',
      });

      // A ward of Hà Nội's code typed into a commune of Phú Thọ.
      await page.getByTestId('commune-edit-tho-tang').click();
      await page.getByTestId('commune-form-code').fill('00070');
      await page.getByTestId('commune-form-save').click();
      const refused = page.getByTestId('commune-form').getByTestId('error-message');
      await refused.waitFor();
      expect(await refused.getAttribute('data-code')).toBe('invalid_request');
      expect(await refused.innerText()).toContain('Cần sửa: code');
      expect((await t.api('/api/v1/communes/tho-tang')).body.code).toBe('09112');
      expect(errors).toEqual([]);
      await close();
    }, 120_000);
  },
);
