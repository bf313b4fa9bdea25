import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { chromiumSkipReason } from '../support/chromium.js';
import { type ConsoleSession, startConsoleSession } from '../support/console-session.js';
import { ManualClock } from '../support/manual-clock.js';
import type { Json, TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { ForeignWords } from './foreign-words.js';

/*
 * Alarms in the console, from what simulated Hướng Đạo clusters really do, on a manual clock
 * (started at the real time, so the browser's clock and the platform's agree on "now"): a
 * technician puts Thôn 3 under maintenance, so its cluster's drop is held and rings no bell; a
 * power cut of Thôn 1 shows as one village outage the moment it happens, its alarms open after the
 * rule's five minutes and ring the bell once; the technician acknowledges with notes; power comes
 * back and everything moves to the history by itself, all without a reload.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = chromiumSkipReason();
const OUTAGE = ['hd-c01', 'hd-c02'];
const HELD = 'hd-c04';
const OUTAGE_NOTE = 'Điện lực báo cắt điện thôn 1, chờ có điện lại';
const HELD_NOTE = 'Đang thay cột loa, đã biết';

/** Moves the clock forward a few seconds at a time, letting sockets and timers run between steps. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  const target = clock.now() + ms;
  while (clock.now() < target) {
    clock.advance(Math.min(5_000, target - clock.now()));
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

describe.skipIf(skip !== null)(`alarms in the console${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let session: ConsoleSession;
  let t: TestPlatform;
  let fleet: SimulatedFleet;
  const clock = new ManualClock(Date.now());
  const words = () => new ForeignWords(ROOT, new Set(['technician-all']));

  const signIn = (role: 'technician' | 'viewer' | 'police') =>
    session.signInAs(role, {
      // The bell says so when Web Audio refused to play.
      prepare: (page, errors) =>
        page.on('console', (message) => {
          if (message.type() === 'warning' && /alarm/.test(message.text())) errors.push(message.text());
        }),
    });

  const cut = async (ids: string[]) => {
    for (const id of ids) await fleet.injectFault(id, { kind: 'power-cut' });
    await vi.waitFor(() => expect(ids.map((id) => t.platform.presence.isOnline(id))).not.toContain(true), {
      timeout: 10_000,
    });
  };

  beforeAll(async () => {
    session = await startConsoleSession('sc-alarms-console-', {
      clock,
      config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 3 },
    });
    t = session.t;
    // Thôn 1's two clusters, Thôn 2's and Thôn 3's (the others stay unconnected: never seen, no alarm).
    fleet = await startFleet(t, [...OUTAGE, 'hd-c03', HELD], { clock, heartbeatIntervalS: 30 });
  }, 180_000);

  afterAll(async () => {
    await fleet?.stop();
    await session?.close();
  });

  it('shows an outage live, rings for new critical alarms only, and takes notes and maintenance', async () => {
    const { page, errors, close } = await signIn('technician');
    const main = page.locator('main');
    await page.getByTestId('nav-alarms').click();
    await page.getByText('Không có cảnh báo nào đang xảy ra.').waitFor();
    await expect.poll(() => page.getByTestId('live-status').getAttribute('class')).toContain('ok');
    expect(await main.locator('h1').textContent()).toBe('Cảnh báo');

    // The bell can be silenced, and the choice outlives a reload; then it is on again.
    const bell = page.getByTestId('alarm-sound-toggle');
    expect(await bell.getAttribute('data-muted')).toBe('false');
    await bell.click();
    await page.reload();
    await expect.poll(() => bell.getAttribute('data-muted')).toBe('true');
    expect(await bell.textContent()).toBe('Chuông báo: tắt');
    await bell.click();
    await expect.poll(() => bell.getAttribute('data-muted')).toBe('false');
    await expect.poll(() => page.getByTestId('live-status').getAttribute('class')).toContain('ok');

    // Thôn 3 goes under maintenance from the page.
    await page.getByTestId('maintenance-new').click();
    await page.getByTestId('maintenance-village').selectOption('hd-thon-03');
    await page.getByTestId('maintenance-reason').fill('Thay cột loa thôn 3');
    await page.getByTestId('maintenance-form-save').click();
    const window = page.locator('[data-testid="maintenance-row"][data-village-id="hd-thon-03"]');
    await window.waitFor();
    expect(await window.innerText()).toContain('Cả Thôn 3');
    expect(await window.innerText()).toContain('technician-all');
    const windows = await t.api('/api/v1/maintenance?communeId=huong-dao', { as: 'technician' });
    expect(windows.body.items).toMatchObject([
      { villageId: 'hd-thon-03', deviceIds: [HELD], reason: 'Thay cột loa thôn 3' },
    ]);

    // Its cluster drops: after five minutes its alarm opens, held, and rings nothing.
    await cut([HELD]);
    await advance(clock, 301_000);
    const held = page.locator(`[data-testid="alarm-row"][data-device-id="${HELD}"]`);
    await held.waitFor();
    expect(await held.getAttribute('data-held')).toBe('true');
    expect(await held.getAttribute('data-kind')).toBe('cluster-offline');
    expect(await held.getByTestId('alarm-held').textContent()).toBe('đang bảo trì');
    expect(await held.innerText()).toContain('Cụm loa mất kết nối');
    expect(await held.getByTestId('alarm-severity').textContent()).toBe('Nghiêm trọng');
    expect(await bell.getAttribute('data-beeps')).toBe('0');
    // Held alarms wait for no one: no count in the navigation.
    expect(await page.getByTestId('nav-alarms-count').count()).toBe(0);

    // Thôn 1 loses power: one outage, on the page as it happens, before any alarm.
    await cut(OUTAGE);
    const outage = page.locator('[data-testid="outage-row"][data-village-id="hd-thon-01"]');
    await outage.waitFor();
    expect(await outage.getAttribute('data-devices')).toBe('2');
    expect(await outage.getAttribute('data-alarms')).toBe('0');
    expect(await outage.innerText()).toContain('Mất điện/mạng cả thôn');
    expect(await outage.innerText()).toContain('Mới phát hiện');
    expect(
      await outage
        .getByTestId('outage-device')
        .evaluateAll((items) => items.map((item) => item.getAttribute('data-device-id'))),
    ).toEqual(OUTAGE);
    expect(await page.locator('[data-testid="alarm-row"]').count()).toBe(1);

    // Five minutes on, its two critical alarms open inside the outage's row, and the bell rings.
    await advance(clock, 301_000);
    await expect.poll(() => outage.getAttribute('data-alarms')).toBe('2');
    await expect.poll(async () => Number(await bell.getAttribute('data-beeps'))).toBeGreaterThanOrEqual(1);
    expect(await outage.getByTestId('alarm-severity').textContent()).toBe('Nghiêm trọng');
    const count = page.getByTestId('nav-alarms-count');
    await expect.poll(() => count.getAttribute('data-count')).toBe('2');
    expect(words().find(await main.innerText())).toEqual([]);

    // The outage is acknowledged with one note for both of its alarms; the count goes.
    await outage.getByTestId('outage-ack').click();
    const dialog = page.getByTestId('alarm-ack-dialog');
    expect(await dialog.locator('h2').textContent()).toBe('Xác nhận mất điện/mạng Thôn 1 (2 cảnh báo)');
    await dialog.getByTestId('alarm-ack-note-input').fill(OUTAGE_NOTE);
    await dialog.getByTestId('alarm-ack-confirm').click();
    await expect
      .poll(() =>
        outage
          .getByTestId('outage-device')
          .evaluateAll((items) => items.map((item) => item.getAttribute('data-alarm-state'))),
      )
      .toEqual(['acknowledged', 'acknowledged']);
    await count.waitFor({ state: 'detached' });
    expect(await outage.getByTestId('outage-ack').count()).toBe(0);

    // And the held one, on its own.
    await held.getByTestId('alarm-ack').click();
    await dialog.getByTestId('alarm-ack-note-input').fill(HELD_NOTE);
    await dialog.getByTestId('alarm-ack-confirm').click();
    await expect.poll(() => held.getAttribute('data-state')).toBe('acknowledged');
    expect(await held.getByTestId('alarm-note').innerText()).toContain(HELD_NOTE);
    expect(await held.getByTestId('alarm-acknowledged').innerText()).toContain('technician-all xác nhận lúc');

    const acknowledged = await t.api('/api/v1/alarms?communeId=huong-dao&state=acknowledged', {
      as: 'technician',
    });
    expect(
      (acknowledged.body.items as Json[])
        .map((a) => [a.deviceId, a.note, a.acknowledgedBy, a.incidentId !== null])
        .sort(),
    ).toEqual([
      ['hd-c01', OUTAGE_NOTE, 'technician-all', true],
      ['hd-c02', OUTAGE_NOTE, 'technician-all', true],
      [HELD, HELD_NOTE, 'technician-all', false],
    ]);

    // Power back: the outage and the alarms clear by themselves, into the history.
    for (const id of [...OUTAGE, HELD]) await fleet.clearFault(id, 'all');
    await page.getByText('Không có cảnh báo nào đang xảy ra.').waitFor({ timeout: 20_000 });
    expect(await outage.count()).toBe(0);
    const history = page.getByTestId('alarm-history-row');
    await expect.poll(() => history.count()).toBe(3);
    expect(await page.getByTestId('alarms-history').innerText()).toContain(OUTAGE_NOTE);
    expect(words().find(await main.innerText())).toEqual([]);

    // The device's own page lists its alarm, with the note.
    await page.locator(`[data-testid="alarm-history-row"][data-device-id="${HELD}"] a`).click();
    const deviceAlarm = page.getByTestId('device-alarm');
    await deviceAlarm.waitFor();
    expect(new URL(page.url()).pathname).toBe(`/devices/${HELD}`);
    expect(await deviceAlarm.getAttribute('data-state')).toBe('cleared');
    expect(await deviceAlarm.innerText()).toContain(HELD_NOTE);
    expect(words().find(await page.getByTestId('device-alarms').innerText())).toEqual([]);

    expect(errors).toEqual([]);
    await close();
  }, 120_000);

  it('lets a technician change a rule of the commune', async () => {
    const { page, errors, close } = await signIn('technician');
    await page.getByTestId('nav-alarms').click();
    const rule = page.locator('[data-testid="alarm-rule"][data-kind="overheating"]');
    await rule.waitFor();
    expect(await rule.getAttribute('data-custom')).toBe('false');
    expect(await rule.innerText()).toContain('Quá nhiệt');
    expect(await page.getByTestId('alarm-rule-minutes-overheating').inputValue()).toBe('5');
    await page.getByTestId('alarm-rule-severity-overheating').selectOption('critical');
    await page.getByTestId('alarm-rule-minutes-overheating').fill('1');
    await page.getByTestId('alarm-rule-threshold-overheating').fill('65');
    await page.getByTestId('alarm-rule-save-overheating').click();
    await expect.poll(() => rule.getAttribute('data-custom')).toBe('true');
    expect(await rule.getAttribute('data-for-s')).toBe('60');
    const rules = await t.api('/api/v1/alarm-rules/huong-dao', { as: 'technician' });
    expect((rules.body.items as Json[]).find((r) => r.kind === 'overheating')).toMatchObject({
      severity: 'critical',
      forS: 60,
      threshold: 65,
      custom: true,
    });
    expect(words().find(await page.locator('main').innerText())).toEqual([]);

    // And in English.
    await page.getByTestId('language-switch').first().selectOption('en');
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Alarms');
    expect(await rule.innerText()).toContain('Overheating');
    expect(await page.getByTestId('alarm-history-row').first().innerText()).toContain('Cluster offline');
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('shows a viewer the alarms without acting on them, and police no alarms page', async () => {
    const viewer = await signIn('viewer');
    await viewer.page.getByTestId('nav-alarms').click();
    await viewer.page.getByTestId('alarm-history-row').first().waitFor();
    expect(await viewer.page.getByTestId('alarm-ack').count()).toBe(0);
    expect(await viewer.page.getByTestId('maintenance').count()).toBe(0);
    expect(await viewer.page.getByTestId('alarm-rules').count()).toBe(0);
    expect(words().find(await viewer.page.locator('main').innerText())).toEqual([]);
    expect(viewer.errors).toEqual([]);
    await viewer.close();

    const police = await signIn('police');
    expect(await police.page.getByTestId('nav-alarms').count()).toBe(0);
    await police.page.goto(`${t.httpUrl}/alarms`);
    await police.page.getByTestId('not-allowed').waitFor();
    await police.close();
  }, 60_000);
});
