import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../support/chromium.js';
import { type ConsoleSession, startConsoleSession } from '../support/console-session.js';
import type { TestPlatform } from '../support/platform-harness.js';

/*
 * Text read aloud from the console: the production build in Chromium, the platform's own
 * synthesizer (eSpeak NG in WebAssembly), and the media picker of a new announcement.
 */
const skip = chromiumSkipReason();
const BULLETIN = 'UBND xã thông báo: 14h30 ngày 2/12 họp dân.';

describe.skipIf(skip !== null)(`text read aloud in the console${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let session: ConsoleSession;
  let t: TestPlatform;

  beforeAll(async () => {
    session = await startConsoleSession('sc-tts-console-', { config: { SEED_PRESET: 'huong-dao' } });
    t = session.t;
  }, 180_000);

  afterAll(() => session?.close());

  it('previews a typed bulletin, then keeps it in the library and chooses it for the announcement', async () => {
    const { page, errors, close } = await session.signInAs('operator', {
      apiErrors: false,
      // Which object URLs the page lets go (fetching a blob: URL to find out is not allowed by the CSP).
      prepare: (opened) =>
        opened.addInitScript(`{
          const revoke = URL.revokeObjectURL.bind(URL);
          window.revokedUrls = [];
          URL.revokeObjectURL = (url) => { window.revokedUrls.push(url); revoke(url); };
        }`),
    });
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
    await close();
  }, 90_000);
});
