import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { chromiumSkipReason } from '../support/chromium.js';
import { type ConsoleSession, startConsoleSession } from '../support/console-session.js';
import type { TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';
import { ForeignWords } from './foreign-words.js';

/*
 * What an operator does from the console besides scheduling by the Gregorian calendar: set the
 * volume of a village's clusters from the dashboard, and schedule a bulletin for every rằm. The
 * production build of web/ in Chromium, a real platform with the Hướng Đạo preset and its 18
 * simulated clusters over real MQTT; what counts is what the clusters report and what the API keeps.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = chromiumSkipReason();
const ZONE = 'Asia/Ho_Chi_Minh';
const DAY_MS = 86_400_000;

/** A date (YYYY-MM-DD) in Hà Nội. */
function hanoiDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** Whole weeks (Monday to Monday) from the week holding date `a` to the week holding date `b`. */
function weeksBetween(a: string, b: string): number {
  const monday = (day: string) => {
    const date = new Date(`${day}T00:00:00Z`);
    return date.getTime() - ((date.getUTCDay() + 6) % 7) * DAY_MS;
  };
  return Math.round((monday(b) - monday(a)) / (7 * DAY_MS));
}

describe.skipIf(skip !== null)(
  `operator controls and lunar schedules${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let session: ConsoleSession;
    let t: TestPlatform;
    let fleet: SimulatedFleet;
    /** Each cluster's village. */
    const villageOf = new Map<string, string>();

    const signInAsOperator = async () => {
      const signed = await session.signInAs('operator', { apiErrors: false });
      await signed.page.getByTestId('nav-dashboard').waitFor();
      return signed;
    };

    /** The English words and raw codes on a Vietnamese page, names of records aside. */
    const foreignOn = async (page: Page): Promise<string[]> => {
      const names = new Set<string>();
      for (const path of ['/clusters', '/villages', '/schedules']) {
        const answer = await t.api(`/api/v1${path}?limit=500`, { as: 'operator' });
        for (const item of (answer.body.items ?? []) as Record<string, unknown>[])
          for (const key of ['id', 'name'])
            if (typeof item[key] === 'string')
              for (const word of String(item[key]).split(/\s+/)) names.add(word);
      }
      return new ForeignWords(ROOT, names).find(await page.locator('main').innerText());
    };

    beforeAll(async () => {
      session = await startConsoleSession('sc-operator-console-', { config: { SEED_PRESET: 'huong-dao' } });
      t = session.t;
      const clusters = t.platform.registry.listClusters(
        { communeId: 'huong-dao' },
        { limit: 100, offset: 0 },
      ).items;
      for (const cluster of clusters) villageOf.set(cluster.id, cluster.villageId);
      fleet = await startFleet(
        t,
        clusters.map((c) => c.id),
      );
    }, 120_000);

    afterAll(async () => {
      await fleet?.stop();
      await session?.close();
    });

    it("lowers one village's volume from the dashboard; its clusters ack it, the others keep theirs", async () => {
      const village = 'hd-thon-01';
      const inVillage = [...villageOf].filter(([, v]) => v === village).map(([id]) => id);
      const others = [...villageOf.keys()].filter((id) => !inVillage.includes(id));
      expect(inVillage.length).toBeGreaterThanOrEqual(2);
      const before = new Map(others.map((id) => [id, fleet.require(id).status().volume]));
      const level = 35;
      expect([...before.values()]).not.toContain(level);

      const { page, errors, close } = await signInAsOperator();
      const scoped = (testId: string) =>
        page.locator(`[data-testid="${testId}"][data-scope="village:${village}"]`);
      await scoped('control-volume').fill(String(level));
      await scoped('control-volume-apply').click();
      const result = scoped('control-result');
      await result.waitFor({ timeout: 15_000 });
      expect({
        done: await result.getAttribute('data-done'),
        offline: await result.getAttribute('data-offline'),
        failed: await result.getAttribute('data-failed'),
      }).toEqual({ done: String(inVillage.length), offline: '0', failed: '0' });
      expect(await result.innerText()).toContain(`${inVillage.length}/${inVillage.length} cụm đã thực hiện`);

      for (const id of inVillage) expect(fleet.require(id).status().volume).toBe(level);
      for (const [id, volume] of before) expect(fleet.require(id).status().volume).toBe(volume);
      // And the platform hears it in their next heartbeats (every 5 s).
      await vi.waitFor(
        async () => {
          for (const id of inVillage) {
            const answer = await t.api(`/api/v1/clusters/${id}`, { as: 'operator' });
            expect(answer.body.status.volume).toBe(level);
          }
        },
        { timeout: 15_000, interval: 500 },
      );
      expect(await foreignOn(page)).toEqual([]);
      expect(errors).toEqual([]);
      await close();
    }, 60_000);

    it('schedules a bulletin for every rằm from the form, and the calendar gives its lunar dates', async () => {
      const name = 'Phát thanh ngày rằm';
      // From tomorrow at 07:00: hours away from now, so nothing is dispatched while the test runs.
      const firstDay = hanoiDate(new Date(Date.now() + DAY_MS));
      const { page, errors, close } = await signInAsOperator();
      await page.getByTestId('nav-announcements').click();
      await page.getByTestId('schedule-new').click();
      await page.getByTestId('schedule-name').fill(name);
      await page.getByTestId('content-stream').check();
      await page.getByLabel('Địa chỉ luồng').fill('http://127.0.0.1:9/daitinh');
      await page.getByTestId('schedule-duration').fill('600');
      await page.getByTestId('schedule-start').fill(`${firstDay}T07:00:00`);
      await page.getByTestId('schedule-recurrence').selectOption('lunar');
      await page.getByTestId('schedule-lunar-preset').selectOption('ram');
      expect(await page.getByTestId('schedule-rule-preview').textContent()).toBe(
        'Rằm hằng tháng (15 âm lịch), 07:00',
      );
      await page.getByTestId('target-village-hd-thon-02').check();
      await page.getByTestId('schedule-save').click();
      await page.getByTestId('schedule-form').waitFor({ state: 'detached', timeout: 10_000 });

      const listed = await t.api('/api/v1/schedules?limit=500', { as: 'operator' });
      const schedule = (listed.body.items as { id: string; name: string }[]).find((s) => s.name === name);
      expect(schedule).toMatchObject({
        rrule: null,
        lunar: { kind: 'monthly', day: 15, leap: 'also', shortMonth: 'last-day' },
        start: `${firstDay}T07:00:00`,
      });
      const id = schedule?.id as string;
      expect(
        await page
          .getByTestId(`schedule-${id}`)
          .getByTestId('schedule-rule')
          .textContent({ timeout: 10_000 }),
      ).toBe('Rằm hằng tháng (15 âm lịch), 07:00');
      // Opened again, the form shows the rule as it was chosen.
      await page.getByTestId(`schedule-${id}`).getByRole('button').click();
      expect(await page.getByTestId('schedule-recurrence').inputValue()).toBe('lunar');
      expect(await page.getByTestId('schedule-lunar-preset').inputValue()).toBe('ram');
      expect(await page.getByTestId('schedule-lunar-leap').isChecked()).toBe(true);
      await page.getByTestId('schedule-form').getByRole('button', { name: 'Hủy' }).click();

      // Two months hold two rằm at least; each falls on lunar day 15 at 07:00 in Hà Nội.
      const from = new Date();
      const to = new Date(from.getTime() + 62 * DAY_MS);
      const calendar = await t.api(
        `/api/v1/schedules/occurrences?from=${from.toISOString()}&to=${to.toISOString()}`,
        { as: 'operator' },
      );
      const occurrences = (
        calendar.body.items as {
          scheduleId: string;
          start: string;
          lunarDate: { day: number; month: number };
        }[]
      ).filter((o) => o.scheduleId === id);
      expect(occurrences.length).toBeGreaterThanOrEqual(2);
      for (const occurrence of occurrences) {
        expect(occurrence.lunarDate.day).toBe(15);
        expect(
          new Intl.DateTimeFormat('en-GB', {
            timeZone: ZONE,
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
          }).format(new Date(occurrence.start)),
        ).toBe('07:00');
      }

      // The calendar, moved on to the week of the first of them, shows it with both dates.
      const first = occurrences[0] as (typeof occurrences)[number];
      const day = hanoiDate(new Date(first.start));
      await page.getByTestId('nav-calendar').click();
      await page.getByTestId('calendar-next').waitFor();
      for (let i = weeksBetween(hanoiDate(new Date()), day); i > 0; i--)
        await page.getByTestId('calendar-next').click();
      const entry = page.locator(`[data-testid="occurrence"][data-schedule-id="${id}"]`).first();
      await entry.waitFor({ timeout: 10_000 });
      const dates = entry.getByTestId('occurrence-dates');
      expect(await dates.getAttribute('data-lunar-day')).toBe('15');
      expect(await dates.getAttribute('data-lunar-month')).toBe(String(first.lunarDate.month));
      const [, month, date] = day.split('-');
      expect(await dates.innerText()).toMatch(
        new RegExp(`^${date}/${month} · 15/${first.lunarDate.month}( nhuận)? ÂL$`),
      );
      expect(await foreignOn(page)).toEqual([]);
      expect(errors).toEqual([]);
      await close();
    }, 60_000);

    it("switches a village's amplifiers off every night from the control schedules page, and pauses it", async () => {
      const { page, errors, close } = await signInAsOperator();
      await page.getByTestId('nav-control-schedules').click();
      await page.getByTestId('control-schedule-new').click();
      await page.getByTestId('control-schedule-name').fill('Tắt tăng âm ban đêm');
      await page.getByTestId('target-village-hd-thon-03').check();
      await page.getByTestId('control-schedule-save').click();
      await page.getByTestId('control-schedule-form').waitFor({ state: 'detached', timeout: 10_000 });

      const listed = await t.api('/api/v1/control-schedules', { as: 'operator' });
      const [schedule] = listed.body as { id: string; command: unknown; rrule: string; next: string }[];
      expect(schedule).toMatchObject({ command: { type: 'power', on: false }, rrule: 'FREQ=DAILY' });
      // The next run is at 22:00 in Hà Nội (15:00 UTC).
      expect(new Date(schedule?.next as string).getUTCHours()).toBe(15);
      const row = page.locator(`[data-testid="control-schedule-row"][data-id="${schedule?.id}"]`);
      await row.waitFor();
      // A controlled box: it changes once the platform has taken the change.
      await row.getByTestId('control-schedule-enabled').click();
      await vi.waitFor(async () => {
        const again = await t.api('/api/v1/control-schedules', { as: 'operator' });
        expect(again.body[0]).toMatchObject({ enabled: false, next: null });
      });
      expect(await foreignOn(page)).toEqual([]);
      expect(errors).toEqual([]);
      await close();
    }, 60_000);
  },
);
