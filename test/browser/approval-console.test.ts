import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../support/chromium.js';
import { type ConsoleSession, startConsoleSession } from '../support/console-session.js';
import type { TestPlatform } from '../support/platform-harness.js';
import { wavTone } from '../support/wav.js';
import { ForeignWords } from './foreign-words.js';

/*
 * Content approval (duyệt nội dung) from the console: an operator of a commune that requires it
 * writes a bulletin to be read aloud, hears it, and sends it for approval; the commune's approver
 * returns it with a comment, then approves it once sent again. And a programme (a file, a pause,
 * a text read aloud) put together in the schedule form. The production build in Chromium, a real
 * platform with the Hướng Đạo preset and its own synthesizer; what counts is what the API keeps.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = chromiumSkipReason();
const DAY_MS = 86_400_000;
const BULLETIN = 'UBND xã thông báo: 7h30 sáng mai họp dân tại nhà văn hóa thôn 2.';
const RETURN_COMMENT = 'Ghi rõ địa điểm họp và nhắc bà con mang theo căn cước.';

/** A date (YYYY-MM-DD) in Hà Nội. */
function hanoiDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Ho_Chi_Minh',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** The day of the week in Hà Nội, as 'Mon'…'Sun'. */
function hanoiWeekday(at: Date): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Ho_Chi_Minh', weekday: 'short' }).format(at);
}

describe.skipIf(skip !== null)(`content approval in the console${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let session: ConsoleSession;
  let t: TestPlatform;
  // Tomorrow: hours away, so nothing airs while the test runs.
  const tomorrow = hanoiDate(new Date(Date.now() + DAY_MS));

  const signIn = (role: 'admin' | 'operator' | 'approver') => session.signInAs(role);

  const scheduleNamed = async (name: string) => {
    const listed = await t.api('/api/v1/schedules?limit=500', { as: 'operator' });
    const found = (listed.body.items as { id: string; name: string }[]).find((s) => s.name === name);
    if (!found) throw new Error(`no schedule named ${name}`);
    return found as { id: string; name: string } & Record<string, unknown>;
  };

  beforeAll(async () => {
    session = await startConsoleSession('sc-approval-console-', { config: { SEED_PRESET: 'huong-dao' } });
    t = session.t;
    // The commune's announcements wait for its approver from now on.
    const patched = await t.api('/api/v1/communes/huong-dao', {
      method: 'PATCH',
      body: { approvalRequired: true },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.approvalRequired).toBe(true);
  }, 180_000);

  afterAll(() => session?.close());

  it('takes a bulletin read aloud from draft to approved: previewed, submitted, returned with a comment, approved', async () => {
    const name = 'Thông báo họp dân';
    const operator = await signIn('operator');
    const { page } = operator;
    await page.getByTestId('nav-announcements').click();
    await page.getByTestId('schedule-new').click();
    await page.getByTestId('schedule-name').fill(name);
    await page.getByTestId('content-tts').check();
    await page.getByTestId('content-tts-text').fill(BULLETIN);
    await page.getByTestId('content-tts-voice').selectOption('southern');

    // The operator hears it before saving: the platform reads it (200, a WAV) and the page plays it.
    const [preview] = await Promise.all([
      page.waitForResponse(
        (response) =>
          response.url().endsWith('/api/v1/tts/preview') && response.request().method() === 'POST',
        { timeout: 30_000 },
      ),
      page.getByTestId('content-tts-preview').click(),
    ]);
    expect(preview.status()).toBe(200);
    expect(preview.headers()['content-type']).toMatch(/^audio\/wav/);
    expect(preview.request().postDataJSON()).toEqual({ text: BULLETIN, voice: 'southern' });
    const audio = page.getByTestId('content-tts-audio');
    await audio.waitFor({ timeout: 30_000 });
    expect(await audio.getAttribute('src')).toMatch(/^blob:/);

    await page.getByTestId('schedule-start').fill(`${tomorrow}T07:00:00`);
    await page.getByTestId('target-village-hd-thon-02').check();
    await page.getByTestId('schedule-save').click();
    // Saving speaks the text on the platform.
    await page.getByTestId('schedule-form').waitFor({ state: 'detached', timeout: 30_000 });

    const saved = await scheduleNamed(name);
    expect(saved.content).toMatchObject({ kind: 'tts', text: BULLETIN, voice: 'southern' });
    expect((saved.content as { mediaId?: string }).mediaId).toBeTruthy();
    const row = page.getByTestId(`schedule-${saved.id}`);
    const chip = row.getByTestId('schedule-approval');
    await expect.poll(() => chip.getAttribute('data-state')).toBe('draft');
    expect(await chip.textContent()).toBe('Nháp');
    expect(await row.innerText()).toContain(`Đọc văn bản (Giọng Nam): “${BULLETIN}”`);

    await row.getByTestId('schedule-submit').click();
    await expect.poll(() => chip.getAttribute('data-state')).toBe('submitted');
    expect(await chip.textContent()).toBe('Chờ duyệt');
    expect(await row.getByTestId('schedule-submit').count()).toBe(0);

    // The approver lands on what waits for them, and sees only the pages they may use.
    const approver = await signIn('approver');
    const review = approver.page;
    await review.getByTestId(`approval-${saved.id}`).waitFor();
    expect(new URL(review.url()).pathname).toBe('/approvals');
    const nav = await review
      .locator('nav a')
      .evaluateAll((links) => links.map((link) => link.getAttribute('data-testid')));
    expect(nav).toEqual([
      'nav-approvals',
      'nav-calendar',
      'nav-inbox',
      'nav-reports',
      'nav-summary',
      'nav-password',
    ]);
    const card = review.getByTestId(`approval-${saved.id}`);
    expect(await card.getByTestId('listen-text').textContent()).toBe(BULLETIN);
    expect(await card.getByTestId('listen-audio').getAttribute('data-media-id')).toBe(
      (saved.content as { mediaId: string }).mediaId,
    );
    expect(await card.innerText()).toContain('Thôn 2');
    // And hears what would air: the speech the platform kept, played with the approver's session.
    const heardS = await review.evaluate<number>(`new Promise((resolve, reject) => {
      const audio = document.querySelector('[data-testid="approval-${saved.id}"] [data-testid=listen-audio]');
      audio.addEventListener('loadedmetadata', () => resolve(audio.duration), { once: true });
      audio.addEventListener('error', () => reject(new Error('media error ' + audio.error?.code)), { once: true });
      audio.preload = 'metadata';
      audio.load();
    })`);
    expect(heardS).toBeGreaterThan(2);
    // The page in Vietnamese: no English words, no raw codes.
    const words = new ForeignWords(ROOT, new Set(['approver-all', 'operator-all', ...name.split(' ')]));
    expect(words.find(await review.locator('main').innerText())).toEqual([]);

    // The calendar shows it where it would air, waiting for approval; the log opens without refusals.
    await review.getByTestId('nav-calendar').click();
    await review.getByTestId('calendar-next').waitFor();
    if (hanoiWeekday(new Date()) === 'Sun') await review.getByTestId('calendar-next').click();
    const occurrence = review.locator(`[data-testid="occurrence"][data-schedule-id="${saved.id}"]`);
    expect(await occurrence.getAttribute('data-approval')).toBe('submitted');
    expect(await occurrence.getByTestId('occurrence-approval').textContent()).toBe('Chờ duyệt');
    await review.getByTestId('nav-reports').click();
    await review.getByTestId('broadcast-log').waitFor();
    await review.waitForLoadState('networkidle');
    await review.getByTestId('nav-approvals').click();

    // Returning needs a comment.
    await card.getByTestId('approval-return').click();
    const dialog = review.getByTestId('approval-dialog');
    await dialog.getByTestId('approval-comment').waitFor();
    expect(await dialog.getByTestId('approval-confirm').isDisabled()).toBe(true);
    await dialog.getByTestId('approval-comment').fill(RETURN_COMMENT);
    await dialog.getByTestId('approval-confirm').click();
    await card.waitFor({ state: 'detached' });
    await review.getByTestId('approvals-empty').waitFor();

    // The operator reads why, and sends it again as it is.
    await page.reload();
    await expect.poll(() => chip.getAttribute('data-state')).toBe('returned');
    expect(await chip.textContent()).toBe('Bị trả lại');
    const comment = row.getByTestId('schedule-return-comment');
    expect(await comment.innerText()).toContain(RETURN_COMMENT);
    expect(await comment.innerText()).toContain('approver-all');
    await row.getByTestId('schedule-submit').click();
    await expect.poll(() => chip.getAttribute('data-state')).toBe('submitted');

    // Approved, with no comment to add.
    await review.reload();
    await card.getByTestId('approval-approve').click();
    await dialog.getByTestId('approval-confirm').click();
    await card.waitFor({ state: 'detached' });

    await page.reload();
    await expect.poll(() => chip.getAttribute('data-state')).toBe('approved');
    expect(await chip.textContent()).toBe('Đã duyệt: approver-all');
    expect(await row.getByTestId('schedule-submit').count()).toBe(0);
    const approved = await t.api(`/api/v1/schedules/${saved.id}`, { as: 'operator' });
    expect(approved.body.approval).toMatchObject({ state: 'approved', approvedBy: 'approver-all' });
    expect(
      (approved.body.approval.steps as { step: string; comment: string | null }[]).map((s) => [
        s.step,
        s.comment,
      ]),
    ).toEqual([
      ['submitted', null],
      ['returned', RETURN_COMMENT],
      ['submitted', null],
      ['approved', null],
    ]);

    expect(operator.errors).toEqual([]);
    expect(approver.errors).toEqual([]);
    await approver.close();
    await operator.close();
  }, 120_000);

  it('puts a programme together in the form: a file, a pause and a text read aloud, in that order', async () => {
    const name = 'Chương trình phát thanh sáng';
    const spoken = 'Tiếp theo là bản tin nông nghiệp của xã.';
    const form = new FormData();
    form.append('file', new Blob([wavTone(2)], { type: 'audio/wav' }), 'Nhac hieu.wav');
    const upload = await fetch(`${t.httpUrl}/api/v1/media`, {
      method: 'POST',
      body: form,
      headers: await t.headersFor('operator'),
    });
    expect(upload.status).toBe(201);
    const { id: mediaId } = (await upload.json()) as { id: string };

    const { page, errors, close } = await signIn('operator');
    await page.getByTestId('nav-announcements').click();
    await page.getByTestId('schedule-new').click();
    await page.getByTestId('schedule-name').fill(name);
    await page.getByTestId('content-programme').check();
    const items = page.getByTestId('programme-item');

    await page.getByTestId('programme-add-media').click();
    await items.nth(0).getByTestId('programme-media').selectOption(mediaId);
    // Added in another order, then the pause moved up before the text.
    await page.getByTestId('programme-add-tts').click();
    await items.nth(1).getByTestId('programme-tts-text').fill(spoken);
    await page.getByTestId('programme-add-silence').click();
    await items.nth(2).getByTestId('programme-silence').fill('1.5');
    await items.nth(2).getByTestId('programme-item-up').click();
    expect(await items.evaluateAll((list) => list.map((item) => item.getAttribute('data-kind')))).toEqual([
      'media',
      'silence',
      'tts',
    ]);
    // What is known of its length: the 2 s file and the pause; the text is timed once read.
    const total = page.getByTestId('programme-total');
    expect(await total.getAttribute('data-known-s')).toBe('3.5');
    expect(await total.getAttribute('data-unknown')).toBe('1');
    // A programme plays once: no repeat to set.
    expect(await page.getByLabel('Số lần phát').count()).toBe(0);

    await page.getByTestId('schedule-start').fill(`${tomorrow}T08:00:00`);
    await page.getByTestId('target-village-hd-thon-03').check();
    await page.getByTestId('schedule-save').click();
    await page.getByTestId('schedule-form').waitFor({ state: 'detached', timeout: 30_000 });

    const saved = await scheduleNamed(name);
    const content = saved.content as { kind: string; items: Record<string, unknown>[] };
    expect(content.kind).toBe('programme');
    expect(content.items).toHaveLength(3);
    expect(content.items[0]).toEqual({ kind: 'media', mediaId });
    expect(content.items[1]).toEqual({ kind: 'silence', durationS: 1.5 });
    expect(content.items[2]).toMatchObject({ kind: 'tts', text: spoken, voice: 'northern' });
    expect(content.items[2]?.mediaId).toBeTruthy();
    expect(saved.repeat).toBe(1);
    expect(saved.approval).toMatchObject({ state: 'draft' });
    const row = page.getByTestId(`schedule-${saved.id}`);
    await expect.poll(() => row.getByTestId('schedule-approval').getAttribute('data-state')).toBe('draft');
    expect(await row.innerText()).toContain('Chương trình 3 mục: Nhac hieu · Lặng 1,5 giây · Đọc:');

    // Opened again, the form holds the items as saved.
    await row.getByTestId('schedule-edit').click();
    expect(await items.evaluateAll((list) => list.map((item) => item.getAttribute('data-kind')))).toEqual([
      'media',
      'silence',
      'tts',
    ]);
    expect(await items.nth(0).getByTestId('programme-media').inputValue()).toBe(mediaId);
    expect(await items.nth(2).getByTestId('programme-tts-text').inputValue()).toBe(spoken);
    expect(errors).toEqual([]);
    await close();
  }, 90_000);
  it('sends an emergency read aloud at once; the approver reviews it afterwards and the log says so', async () => {
    const text = 'Khẩn cấp: nước sông dâng cao, bà con vùng trũng di chuyển lên chỗ cao ngay.';
    const operator = await signIn('operator');
    const { page } = operator;
    await page.getByTestId('nav-emergency').click();
    await page.getByTestId('emergency-content-tts').check();
    await page.getByTestId('emergency-tts-text').fill(text);
    await page.getByTestId('emergency-all').check();
    await page.getByTestId('emergency-button').click();
    await page.getByTestId('emergency-confirm-confirm').click();
    const progress = page.getByTestId('emergency-progress');
    await progress.waitFor({ timeout: 30_000 });
    const id = (await progress.getAttribute('data-broadcast-id')) as string;
    const sent = await t.api(`/api/v1/broadcasts/${id}`, { as: 'operator' });
    expect(sent.body.content).toMatchObject({ kind: 'tts', text, voice: 'northern' });
    expect(sent.body.review).toEqual({ state: 'pending', reviewedBy: null });

    const approver = await signIn('approver');
    const review = approver.page;
    const row = review.getByTestId(`review-${id}`);
    expect(await row.innerText()).toContain(`Đọc văn bản (Giọng Bắc): “${text}”`);
    await row.getByTestId('review-done').click();
    await row.waitFor({ state: 'detached' });
    await review.getByTestId('reviews').getByText('Không có bản tin khẩn cấp nào cần xem xét.').waitFor();

    await review.getByTestId('nav-reports').click();
    const logged = review.getByTestId(`broadcast-${id}`).locator('[data-review]');
    expect(await logged.getAttribute('data-review')).toBe('reviewed');
    expect(await logged.textContent()).toBe('Đã xem xét: approver-all');
    const reviewed = await t.api(`/api/v1/broadcasts/${id}`, { as: 'operator' });
    expect(reviewed.body.review).toEqual({ state: 'reviewed', reviewedBy: 'approver-all' });

    expect(operator.errors).toEqual([]);
    expect(approver.errors).toEqual([]);
    await approver.close();
    await operator.close();
  }, 90_000);

  it("lets an admin say whether a commune's announcements wait for approval", async () => {
    const { page, errors, close } = await signIn('admin');
    await page.getByTestId('nav-communes').click();
    // Set for Hướng Đạo through the API before these tests, and shown so.
    expect(await page.getByTestId('commune-huong-dao').getAttribute('data-approval-required')).toBe('true');

    await page.getByTestId('commune-new').click();
    await page.getByTestId('commune-form-id').fill('xa-thu-duyet');
    await page.getByTestId('commune-form-name').fill('Xã Thử Duyệt');
    await page.getByTestId('commune-form-approval').check();
    await page.getByTestId('commune-form-save').click();
    await page.getByTestId('commune-form').waitFor({ state: 'detached' });
    const row = page.getByTestId('commune-xa-thu-duyet');
    expect(await row.getAttribute('data-approval-required')).toBe('true');
    expect((await t.api('/api/v1/communes/xa-thu-duyet')).body.approvalRequired).toBe(true);

    await page.getByTestId('commune-edit-xa-thu-duyet').click();
    expect(await page.getByTestId('commune-form-approval').isChecked()).toBe(true);
    await page.getByTestId('commune-form-approval').uncheck();
    await page.getByTestId('commune-form-save').click();
    await page.getByTestId('commune-form').waitFor({ state: 'detached' });
    await expect.poll(() => row.getAttribute('data-approval-required')).toBe('false');
    expect((await t.api('/api/v1/communes/xa-thu-duyet')).body).toMatchObject({
      name: 'Xã Thử Duyệt',
      approvalRequired: false,
    });
    expect(errors).toEqual([]);
    await close();
  }, 60_000);
});
