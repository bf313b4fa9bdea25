import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.js';
import { buildConsole } from '../support/console-build.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { wavTone } from '../support/wav.js';

/*
 * Live talk end to end: the console's production build in Chromium, whose fake microphone plays
 * a 1 kHz tone from a WAV file, talking to the 18 simulated Hướng Đạo clusters over real MQTT;
 * what counts is what each simulated cluster decoded from the stream.
 */
const skip = chromiumSkipReason();
const TONE_HZ = 1000;

describe.skipIf(skip !== null)(`live talk from the console${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let webRoot = '';
  let micDir = '';
  let t: TestPlatform;
  let fleet: SimulatedFleet;
  let browser: Browser;
  const clusterIds: string[] = [];

  /** An operator signed in to the live page. */
  const operatorOnLivePage = async (): Promise<{ page: Page; close(): Promise<void> }> => {
    await t.headersFor('operator');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    const page = await context.newPage();
    await page.goto(`${t.httpUrl}/`);
    await page.getByTestId('login-username').fill('operator-all');
    await page.getByTestId('login-password').fill('operator-all-password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('nav-live').click();
    await page.getByTestId('live-start').waitFor();
    return { page, close: () => context.close() };
  };

  /** The talk under way, from the broadcast log. */
  const activeTalk = async (): Promise<string> => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const log = await t.api(`/api/v1/broadcasts?from=${from}&to=${to}`, { as: 'operator' });
    const talk = (log.body.items as { id: string; kind: string; status: string }[]).find(
      (b) => b.kind === 'talk' && b.status === 'active',
    );
    if (!talk) throw new Error('no talk under way');
    return talk.id;
  };

  /** Starts talking on the page and waits until all 18 clusters play; the talk's broadcast id. */
  const talkToAll = async (page: Page): Promise<string> => {
    await page.getByTestId('live-start').click();
    await vi.waitFor(async () => expect(await page.getByTestId('live-playing').innerText()).toBe('18'), {
      timeout: 30_000,
      interval: 250,
    });
    return activeTalk();
  };

  const reportsOf = (broadcastId: string) =>
    clusterIds.map((id) =>
      fleet
        .get(id)
        ?.streamReports()
        .find((r) => r.broadcastId === broadcastId),
    );

  beforeAll(async () => {
    webRoot = await buildConsole('sc-live-console-');
    t = await startTestPlatform({ webRoot, config: { SEED_PRESET: 'huong-dao', LIVE_SILENCE_S: 4 } });
    for (const cluster of t.platform.registry.listClusters(
      { communeId: 'huong-dao' },
      { limit: 100, offset: 0 },
    ).items)
      clusterIds.push(cluster.id);
    fleet = await startFleet(t, clusterIds, { heartbeatIntervalS: 30 });
    // The fake microphone: Chromium loops this file for as long as the page captures.
    micDir = mkdtempSync(join(tmpdir(), 'sc-mic-'));
    writeFileSync(join(micDir, 'tone.wav'), wavTone(10, { sampleRate: 48_000, frequency: TONE_HZ }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        ...CHROMIUM_ARGS,
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-audio-capture=${join(micDir, 'tone.wav')}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    await t?.close();
    rmSync(webRoot, { recursive: true, force: true });
    rmSync(micDir, { recursive: true, force: true });
  });

  it("plays the operator's microphone on all 18 clusters, and keeps the recording in the log", async () => {
    const { page, close } = await operatorOnLivePage();
    const broadcastId = await talkToAll(page);
    // The level meter moves with the tone.
    await vi.waitFor(async () =>
      expect(Number(await page.getByTestId('live-level').getAttribute('aria-valuenow'))).toBeGreaterThan(10),
    );
    // Every cluster decodes a few seconds of it.
    await vi.waitFor(
      () => {
        for (const report of reportsOf(broadcastId)) expect(report?.decodedS ?? 0).toBeGreaterThan(3);
      },
      { timeout: 20_000, interval: 250 },
    );
    await page.getByTestId('live-stop').click();
    const ended = page.getByTestId('live-ended');
    await ended.waitFor();
    expect(await ended.getAttribute('data-reason')).toBe('stopped');
    const recordingId = await page.getByTestId('live-recording').getAttribute('data-media-id');

    // Each cluster heard the microphone's tone held for a second or more. (The steady tones are
    // asked for rather than the overall dominant pitch: a capture glitch on a loaded machine adds
    // clicks, never a second steady tone.)
    for (const report of reportsOf(broadcastId)) {
      const heard = (report?.tones ?? []).filter((tone) => Math.abs(tone.hz - TONE_HZ) < 50);
      expect(heard.reduce((sum, tone) => sum + tone.durationS, 0)).toBeGreaterThan(1);
    }
    const log = await t.api(`/api/v1/broadcasts/${broadcastId}`, { as: 'operator' });
    expect(log.body).toMatchObject({ kind: 'talk', recordingMediaId: recordingId });
    expect(t.platform.media.get(recordingId as string).durationS).toBeGreaterThan(3);
    await close();
  }, 90_000);

  it("ends the talk on every cluster, with the reason, when the operator's tab is closed mid-talk", async () => {
    const { page, close } = await operatorOnLivePage();
    const broadcastId = await talkToAll(page);
    await vi.waitFor(() => {
      for (const report of reportsOf(broadcastId)) expect(report?.decodedS ?? 0).toBeGreaterThan(1);
    });
    const closedAt = Date.now();
    await close();
    // Within the silence limit (4 s) and a little for the stop to reach them.
    await vi.waitFor(
      () => {
        for (const report of reportsOf(broadcastId)) expect(report?.ended).not.toBeNull();
      },
      { timeout: 12_000, interval: 250 },
    );
    expect(Date.now() - closedAt).toBeLessThan(10_000);
    const log = await t.api(`/api/v1/broadcasts/${broadcastId}`, { as: 'operator' });
    expect(log.body.status).toBe('stopped');
    // A closing tab ends its microphone track first; the page may still get the stop out before its
    // socket dies (the operator ended it) or not (the silence limit ends it). Either way every
    // cluster is told the same reason. (test/live/live-talk.test.ts covers the silence limit alone.)
    const reasons = new Set((log.body.deliveries as { reason: string }[]).map((d) => d.reason));
    expect(reasons.size).toBe(1);
    expect([
      'the operator ended the live talk',
      "the operator's connection was lost; the talk ended after the silence limit",
    ]).toContain([...reasons][0]);
  }, 90_000);

  it('needs HTTPS for the microphone on a LAN address, and works over the certificate the platform issues', async () => {
    // The commune PC as other PCs reach it: by a LAN name, not localhost.
    const lan = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        ...CHROMIUM_ARGS,
        '--host-resolver-rules=MAP commune.lan 127.0.0.1',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
      ],
    });
    await t.headersFor('operator');
    const plainPage = await (await lan.newContext()).newPage();
    await plainPage.goto(`http://commune.lan:${t.platform.httpPort}/live`);
    await plainPage.getByTestId('login-username').fill('operator-all');
    await plainPage.getByTestId('login-password').fill('operator-all-password');
    await plainPage.getByTestId('login-submit').click();
    const notice = plainPage.getByTestId('microphone-notice');
    await notice.waitFor();
    expect(await notice.getAttribute('data-support')).toBe('insecure');
    expect(await plainPage.getByTestId('live-start').count()).toBe(0);
    await lan.close();

    const secure = await startTestPlatform({
      webRoot,
      config: { SEED_PRESET: 'huong-dao', TLS_SELF_SIGNED: true },
    });
    try {
      // Created directly: the harness's own sign-in does not trust this certificate.
      await secure.platform.auth.createUser({
        username: 'operator-all',
        displayName: 'operator-all',
        password: 'operator-all-password',
        roles: ['operator'],
      });
      const cert = new X509Certificate(readFileSync(join(secure.dataDir, 'tls', 'server-cert.pem')));
      const spki = createHash('sha256')
        .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('base64');
      // A PC that trusted the platform's authority: this browser trusts its server key.
      const trusting = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          ...CHROMIUM_ARGS,
          '--host-resolver-rules=MAP commune.lan 127.0.0.1',
          `--ignore-certificate-errors-spki-list=${spki}`,
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
        ],
      });
      const page = await (await trusting.newContext()).newPage();
      await page.goto(`https://commune.lan:${secure.platform.httpPort}/live`);
      await page.getByTestId('login-username').fill('operator-all');
      await page.getByTestId('login-password').fill('operator-all-password');
      await page.getByTestId('login-submit').click();
      await page.getByTestId('live-start').click();
      // The microphone is open and the platform took the talk (its clusters are offline here).
      await page.locator('[data-phase="live"]').waitFor({ timeout: 15_000 });
      expect(await page.getByTestId('microphone-notice').count()).toBe(0);
      await page.getByTestId('live-stop').click();
      await page.getByTestId('live-ended').waitFor();
      await trusting.close();
    } finally {
      await secure.close();
    }
  }, 90_000);
});
