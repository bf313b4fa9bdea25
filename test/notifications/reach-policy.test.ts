import { describe, expect, it } from 'vitest';
import { mergeSpans } from '../../services/alarms/maintenance-downtime.js';
import type { DeliveryRecord } from '../../services/broadcasts/broadcast-store.js';
import { reachGap } from '../../services/broadcasts/reach.js';
import { reachText } from '../../services/notifications/notice-text.js';
import { type Recipient, type RoutingRule, route } from '../../services/notifications/routing.js';

const head = (id: string, villageId: string): Recipient => ({
  id,
  name: id,
  email: `${id}@xa.test`,
  telegramChatId: null,
  zaloUserId: null,
  villageHead: true,
  villageId,
  enabled: true,
});
const rule = (extra: Partial<RoutingRule>): RoutingRule => ({
  kinds: [],
  minSeverity: 'info',
  contactIds: [],
  villageHeads: true,
  channels: ['email'],
  enabled: true,
  ...extra,
});

describe('reach-gap routing', () => {
  const heads = [head('h1', 'thon-1'), head('h2', 'thon-2')];
  const gap = { kind: 'reach-gap' as const, severity: 'critical' as const, villageId: 'thon-1' };

  it('follows a reach gap up only under a rule that names it, to the heads of that village', () => {
    expect(route(gap, [rule({})], heads)).toEqual([]);
    expect(route(gap, [rule({ kinds: ['cluster-offline'] })], heads)).toEqual([]);
    expect(route(gap, [rule({ kinds: ['reach-gap'] })], heads).map((r) => r.recipient.id)).toEqual(['h1']);
  });
});

describe('the reach gap of a broadcast', () => {
  const delivery = (clusterId: string, state: DeliveryRecord['state'], startedAt: number | null = null) =>
    ({ clusterId, state, startedAt, reason: state === 'missed' ? 'offline' : null }) as DeliveryRecord;
  const registry = {
    clusterLabels: (ids: readonly string[]) =>
      new Map(
        ids.map((id) => [id, { name: `Cụm ${id}`, villageId: id.startsWith('a') ? 'thon-a' : 'thon-b' }]),
      ),
    getVillage: (id: string) =>
      ({ id, name: id === 'thon-a' ? 'Thôn A' : 'Thôn B', communeId: 'xa' }) as ReturnType<
        Parameters<typeof reachGap>[1]['getVillage']
      >,
  };

  it('lists villages not reached at all before those reached in part, and is final once nothing is open', () => {
    const open = reachGap([delivery('a1', 'missed'), delivery('b1', 'sent')], registry);
    expect(open.final).toBe(false);
    const done = reachGap(
      [
        delivery('a1', 'done'),
        delivery('a2', 'missed'),
        delivery('a3', 'stopped', 5),
        delivery('b1', 'missed'),
        delivery('b2', 'expired'),
      ],
      registry,
    );
    expect(done.final).toBe(true);
    // a3 was stopped after it began to play: heard. a2 missed while a1 played: reached in part.
    expect(done.villages.map((v) => [v.villageName, v.reached, v.missing.map((m) => m.clusterId)])).toEqual([
      ['Thôn B', false, ['b1', 'b2']],
      ['Thôn A', true, ['a2']],
    ]);
  });

  it('names the bulletin, the village and the silent clusters in the message', () => {
    const text = reachText({
      broadcastId: 'b-000000000001',
      broadcastName: 'Cảnh báo lũ',
      level: 'emergency',
      startAt: Date.parse('2026-12-07T02:00:00Z'),
      villageName: 'Thôn 4',
      communeName: 'Hướng Đạo',
      reached: false,
      missing: [{ name: 'Cụm loa Thôn 4', reason: 'offline' }],
      timeZone: 'Asia/Ho_Chi_Minh',
    });
    expect(text.subject).toBe('[Hướng Đạo] KHẨN: Bản tin khẩn cấp "Cảnh báo lũ" chưa phát được ở Thôn 4');
    expect(text.body).toContain('phát lúc 09:00 07/12/2026');
    expect(text.body).toContain('Cụm loa không phát: Cụm loa Thôn 4 (offline)');
  });
});

describe('maintenance spans', () => {
  it('merges overlapping windows and cuts them to the period', () => {
    expect(
      mergeSpans(
        [
          [50, 120],
          [0, 20],
          [10, 30],
          [200, 300],
        ],
        5,
        250,
      ),
    ).toEqual([
      [5, 30],
      [50, 120],
      [200, 250],
    ]);
  });
});
