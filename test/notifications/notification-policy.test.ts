import { describe, expect, it } from 'vitest';
import type { AlarmRecord } from '../../services/alarms/alarm-store.js';
import { alarmNotice } from '../../services/notifications/alarm-notices.js';
import { DeliveryError, redact } from '../../services/notifications/channel.js';
import { TelegramChannel } from '../../services/notifications/chat-channels.js';
import { digestText } from '../../services/notifications/notice-text.js';
import { retryDelay } from '../../services/notifications/outbox.js';
import { quietUntil } from '../../services/notifications/quiet-hours.js';
import { type Recipient, type RoutingRule, route } from '../../services/notifications/routing.js';
import { WebhookAddressPolicy } from '../../services/sharing/webhook-address-policy.js';

const HANOI = 'Asia/Ho_Chi_Minh';
const at = (local: string) => Date.parse(`${local}+07:00`);

describe('quiet hours', () => {
  const night = { start: '22:00', end: '06:00' };

  it('ends the next morning for a span across midnight, in the commune’s zone', () => {
    expect(quietUntil(at('2026-12-07T23:15:30'), night, HANOI)).toBe(at('2026-12-08T06:00:00'));
    expect(quietUntil(at('2026-12-08T02:00:00'), night, HANOI)).toBe(at('2026-12-08T06:00:00'));
    expect(quietUntil(at('2026-12-07T22:00:00'), night, HANOI)).toBe(at('2026-12-08T06:00:00'));
  });

  it('is not in force outside the span, nor when start equals end or none is set', () => {
    expect(quietUntil(at('2026-12-08T06:00:00'), night, HANOI)).toBeNull();
    expect(quietUntil(at('2026-12-07T21:59:59'), night, HANOI)).toBeNull();
    expect(quietUntil(at('2026-12-07T23:00:00'), { start: '00:00', end: '00:00' }, HANOI)).toBeNull();
    expect(quietUntil(at('2026-12-07T23:00:00'), null, HANOI)).toBeNull();
  });

  it('handles a span within one day (a midday rest)', () => {
    const noon = { start: '11:30', end: '13:30' };
    expect(quietUntil(at('2026-12-07T12:00:00'), noon, HANOI)).toBe(at('2026-12-07T13:30:00'));
    expect(quietUntil(at('2026-12-07T13:30:00'), noon, HANOI)).toBeNull();
  });
});

describe('routing', () => {
  const person = (id: string, extra: Partial<Recipient> = {}): Recipient => ({
    id,
    name: id,
    email: `${id}@xa.test`,
    telegramChatId: null,
    zaloUserId: null,
    villageHead: false,
    villageId: null,
    enabled: true,
    ...extra,
  });
  const rule = (extra: Partial<RoutingRule>): RoutingRule => ({
    kinds: [],
    minSeverity: 'warning',
    contactIds: [],
    villageHeads: false,
    channels: ['email'],
    enabled: true,
    ...extra,
  });
  const people = [
    person('a'),
    person('b', { telegramChatId: '42' }),
    person('head-4', { villageHead: true, villageId: 'thon-4', zaloUserId: '77' }),
    person('head-5', { villageHead: true, villageId: 'thon-5' }),
    person('off', { enabled: false }),
  ];
  const pairs = (notice: Parameters<typeof route>[0], rules: RoutingRule[]) =>
    route(notice, rules, people)
      .map((r) => `${r.recipient.id}:${r.channel}`)
      .sort();

  it('sends each matching recipient once per channel it has an address for', () => {
    const rules = [
      rule({ contactIds: ['a', 'b', 'off'], channels: ['email', 'telegram'] }),
      rule({ contactIds: ['a'], channels: ['email'] }),
    ];
    expect(pairs({ kind: 'overheating', severity: 'warning', villageId: null }, rules)).toEqual([
      'a:email',
      'b:email',
      'b:telegram',
    ]);
  });

  it('follows the kinds and the minimum severity of each rule', () => {
    const rules = [
      rule({ contactIds: ['a'], kinds: ['village-outage'], minSeverity: 'critical' }),
      rule({ contactIds: ['b'], kinds: ['weak-signal'] }),
    ];
    expect(pairs({ kind: 'village-outage', severity: 'critical', villageId: 'thon-4' }, rules)).toEqual([
      'a:email',
    ]);
    expect(pairs({ kind: 'weak-signal', severity: 'info', villageId: null }, rules)).toEqual([]);
    expect(pairs({ kind: 'weak-signal', severity: 'warning', villageId: null }, rules)).toEqual(['b:email']);
    expect(
      pairs({ kind: 'weak-signal', severity: 'warning', villageId: null }, [
        { ...rules[1], enabled: false } as RoutingRule,
      ]),
    ).toEqual([]);
  });

  it('reaches the heads of the alarm’s own village only', () => {
    const rules = [rule({ villageHeads: true, channels: ['email', 'zalo'] })];
    expect(pairs({ kind: 'cluster-offline', severity: 'critical', villageId: 'thon-4' }, rules)).toEqual([
      'head-4:email',
      'head-4:zalo',
    ]);
    expect(pairs({ kind: 'cluster-offline', severity: 'critical', villageId: null }, rules)).toEqual([]);
  });
});

describe('alarm notices', () => {
  const alarm = (extra: Partial<AlarmRecord> = {}): AlarmRecord => ({
    id: 'al-000000000001',
    kind: 'cluster-offline',
    severity: 'critical',
    state: 'open',
    deviceId: 'c1',
    deviceKind: 'cluster',
    communeId: 'xa',
    villageId: 'thon-1',
    detail: 'no heartbeat',
    incidentId: null,
    held: false,
    openedAt: 0,
    acknowledgedAt: null,
    acknowledgedBy: null,
    note: null,
    clearedAt: null,
    ...extra,
  });

  it('leaves an alarm opened as part of a village outage to the outage, and acknowledgements to the console', () => {
    expect(alarmNotice(alarm({ incidentId: 'su-co-1' }), 'opened', 0)).toBeNull();
    expect(alarmNotice(alarm(), 'acknowledged', 0)).toBeNull();
    expect(alarmNotice(alarm({ held: true }), 'opened', 5)).toMatchObject({
      subject: 'alarm',
      change: 'opened',
      held: true,
      deviceIds: ['c1'],
      at: 5,
    });
  });
});

describe('bounds', () => {
  it('lists at most 30 notices in a digest and counts the rest', () => {
    const items = Array.from({ length: 42 }, (_, i) => ({
      title: `Cảnh báo ${i}`,
      at: at('2026-12-07T09:00:00') + i * 1000,
    }));
    const text = digestText(items, 'Hướng Đạo', HANOI);
    expect(text.subject).toBe('[Hướng Đạo] Tổng hợp 42 cảnh báo');
    const lines = text.body.split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toHaveLength(31);
    expect(lines.at(-1)).toContain('và 12 cảnh báo khác');
  });

  it('waits longer after each failure, then repeats the last wait', () => {
    const delays = [30_000, 120_000, 600_000];
    expect([1, 2, 3, 4, 9].map((n) => retryDelay(delays, n))).toEqual([
      30_000, 120_000, 600_000, 600_000, 600_000,
    ]);
  });

  it('keeps secrets out of error texts', () => {
    expect(redact('POST /bot123456:secret-token/sendMessage failed', ['123456:secret-token'])).toBe(
      'POST /bot***/sendMessage failed',
    );
  });
});

describe('chat API addresses', () => {
  it('refuses a chat API on this PC unless allowed, as webhooks are (SSRF), for good', async () => {
    const telegram = new TelegramChannel({
      apiBase: 'http://127.0.0.1:9/',
      token: '123456:not-a-real-token',
      policy: new WebhookAddressPolicy({
        allowHttp: true,
        allowPrivate: false,
        allowLoopback: false,
        deniedPorts: () => [],
      }),
      timeoutMs: 1_000,
    });
    const sent = telegram.send('42', { subject: 's', body: 'b' }, new AbortController().signal);
    await expect(sent).rejects.toBeInstanceOf(DeliveryError);
    await expect(sent).rejects.toMatchObject({
      permanent: true,
      message: expect.stringMatching(/^refused: 127\.0\.0\.1/),
    });
    await expect(sent).rejects.not.toMatchObject({ message: expect.stringContaining('not-a-real-token') });
  });
});
