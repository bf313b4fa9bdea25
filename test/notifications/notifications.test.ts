import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlarmRecord } from '../../services/alarms/alarm-store.js';
import type { Config } from '../../services/config.js';
import { verifyWebhookSignature } from '../../services/sharing/webhook-signature.js';
import { parseFault } from '../../simulators/speaker-cluster/faults.js';
import { ManualClock } from '../support/manual-clock.js';
import type { Json, TestPlatform } from '../support/platform-harness.js';
import { type HttpStub, startHttpStub } from './http-stub.js';
import { mailPlatformEachTest } from './mail-platform.js';

const MIN = 60_000;
const SMTP = { user: 'canh-bao', pass: 'smtp-secret-9f3a71' };

/**
 * Moves the manual clock to `ms` later in steps, letting sockets run between them (presence, the
 * alarms' debounce and the simulated clusters run on the same clock).
 */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  const target = clock.now() + ms;
  while (clock.now() < target) {
    clock.advance(Math.min(5_000, target - clock.now()));
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

/*
 * Alarms that reach people, with real parts: a real SMTP server (smtp-server) receives the e-mail
 * nodemailer sends, the simulated Hướng Đạo clusters lose power over real MQTT, and real HTTP
 * servers on loopback receive the webhooks. Telegram's and Zalo's APIs cannot be reached from
 * here, so a local HTTP server stands in for both, answering as their documentation says. Time is
 * a ManualClock: quiet hours, digest windows and retries pass without sleeping.
 */
describe('notifications', () => {
  const rig = mailPlatformEachTest(SMTP);
  const stubs: HttpStub[] = [];
  afterEach(async () => {
    for (const stub of stubs.splice(0)) await stub.close();
  });

  const start = (clock: ManualClock, config: Partial<Config> = {}) =>
    rig.start(clock, { HEARTBEAT_MISSED_LIMIT: 3, ...config });

  /** A recipient of Hướng Đạo and a rule that sends it what `rule` says (default: every alarm, e-mail). */
  const recipient = async (
    platform: TestPlatform,
    contact: Record<string, unknown>,
    rule: Record<string, unknown> = {},
  ): Promise<string> => {
    const made = await platform.api('/api/v1/notification-contacts', {
      method: 'POST',
      as: 'technician',
      body: { communeId: 'huong-dao', ...contact },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const routed = await platform.api('/api/v1/notification-rules', {
      method: 'POST',
      as: 'technician',
      body: {
        communeId: 'huong-dao',
        name: 'Mọi cảnh báo',
        contactIds: [made.body.id],
        channels: ['email'],
        ...rule,
      },
    });
    expect(routed.status, JSON.stringify(routed.body)).toBe(201);
    return made.body.id as string;
  };

  const log = async (platform: TestPlatform, query: string): Promise<Json[]> => {
    const answer = await platform.api(`/api/v1/notifications?${query}`, { as: 'operator' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.items;
  };

  let serial = 0;
  /** An alarm as the engine opens one: stored, then told on the bus. */
  const raise = async (platform: TestPlatform, fields: Partial<AlarmRecord>): Promise<AlarmRecord> => {
    const deviceId = fields.deviceId ?? 'hd-c05';
    const alarm: AlarmRecord = {
      id: `al-${(++serial).toString(16).padStart(12, '0')}`,
      kind: 'overheating',
      severity: 'warning',
      state: 'open',
      deviceId,
      deviceKind: 'cluster',
      communeId: 'huong-dao',
      villageId: platform.platform.registry.getCluster(deviceId).villageId,
      detail: '78 °C inside the cabinet',
      incidentId: null,
      held: false,
      openedAt: platform.platform.clock.now(),
      acknowledgedAt: null,
      acknowledgedBy: null,
      note: null,
      clearedAt: null,
      ...fields,
    };
    await platform.platform.alarms.store.insert(alarm);
    platform.platform.events.emit('alarm.changed', { alarm, change: 'opened', at: alarm.openedAt });
    return alarm;
  };

  it('tells of a village power cut once, as the outage, by e-mail, and then of its end', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T08:00:00+07:00'));
    const { t, smtp } = await start(clock);
    const chairman = await recipient(t, { name: 'Chủ tịch UBND xã', email: 'chu-tich@huong-dao.test' });
    const fleet = await rig.startFleet(['hd-c01', 'hd-c02'], { clock, heartbeatIntervalS: 30 });

    // Thôn 1 loses power: both its clusters drop at once.
    for (const id of ['hd-c01', 'hd-c02']) await fleet.get(id)?.injectFault(parseFault('power-cut'));
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 15_000 });
    const [mail] = smtp.mails;
    expect(mail?.to).toEqual(['chu-tich@huong-dao.test']);
    expect(mail?.from).toBe('loa@huong-dao.test');
    expect(mail?.user).toBe(SMTP.user);
    expect(mail?.subject).toBe('[Hướng Đạo] KHẨN: Mất điện hoặc mất mạng cả thôn — Thôn 1 (2 thiết bị)');
    expect(mail?.text).toContain('Xã: Hướng Đạo, Thôn 1\n');
    expect(mail?.text).toMatch(/Thiết bị: .*\(hd-c01\), .*\(hd-c02\)/);
    expect(mail?.text).toContain('Lúc: 08:00 07/12/2026');
    const incident = (await t.api('/api/v1/incidents?communeId=huong-dao&open=true', { as: 'operator' })).body
      .items[0];
    expect(incident).toMatchObject({ villageId: 'hd-thon-01' });

    // Five minutes later each cluster's offline alarm opens, as part of the outage: nobody is told again.
    await advance(clock, 301_000);
    const open = (await t.api('/api/v1/alarms?communeId=huong-dao&state=open', { as: 'operator' })).body
      .items;
    expect(open.map((a: Json) => [a.deviceId, a.incidentId]).sort()).toEqual([
      ['hd-c01', incident.id],
      ['hd-c02', incident.id],
    ]);
    expect(smtp.mails).toHaveLength(1);
    const told = await log(t, 'communeId=huong-dao');
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({
      kind: 'notice',
      incidentId: incident.id,
      alarmId: null,
      change: 'opened',
      severity: 'critical',
      contactId: chairman,
      contactName: 'Chủ tịch UBND xã',
      channel: 'email',
      status: 'sent',
      attempts: 1,
      lastError: null,
    });

    // Power is back: the clusters boot, the outage clears, and its end is told once the digest
    // window of the first message (10 minutes) is over.
    for (const id of ['hd-c01', 'hd-c02']) await fleet.get(id)?.clearFault('all');
    await vi.waitFor(async () => {
      const outage = await log(t, `incidentId=${incident.id}&status=queued`);
      expect(outage).toMatchObject([{ change: 'cleared', status: 'queued', reason: 'digest-window' }]);
    });
    const over = (await t.api('/api/v1/incidents?communeId=huong-dao', { as: 'operator' })).body.items[0];
    expect(over.clearedAt).not.toBeNull();
    await advance(clock, 10 * MIN);
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(2));
    expect(smtp.mails[1]?.subject).toBe('[Hướng Đạo] Đã khôi phục: Thôn 1 — mọi thiết bị hoạt động trở lại');
    expect(smtp.mails[1]?.text).toContain(`Mã sự cố: ${incident.id}`);
    // The clusters' own alarms cleared too, without a message each.
    expect((await log(t, 'communeId=huong-dao')).map((n) => [n.change, n.status])).toEqual([
      ['cleared', 'sent'],
      ['opened', 'sent'],
    ]);
    // The SMTP password is in no answer.
    const everything = await t.api('/api/v1/notifications', { as: 'admin' });
    expect(JSON.stringify(everything.body)).not.toContain(SMTP.pass);
  }, 90_000);

  it('tells nobody of an alarm under a maintenance window, and logs it as held', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T08:00:00+07:00'));
    const { t, smtp } = await start(clock);
    const technician = await recipient(t, { name: 'Kỹ thuật viên', email: 'ktv@huong-dao.test' });
    // A mailbox the server refuses (550): failed at once, not retried.
    const gone = await recipient(t, { name: 'Hộp thư cũ', email: 'refuse@huong-dao.test' });
    const fleet = await rig.startFleet(['hd-c04', 'hd-c06'], { clock, heartbeatIntervalS: 30 });
    const window = await t.api('/api/v1/maintenance', {
      method: 'POST',
      as: 'technician',
      body: { villageId: 'hd-thon-03', endsAt: '2026-12-07T12:00:00+07:00', reason: 'Thay cột loa thôn 3' },
    });
    expect(window.body.deviceIds).toEqual(['hd-c04']);
    await t.api('/api/v1/alarm-rules/huong-dao/overheating', {
      method: 'PATCH',
      as: 'technician',
      body: { forS: 0 },
    });

    for (const id of ['hd-c04', 'hd-c06']) await fleet.get(id)?.injectFault(parseFault('overheat'));
    await advance(clock, 31_000);
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 15_000 });
    expect(smtp.mails[0]?.to).toEqual(['ktv@huong-dao.test']);
    expect(smtp.mails[0]?.subject).toMatch(
      /^\[Hướng Đạo\] Cảnh báo: Tủ thiết bị quá nóng — .*\(hd-c06\), Thôn 4$/,
    );

    const alarmOf = async (deviceId: string) =>
      (await t.api(`/api/v1/alarms?deviceId=${deviceId}`, { as: 'technician' })).body.items[0];
    const held = await alarmOf('hd-c04');
    expect(held).toMatchObject({ kind: 'overheating', held: true });
    const heldLog = await log(t, `alarmId=${held.id}`);
    expect(heldLog.map((n) => [n.contactId, n.status, n.reason]).sort()).toEqual(
      [
        [technician, 'suppressed', 'held'],
        [gone, 'suppressed', 'held'],
      ].sort(),
    );

    const told = await alarmOf('hd-c06');
    await vi.waitFor(async () => {
      const rows = await log(t, `alarmId=${told.id}&contactId=${gone}`);
      expect(rows[0]).toMatchObject({ status: 'failed', attempts: 1 });
      expect(rows[0].reason).toMatch(/550/);
    });
    expect(await log(t, `alarmId=${told.id}&contactId=${technician}`)).toMatchObject([
      { status: 'sent', attempts: 1 },
    ]);
  }, 60_000);

  it('holds a warning through quiet hours until morning; a critical bypasses them when so set', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T23:00:00+07:00'));
    // Sessions outlast the night and the day that follows on this clock.
    const { t, smtp } = await start(clock, { SESSION_IDLE_MIN: 1_440, SESSION_MAX_H: 48 });
    await recipient(t, { name: 'Phó chủ tịch xã', email: 'pho-chu-tich@huong-dao.test' });
    const settings = await t.api('/api/v1/notification-settings/huong-dao', {
      method: 'PATCH',
      as: 'technician',
      body: { quietHours: { start: '22:00', end: '06:00' }, criticalBypassesQuiet: true },
    });
    expect(settings.body).toEqual({
      communeId: 'huong-dao',
      quietHours: { start: '22:00', end: '06:00' },
      criticalBypassesQuiet: true,
      digestWindowMin: 10,
      custom: true,
    });

    const warning = await raise(t, {
      kind: 'low-supply',
      severity: 'warning',
      deviceId: 'hd-c05',
      detail: 'supply 10.4 V',
    });
    expect(await log(t, `alarmId=${warning.id}`)).toMatchObject([
      { status: 'queued', reason: 'quiet', dueAt: '2026-12-07T23:00:00.000Z' }, // 06:00 in Hà Nội
    ]);
    clock.advance(MIN);
    await raise(t, {
      kind: 'cluster-offline',
      severity: 'critical',
      deviceId: 'hd-c09',
      detail: 'no heartbeat',
    });
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1));
    expect(smtp.mails[0]?.subject).toMatch(/KHẨN: Cụm loa mất kết nối — .*\(hd-c09\)/);

    // Morning: the warning goes at 06:00.
    clock.advance(6 * 60 * MIN + 58 * MIN);
    expect(smtp.mails).toHaveLength(1);
    clock.advance(MIN);
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(2));
    expect(smtp.mails[1]?.subject).toMatch(/Cảnh báo: Nguồn điện yếu — .*\(hd-c05\)/);
    expect(await log(t, `alarmId=${warning.id}`)).toMatchObject([
      { status: 'sent', sentAt: '2026-12-07T23:00:00.000Z' },
    ]);

    // Without the bypass, a critical waits for the morning too.
    await t.api('/api/v1/notification-settings/huong-dao', {
      method: 'PATCH',
      as: 'technician',
      body: { criticalBypassesQuiet: false },
    });
    clock.advance(17 * 60 * MIN + 30 * MIN); // 23:30
    const night = await raise(t, { kind: 'camera-offline', severity: 'critical', deviceId: 'hd-c10' });
    expect(await log(t, `alarmId=${night.id}`)).toMatchObject([
      { status: 'queued', reason: 'quiet', dueAt: '2026-12-08T23:00:00.000Z' },
    ]);
  }, 60_000);

  it('gathers the alarms of a digest window into one message instead of a flood', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T09:00:00+07:00'));
    const { t, smtp } = await start(clock);
    const contact = await recipient(t, { name: 'Cán bộ văn hoá xã', email: 'van-hoa@huong-dao.test' });
    await raise(t, { deviceId: 'hd-c05' });
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1));

    const devices = ['hd-c06', 'hd-c07', 'hd-c08', 'hd-c09', 'hd-c10'];
    const five: AlarmRecord[] = [];
    for (const deviceId of devices) {
      clock.advance(MIN);
      five.push(await raise(t, { kind: 'speaker-fault', deviceId, detail: 'speaker 1: open-circuit' }));
    }
    for (const alarm of five)
      expect(await log(t, `alarmId=${alarm.id}`)).toMatchObject([
        { status: 'queued', reason: 'digest-window', dueAt: '2026-12-07T02:10:00.000Z' },
      ]);
    clock.advance(5 * MIN);
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(2));
    const digest = smtp.mails[1];
    expect(digest?.subject).toBe('[Hướng Đạo] Tổng hợp 5 cảnh báo');
    const lines = (digest?.text ?? '').split('\n').filter((line) => line.startsWith('- '));
    expect(lines).toHaveLength(5);
    for (const [i, id] of devices.entries())
      expect(lines[i]).toMatch(new RegExp(`^- 09:0${i + 1} Cảnh báo: Loa bị lỗi — .*\\(${id}\\)`));

    const rows = await log(t, `contactId=${contact}`);
    const message = rows.find((n) => n.kind === 'digest');
    expect(message).toMatchObject({ items: 5, status: 'sent', attempts: 1, channel: 'email' });
    for (const alarm of five)
      expect(await log(t, `alarmId=${alarm.id}`)).toMatchObject([
        { status: 'suppressed', reason: 'digested', digestId: message.id },
      ]);
  }, 60_000);

  it('posts alarm notices to a signed webhook and retries a failed POST on the clock', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T10:00:00+07:00'));
    const receiver = await startHttpStub((_request, n) => ({ status: n === 0 ? 500 : 200 }));
    stubs.push(receiver);
    const { t } = await start(clock, { WEBHOOK_ALLOW_HTTP: true, WEBHOOK_ALLOW_LOOPBACK: true });
    const hook = await t.api('/api/v1/webhooks', {
      method: 'POST',
      body: { url: `${receiver.url}/hooks/canh-bao`, events: ['alarm'] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);

    await raise(t, { held: true, deviceId: 'hd-c04' }); // maintenance: never posted
    const alarm = await raise(t, { kind: 'low-supply', deviceId: 'hd-c05', detail: 'supply 10.2 V' });
    clock.advance(1_000); // the webhooks' gathering window
    const deliveries = async () =>
      (await t.api(`/api/v1/webhooks/${hook.body.id}/deliveries`)).body.items as Json[];
    await vi.waitFor(async () => expect((await deliveries())[0]?.attempts).toHaveLength(1));
    expect(receiver.requests).toHaveLength(1);
    clock.advance(10_000); // the first retry
    await vi.waitFor(async () => expect((await deliveries())[0]?.state).toBe('delivered'));

    expect(receiver.requests).toHaveLength(2);
    expect((await deliveries())[0]?.attempts.map((a: Json) => a.status)).toEqual([500, 200]);
    for (const request of receiver.requests) {
      expect(request.path).toBe('/hooks/canh-bao');
      expect(
        verifyWebhookSignature({
          secret: hook.body.secret,
          timestamp: String(request.headers['x-webhook-timestamp']),
          body: request.body,
          header: String(request.headers['x-webhook-signature']),
          nowMs: clock.now(),
        }),
      ).toBe(true);
    }
    expect(receiver.requests[1]?.headers['x-webhook-id']).toBe(receiver.requests[0]?.headers['x-webhook-id']);
    expect(JSON.parse(receiver.requests[1]?.body ?? '')).toMatchObject({
      type: 'alarm',
      data: {
        subject: 'alarm',
        change: 'opened',
        alarmId: alarm.id,
        kind: 'low-supply',
        severity: 'warning',
        communeId: 'huong-dao',
        villageId: 'hd-thon-04',
        deviceIds: ['hd-c05'],
      },
    });
  }, 60_000);

  it('sends through a Telegram bot and a Zalo OA (local stand-ins for their APIs), retrying flood control', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T14:00:00+07:00'));
    const botToken = '7011223344:AAF-test-token-not-real';
    const oaToken = 'zalo-oa-access-token-not-real';
    let telegramCalls = 0;
    // Stands in for api.telegram.org and openapi.zalo.me, which cannot be reached from here.
    const chat = await startHttpStub((request) => {
      if (request.path.startsWith('/bot'))
        return telegramCalls++ === 0
          ? {
              status: 429,
              body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 5' },
            }
          : { status: 200, body: { ok: true, result: { message_id: telegramCalls } } };
      return { status: 200, body: { error: 0, message: 'Success', data: { message_id: 'zm-1' } } };
    });
    stubs.push(chat);
    const { t } = await start(clock, {
      WEBHOOK_ALLOW_HTTP: true,
      WEBHOOK_ALLOW_LOOPBACK: true,
      TELEGRAM_API_BASE: chat.url,
      TELEGRAM_BOT_TOKEN: botToken,
      ZALO_API_BASE: chat.url,
      ZALO_ACCESS_TOKEN: oaToken,
    });
    // The village head of Thôn 4, reached as a village head (not named in the rule).
    const head = await recipient(
      t,
      {
        name: 'Trưởng thôn 4',
        telegramChatId: '-1002003004',
        zaloUserId: '8450123456789',
        villageHead: true,
        villageId: 'hd-thon-04',
      },
      {
        contactIds: [],
        villageHeads: true,
        kinds: ['cluster-offline'],
        minSeverity: 'critical',
        channels: ['telegram', 'zalo'],
      },
    );
    await raise(t, { kind: 'cluster-offline', severity: 'warning', deviceId: 'hd-c06' }); // below the rule's severity
    const alarm = await raise(t, {
      kind: 'cluster-offline',
      severity: 'critical',
      deviceId: 'hd-c05',
      detail: 'no heartbeat',
    });

    const byChannel = async (channel: string) =>
      (await log(t, `alarmId=${alarm.id}`)).find((n) => n.channel === channel);
    await vi.waitFor(async () =>
      expect(await byChannel('zalo')).toMatchObject({ status: 'sent', attempts: 1 }),
    );
    await vi.waitFor(async () =>
      expect(await byChannel('telegram')).toMatchObject({
        status: 'queued',
        reason: 'retry',
        attempts: 1,
        lastError: 'HTTP 429: Too Many Requests: retry after 5',
      }),
    );
    clock.advance(30_000);
    await vi.waitFor(async () =>
      expect(await byChannel('telegram')).toMatchObject({ status: 'sent', attempts: 2 }),
    );
    expect(await log(t, 'communeId=huong-dao')).toHaveLength(2); // the warning reached nobody

    const telegram = chat.requests.filter((r) => r.path.startsWith('/bot'));
    expect(telegram.map((r) => r.path)).toEqual([
      `/bot${botToken}/sendMessage`,
      `/bot${botToken}/sendMessage`,
    ]);
    const sent = JSON.parse(telegram[1]?.body ?? '{}');
    expect(sent.chat_id).toBe('-1002003004');
    expect(sent.text).toMatch(/^KHẨN: Cụm loa mất kết nối — .*\(hd-c05\), Thôn 4\n/);
    const zalo = chat.requests.find((r) => r.path === '/v3.0/oa/message/cs');
    expect(zalo?.headers.access_token).toBe(oaToken);
    expect(JSON.parse(zalo?.body ?? '{}')).toMatchObject({
      recipient: { user_id: '8450123456789' },
      message: { text: expect.stringContaining('(hd-c05)') },
    });

    // A test message, now, on both channels.
    const test = await t.api(`/api/v1/notification-contacts/${head}/test`, {
      method: 'POST',
      as: 'technician',
    });
    expect(test.status, JSON.stringify(test.body)).toBe(200);
    expect(test.body.results.map((r: Json) => [r.channel, r.ok, r.error])).toEqual([
      ['telegram', true, null],
      ['zalo', true, null],
    ]);
    const lastOf = (prefix: string) =>
      chat.requests.filter((r) => r.path.startsWith(prefix)).at(-1)?.body ?? '{}';
    expect(JSON.parse(lastOf('/bot')).text).toContain('Tin nhắn thử cho Trưởng thôn 4');
    expect(JSON.parse(lastOf('/v3.0/')).message.text).toContain('Tin nhắn thử cho Trưởng thôn 4');

    // The bot token and the OA token are in no answer.
    const answers = JSON.stringify([
      (await t.api('/api/v1/notifications', { as: 'admin' })).body,
      (await t.api('/api/v1/notification-contacts', { as: 'admin' })).body,
      test.body,
    ]);
    expect(answers).not.toContain(botToken);
    expect(answers).not.toContain(oaToken);
  }, 60_000);
});
