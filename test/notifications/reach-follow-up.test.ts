import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import type { Json, TestPlatform } from '../support/platform-harness.js';
import { wavTone } from '../support/wav.js';
import { mailPlatformEachTest } from './mail-platform.js';

const SMTP = { user: 'canh-bao', pass: 'smtp-secret-5c1e0b' };
const HEADS = {
  'hd-thon-01': 'truong-thon-1@huong-dao.test',
  'hd-thon-02': 'truong-thon-2@huong-dao.test',
  'hd-thon-03': 'truong-thon-3@huong-dao.test',
};

/*
 * After an emergency, the villages whose clusters did not play it are followed up with their
 * heads: Thôn 1's two clusters are switched off, Thôn 2's and Thôn 3's are on. A real SMTP server
 * (smtp-server) receives what nodemailer sends; the clusters are the simulated ones over real MQTT;
 * time is a ManualClock.
 */
describe('reach-gap follow-up to village heads', () => {
  const rig = mailPlatformEachTest(SMTP);

  /** Hướng Đạo with a head for each of Thôn 1–3 (e-mail), and Thôn 2–3's clusters on. */
  const start = async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T09:00:00+07:00'));
    const { t: platform, smtp } = await rig.start(clock, { HEARTBEAT_MISSED_LIMIT: 20 });
    await rig.startFleet(['hd-c03', 'hd-c04'], { clock, heartbeatIntervalS: 60 });
    for (const [villageId, email] of Object.entries(HEADS)) {
      const made = await platform.api('/api/v1/notification-contacts', {
        method: 'POST',
        as: 'technician',
        body: {
          communeId: 'huong-dao',
          name: `Trưởng ${platform.platform.registry.getVillage(villageId).name}`,
          email,
          villageHead: true,
          villageId,
        },
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
    }
    const media = await platform.platform.media.ingest(
      { stream: Readable.from([wavTone(5)]), filename: 'lu-quet.wav' },
      { name: 'Cảnh báo lũ quét', createdBy: null },
    );
    const operator = { headers: await platform.headersFor('operator', { communeId: 'huong-dao' }) };
    /** An emergency to Thôn 1–3; resolves once every delivery is final. */
    const emergency = async (name: string, beforeFinal?: (id: string) => Promise<void>) => {
      const sent = await platform.api('/api/v1/broadcasts/emergency?waitMs=0', {
        method: 'POST',
        ...operator,
        body: {
          name,
          content: { kind: 'media', mediaId: media.id },
          targets: { villageIds: Object.keys(HEADS) },
        },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      const id = sent.body.id as string;
      await beforeFinal?.(id);
      await vi.waitFor(
        async () => {
          clock.advance(5_000);
          const reach = await platform.api(`/api/v1/broadcasts/${id}/reach`, operator);
          expect(reach.body.final).toBe(true);
        },
        { timeout: 30_000, interval: 20 },
      );
      return id;
    };
    return { platform, clock, operator, emergency, smtp };
  };

  const log = async (platform: TestPlatform, query: string): Promise<Json[]> =>
    (await platform.api(`/api/v1/notifications?${query}`, { as: 'operator' })).body.items;

  it('lets an operator tell the head of the village that missed an emergency, and no one else', async () => {
    const { platform, operator, emergency, smtp: mail } = await start();
    const id = await emergency('Cảnh báo lũ quét', async (broadcast) => {
      // Still under way: what was missed is not known yet.
      const early = await platform.api(`/api/v1/broadcasts/${broadcast}/reach/notify`, {
        method: 'POST',
        ...operator,
      });
      expect(early.status).toBe(409);
    });

    // Viewers do not send; an operator of another commune is told of no such broadcast.
    const viewer = await platform.api(`/api/v1/broadcasts/${id}/reach/notify`, {
      method: 'POST',
      as: 'viewer',
    });
    expect(viewer.status).toBe(403);
    await platform.platform.registry.createCommune({
      id: 'hop-thinh',
      name: 'Hợp Thịnh',
      provinceId: 'phu-tho',
    });
    const stranger = await platform.api(`/api/v1/broadcasts/${id}/reach/notify`, {
      method: 'POST',
      headers: await platform.headersFor('operator', { communeId: 'hop-thinh' }),
    });
    expect(stranger.status).toBe(404);
    // A village that did not miss it is refused by name.
    const wrong = await platform.api(`/api/v1/broadcasts/${id}/reach/notify`, {
      method: 'POST',
      ...operator,
      body: { villageIds: ['hd-thon-02'] },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toContain('body.villageIds');

    const told = await platform.api(`/api/v1/broadcasts/${id}/reach/notify`, {
      method: 'POST',
      ...operator,
      body: { channels: ['email'] },
    });
    expect(told.status, JSON.stringify(told.body)).toBe(200);
    expect(told.body.villages).toHaveLength(1);
    expect(told.body.villages[0]).toMatchObject({
      villageId: 'hd-thon-01',
      reached: false,
      outcome: 'queued',
    });
    expect(told.body.villages[0].notifications).toMatchObject([
      { broadcastId: id, villageId: 'hd-thon-01', channel: 'email', contactName: 'Trưởng Thôn 1' },
    ]);

    await vi.waitFor(() => expect(mail.mails).toHaveLength(1), { timeout: 10_000 });
    const [sent] = mail.mails;
    expect(sent?.to).toEqual([HEADS['hd-thon-01']]);
    expect(sent?.subject).toMatch(/Cảnh báo lũ quét/);
    expect(sent?.subject).toMatch(/Thôn 1(?!\d)/);
    expect(sent?.text).toContain('Cụm loa Thôn 1 — điểm 1');
    expect(sent?.text).toContain('Đề nghị trưởng thôn thông báo nội dung bản tin');
    expect(sent?.text).toContain(id);

    // Logged with its outcome, and found by broadcast.
    await vi.waitFor(async () =>
      expect(
        (await log(platform, `broadcastId=${id}`)).map((n) => [n.contactName, n.status, n.attempts]),
      ).toEqual([['Trưởng Thôn 1', 'sent', 1]]),
    );
    // Asked again: each village is told of a broadcast once.
    const again = await platform.api(`/api/v1/broadcasts/${id}/reach/notify`, {
      method: 'POST',
      ...operator,
    });
    expect(again.body.villages[0]).toMatchObject({ villageId: 'hd-thon-01', outcome: 'already-told' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mail.mails).toHaveLength(1);
    // Audited.
    const audit = await platform.api('/api/v1/audit?action=broadcast.reach.notify', { as: 'admin' });
    expect(audit.body.items.length).toBeGreaterThanOrEqual(2);
    // Bounded: ten requests a minute per account (four made above).
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push(
        (await platform.api(`/api/v1/broadcasts/${id}/reach/notify`, { method: 'POST', ...operator })).status,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
  }, 90_000);

  it('follows up by itself where the commune has a reach-gap rule for village heads', async () => {
    const { platform, operator, emergency, smtp: mail } = await start();
    const rule = await platform.api('/api/v1/notification-rules', {
      method: 'POST',
      as: 'technician',
      body: {
        communeId: 'huong-dao',
        name: 'Bản tin chưa tới thôn: báo trưởng thôn',
        kinds: ['reach-gap'],
        minSeverity: 'info',
        villageHeads: true,
        channels: ['email'],
      },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);

    const id = await emergency('Thông báo khẩn: sơ tán');
    await vi.waitFor(() => expect(mail.mails.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only the head of the village that missed it: the heads of those that heard it get nothing.
    expect(mail.mails.map((m) => m.to)).toEqual([[HEADS['hd-thon-01']]]);
    expect(mail.mails[0]?.subject).toMatch(/Thông báo khẩn: sơ tán/);
    expect(mail.mails[0]?.subject).toMatch(/Thôn 1(?!\d)/);
    const followed = await platform.api(`/api/v1/broadcasts/${id}/reach/notify`, {
      method: 'POST',
      ...operator,
    });
    expect(followed.body.villages[0]).toMatchObject({ villageId: 'hd-thon-01', outcome: 'already-told' });
  }, 90_000);
});
