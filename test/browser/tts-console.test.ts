import { rmSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.js';
import { buildConsole } from '../support/console-build.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * Text read aloud from the console: the production build in Chromium, the platform's own
 * synthesizer (eSpeak NG in WebAssembly), and the media picker of a new announcement.
 */
const skip = chromiumSkipReason();
const BULLETIN = 'UBND xã thông báo: 14h30 ngày 2/12 họp dân.';

describe.skipIf(skip !== null)(`text read aloud in the console${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let webRoot = '';
  let t: TestPlatform;
  let browser: Browser;

  beforeAll(async () => {
    webRoot = await buildConsole('sc-tts-console-');
    t = await startTestPlatform({ webRoot, config: { SEED_PRESET: 'huong-dao' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('previews a typed bulletin, then keeps it in the library and chooses it for the announcement', async () => {
    await t.headersFor('operator');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // Which object URLs the page lets go (fetching a blob: URL to find out is not allowed by the CSP).
    await page.addInitScript(`{
      const revoke = URL.revokeObjectURL.bind(URL);
      window.revokedUrls = [];
      URL.revokeObjectURL = (url) => { window.revokedUrls.push(url); revoke(url); };
    }`);
    await page.goto(`${t.httpUrl}/`);
    await page.getByTestId('login-username').fill('operator-all');
    await page.getByTestId('login-password').fill('operator-all-password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('nav-announcements').click();
    await page.getByTestId('schedule-new').click();

    await page.getByTestId('tts-text').fill(BULLETIN);
    await page.getByTestId('tts-voice').selectOption('northern');
    await page.getByTestId('tts-preview').click();
    const audio = page.getByTestId('tts-audio');
    await audio.waitFor({ timeout: 30_000 });
    const previewUrl = await audio.getAttribute('src');
    expect(previewUrl).toMatch(/^blob:/);
    // The WAV's length as the browser reads it, once it has read the header.
    const previewS = await page.evaluate<number>(`new Promise((resolve, reject) => {
      const audio = document.querySelector('[data-testid=tts-audio]');
      const failed = () => reject(new Error('the preview did not load: media error ' + audio.error?.code));
      if (audio.readyState >= 1) resolve(audio.duration);
      else if (audio.error) failed();
      else {
        audio.addEventListener('loadedmetadata', () => resolve(audio.duration), { once: true });
        audio.addEventListener('error', failed, { once: true });
      }
    })`);
    expect(previewS).toBeGreaterThan(2);

    // No name typed: the item is named for the day and minute it was read.
    await page.getByTestId('tts-save').click();
    const result = page.getByTestId('tts-result');
    await result.waitFor({ timeout: 30_000 });
    const mediaId = await result.getAttribute('data-media-id');
    expect(mediaId).toBeTruthy();
    await expect.poll(() => page.getByTestId('media-select').inputValue(), { timeout: 10_000 }).toBe(mediaId);

    const library = await t.api('/api/v1/media?limit=500', { as: 'operator' });
    const media = (
      library.body.items as { id: string; name: string; mime: string; durationS: number }[]
    ).find((item) => item.id === mediaId);
    // Kept as MP3 (what the clusters fetch); the preview stays a WAV to play at once.
    expect(media).toMatchObject({ mime: 'audio/mpeg' });
    expect(media?.name).toMatch(/^Đọc văn bản \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);
    expect(media?.durationS).toBeGreaterThan(2);
    // The same text in the same voice: the kept speech is the one previewed.
    expect(Math.abs((media?.durationS ?? 0) - previewS)).toBeLessThan(0.1);

    // Editing the text drops the preview of the old words, and the browser lets its audio go.
    await page.getByTestId('tts-text').fill(`${BULLETIN} Kính mời.`);
    expect(await audio.count()).toBe(0);
    expect(await page.evaluate<string[]>('window.revokedUrls')).toEqual([previewUrl]);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
