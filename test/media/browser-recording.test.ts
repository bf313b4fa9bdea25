import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * A recording made in the browser (MediaRecorder: WebM with Opus, from Chromium's fake microphone)
 * uploaded as is: the library keeps it as Ogg Opus, the same audio in a container clusters play.
 */
describe.skipIf(chromiumSkipReason())('a browser recording uploaded to the media library', () => {
  let t: TestPlatform;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestPlatform();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('is accepted and kept as Ogg Opus with its playing time', async () => {
    const context = await browser.newContext();
    const [name, value] = ((await t.headersFor('operator')).cookie as string).split('=') as [string, string];
    await context.addCookies([{ name, value, url: t.httpUrl }]);
    const page = await context.newPage();
    await page.goto(`${t.httpUrl}/docs`);
    // Runs in the page (a string: the suite is compiled without the DOM's types).
    const answer = (await page.evaluate(`(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const recorder = new MediaRecorder(stream, { mimeType: 'audio/webm;codecs=opus' });
      const parts = [];
      recorder.ondataavailable = (e) => parts.push(e.data);
      const stopped = new Promise((resolve) => (recorder.onstop = resolve));
      recorder.start(250);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      recorder.stop();
      await stopped;
      for (const track of stream.getTracks()) track.stop();
      const form = new FormData();
      form.append('name', 'Ghi âm thử');
      form.append('file', new Blob(parts, { type: 'audio/webm' }), 'ghi-am.webm');
      const response = await fetch('/api/v1/media', { method: 'POST', body: form });
      return { status: response.status, body: await response.json() };
    })()`)) as {
      status: number;
      body: { id: string; mime: string; ext: string; durationS: number; name: string };
    };
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({ name: 'Ghi âm thử', ext: 'ogg', mime: 'audio/ogg; codecs=opus' });
    expect(answer.body.durationS).toBeGreaterThan(1.5);
    expect(answer.body.durationS).toBeLessThan(2.6);
    const file = await t.api(`/api/v1/media/${answer.body.id}/content`, { as: 'operator' });
    expect(file.status).toBe(200);
    expect(String(file.body).startsWith('OggS')).toBe(true);
    await context.close();
  }, 60_000);
});
