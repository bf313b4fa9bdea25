import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { wavTone } from '../support/wav.js';

const stream = { kind: 'stream', url: 'https://radio.example.vn/vov1' } as const;

describe('schedules API', () => {
  let t: TestPlatform;
  const clock = new ManualClock(Date.parse('2026-11-22T00:00:00Z'));
  const post = (body: unknown, as: 'operator' | 'admin' = 'operator') =>
    t.api('/api/v1/schedules', { method: 'POST', body, as });

  beforeAll(async () => {
    t = await startTestPlatform({ clock });
    const { registry } = t.platform;
    await registry.createCommune({ id: 'xa-a', name: 'Xã A' });
    await registry.createCommune({ id: 'xa-b', name: 'Xã B' });
    await registry.createVillage({ id: 'thon-1', communeId: 'xa-a', name: 'Thôn 1' });
    await registry.createVillage({ id: 'thon-2', communeId: 'xa-a', name: 'Thôn 2' });
    await registry.createVillage({ id: 'thon-b', communeId: 'xa-b', name: 'Thôn B' });
    const cluster = (id: string, villageId: string) =>
      registry.createCluster({ id, villageId, name: `Cụm ${id}`, location: { lat: 21.3, lon: 105.5 } });
    await cluster('a1', 'thon-1');
    await cluster('a2', 'thon-1');
    await cluster('a3', 'thon-2');
    await cluster('b1', 'thon-b');
  });
  afterAll(() => t.close());

  it('refuses a same-level overlap on a shared cluster with 409 listing the clashing occurrences', async () => {
    const bulletin = await post({
      name: 'Bản tin sáng',
      level: 'normal',
      content: stream,
      durationS: 1_800,
      start: '2026-12-01T06:00',
      rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
      targets: { clusterIds: ['a1', 'a2'] },
    });
    expect(bulletin.status, JSON.stringify(bulletin.body)).toBe(201);
    expect(bulletin.body.schedule).toMatchObject({
      timezone: 'Asia/Ho_Chi_Minh',
      start: '2026-12-01T06:00:00',
      clusterIds: ['a1', 'a2'],
      next: { start: '2026-11-30T23:00:00.000Z', end: '2026-11-30T23:30:00.000Z' },
      createdBy: 'operator-all',
    });

    const notice = await post({
      name: 'Thông báo họp thôn',
      level: 'normal',
      content: stream,
      durationS: 600,
      start: '2026-12-02T06:20',
      targets: { clusterIds: ['a2', 'a3'] },
    });
    expect(notice.status).toBe(409);
    expect(notice.body.error.code).toBe('conflict');
    expect(notice.body.error.message).toContain('Bản tin sáng');
    expect(notice.body.error.details).toEqual({
      clashes: [
        {
          scheduleId: bulletin.body.schedule.id,
          scheduleName: 'Bản tin sáng',
          level: 'normal',
          clusterIds: ['a2'],
          occurrence: { start: '2026-12-01T23:20:00.000Z', end: '2026-12-01T23:30:00.000Z' },
          other: { start: '2026-12-01T23:00:00.000Z', end: '2026-12-01T23:30:00.000Z' },
        },
      ],
      total: 1,
    });

    // Once the bulletin has ended it is free.
    const later = await post({
      name: 'Thông báo họp thôn',
      level: 'normal',
      content: stream,
      durationS: 600,
      start: '2026-12-02T06:30',
      targets: { clusterIds: ['a2', 'a3'] },
    });
    expect(later.status).toBe(201);
    expect(later.body).toMatchObject({ preempts: [], preemptedBy: [] });
  });

  it('accepts an emergency over a normal schedule and lists what it pre-empts, on the shared clusters only', async () => {
    const warning = await post({
      name: 'Cảnh báo lũ',
      level: 'emergency',
      content: stream,
      durationS: 3_600,
      start: '2026-12-03T05:45',
      targets: { clusterIds: ['a2', 'b1'] },
    });
    expect(warning.status, JSON.stringify(warning.body)).toBe(201);
    expect(warning.body.preempts).toEqual([
      {
        scheduleId: expect.any(String),
        scheduleName: 'Bản tin sáng',
        level: 'normal',
        clusterIds: ['a2'],
        occurrence: { start: '2026-12-02T22:45:00.000Z', end: '2026-12-02T23:45:00.000Z' },
        other: { start: '2026-12-02T23:00:00.000Z', end: '2026-12-02T23:30:00.000Z' },
      },
    ]);
    expect(warning.body.preemptedBy).toEqual([]);
  });

  it('expands every schedule, one-offs included, for a calendar range with pre-emptions marked', async () => {
    const { status, body } = await t.api(
      '/api/v1/schedules/occurrences?from=2026-12-02T00:00:00%2B07:00&to=2026-12-04T00:00:00%2B07:00',
      { as: 'technician' },
    );
    expect(status, JSON.stringify(body)).toBe(200);
    const rows = (body.items as Json[]).map((o) => [o.name, o.start, o.clusterIds.join(',')]);
    expect(rows).toEqual([
      ['Bản tin sáng', '2026-12-01T23:00:00.000Z', 'a1,a2'],
      ['Thông báo họp thôn', '2026-12-01T23:30:00.000Z', 'a2,a3'],
      ['Cảnh báo lũ', '2026-12-02T22:45:00.000Z', 'a2,b1'],
      ['Bản tin sáng', '2026-12-02T23:00:00.000Z', 'a1,a2'],
    ]);
    const [, , warning, preempted] = body.items as Json[];
    expect(warning.preempts.map((p: Json) => p.scheduleName)).toEqual(['Bản tin sáng']);
    expect(preempted.preemptedBy).toMatchObject([{ scheduleName: 'Cảnh báo lũ', clusterIds: ['a2'] }]);
    expect(preempted.clashes).toEqual([]);

    const scoped = await t.api(
      '/api/v1/schedules/occurrences?from=2026-12-02T00:00:00Z&to=2026-12-04T00:00:00Z&communeId=xa-b',
    );
    expect(scoped.body.items).toEqual([]);
  });

  it('refuses a calendar range longer than 93 days or ending before it starts', async () => {
    const long = await t.api(
      '/api/v1/schedules/occurrences?from=2026-12-01T00:00:00Z&to=2027-03-05T00:00:00Z',
    );
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/^query\.to: .*93 days/);
    const backwards = await t.api(
      '/api/v1/schedules/occurrences?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z',
    );
    expect(backwards.status).toBe(400);
    const missing = await t.api('/api/v1/schedules/occurrences?from=2026-12-02T00:00:00Z');
    expect(missing.status).toBe(400);
  });

  it('resolves commune, village and group targets to their clusters', async () => {
    const group = await t.api('/api/v1/groups', {
      method: 'POST',
      as: 'operator',
      body: { communeId: 'xa-a', name: 'Loa trung tâm', clusterIds: ['a3', 'a1', 'a1'] },
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    expect(group.body.clusterIds).toEqual(['a1', 'a3']);
    const outsider = await t.api('/api/v1/groups', {
      method: 'POST',
      as: 'operator',
      body: { communeId: 'xa-a', name: 'Lẫn xã khác', clusterIds: ['a1', 'b1'] },
    });
    // Another commune's cluster answers as a missing one, naming no other commune.
    expect(outsider.status).toBe(404);
    expect(outsider.body.error.message).toBe('cluster "b1" not found');

    const cases: [Json, string[]][] = [
      [{ communeIds: ['xa-a'] }, ['a1', 'a2', 'a3']],
      [{ villageIds: ['thon-1'] }, ['a1', 'a2']],
      [{ groupIds: [group.body.id] }, ['a1', 'a3']],
      [{ groupIds: [group.body.id], clusterIds: ['b1'], villageIds: ['thon-1'] }, ['a1', 'a2', 'a3', 'b1']],
    ];
    let day = 10;
    for (const [targets, clusters] of cases) {
      expect(
        t.platform.schedules.resolveTargets({
          communeIds: [],
          villageIds: [],
          clusterIds: [],
          groupIds: [],
          ...targets,
        }),
      ).toEqual(clusters);
      const created = await post({
        name: `Thử đích ${day}`,
        level: 'normal',
        content: stream,
        durationS: 60,
        start: `2026-12-${day++}T12:00`,
        targets,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.schedule.clusterIds).toEqual(clusters);
    }

    const unknown = await post({
      name: 'Thôn không có',
      level: 'normal',
      content: stream,
      durationS: 60,
      start: '2026-12-20T12:00',
      targets: { villageIds: ['thon-9'] },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe('village "thon-9" not found');

    const inUse = await t.api(`/api/v1/groups/${group.body.id}`, { method: 'DELETE', as: 'operator' });
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.details.schedules).toHaveLength(2);
  });

  it('answers 400 naming the field for a bad rule, a rule that never occurs and a stream without a window', async () => {
    const base = {
      name: 'Sai',
      level: 'normal',
      content: stream,
      durationS: 60,
      start: '2026-12-21T12:00',
      targets: { clusterIds: ['a1'] },
    };
    const badRule = await post({ ...base, rrule: 'FREQ=HOURLY' });
    expect(badRule.status).toBe(400);
    expect(badRule.body.error.message).toMatch(/^body\.rrule: FREQ=HOURLY is not supported/);
    const never = await post({ ...base, rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30' });
    expect(never.status).toBe(400);
    expect(never.body.error.message).toBe('body.rrule: never occurs: no date matches every part of the rule');
    const { durationS: _omitted, ...noWindow } = base;
    const windowless = await post(noWindow);
    expect(windowless.status).toBe(400);
    expect(windowless.body.error.message).toBe(
      'body.durationS: required for stream content (the relay window)',
    );
    const badStart = await post({ ...base, start: '2026-02-30T06:00' });
    expect(badStart.body.error.message).toMatch(/^body\.start: /);
    const badZone = await post({ ...base, timezone: 'Asia/Hanoi City' });
    expect(badZone.body.error.message).toMatch(/^body\.timezone: /);
  });

  it('edits a schedule without clashing with itself, refuses an edit that clashes, and audits the change', async () => {
    const created = await post({
      name: 'Nhạc chiều',
      level: 'priority',
      content: stream,
      durationS: 900,
      start: '2026-12-01T17:00',
      rrule: 'FREQ=DAILY;COUNT=30',
      targets: { villageIds: ['thon-2'] },
    });
    expect(created.status).toBe(201);
    const id = created.body.schedule.id;
    const moved = await t.api(`/api/v1/schedules/${id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { start: '2026-12-01T17:05', exdates: ['2026-12-24T17:05'] },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.schedule).toMatchObject({
      start: '2026-12-01T17:05:00',
      exdates: ['2026-12-24T17:05:00'],
      durationS: 900,
    });

    const rival = await post({
      name: 'Đọc báo',
      level: 'priority',
      content: stream,
      durationS: 300,
      start: '2026-12-05T18:00',
      targets: { clusterIds: ['a3'] },
    });
    expect(rival.status).toBe(201);
    const clash = await t.api(`/api/v1/schedules/${rival.body.schedule.id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { start: '2026-12-05T17:10' },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error.details.clashes[0]).toMatchObject({ scheduleId: id, clusterIds: ['a3'] });

    const { items } = await t.platform.audit.query({ targetId: id }, { limit: 10, offset: 0 });
    expect(items.map((e) => [e.action, e.outcome])).toEqual([
      ['schedule.update', 'success'],
      ['schedule.create', 'success'],
    ]);
    expect(items[0]?.before).toMatchObject({ start: '2026-12-01T17:00:00', exdates: [] });
    expect(items[0]?.after).toMatchObject({ start: '2026-12-01T17:05:00', exdates: ['2026-12-24T17:05:00'] });

    const removed = await t.api(`/api/v1/schedules/${id}`, { method: 'DELETE', as: 'operator' });
    expect(removed.status).toBe(204);
    expect((await t.api(`/api/v1/schedules/${id}`, { as: 'operator' })).status).toBe(404);
  });

  it('keeps a schedule editable after one of its clusters leaves the registry', async () => {
    await t.platform.registry.createCluster({
      id: 'a9',
      villageId: 'thon-2',
      name: 'Cụm tạm',
      location: { lat: 21, lon: 105 },
    });
    const created = await post({
      name: 'Loa tạm',
      level: 'priority',
      content: stream,
      durationS: 60,
      start: '2026-12-26T09:00',
      targets: { clusterIds: ['a1', 'a9'] },
    });
    expect(created.status).toBe(201);
    await t.platform.registry.deleteCluster('a9');
    const id = created.body.schedule.id;
    const renamed = await t.api(`/api/v1/schedules/${id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { name: 'Loa còn lại' },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.schedule.clusterIds).toEqual(['a1']);
    // Naming the gone cluster again is refused.
    const retarget = await t.api(`/api/v1/schedules/${id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { targets: { clusterIds: ['a9'] } },
    });
    expect(retarget.status).toBe(404);
    expect(retarget.body.error.message).toBe('cluster "a9" not found');
  });

  it('shows a commune-limited operator only schedules inside the commune, and keeps theirs inside it', async () => {
    const headers = await t.headersFor('operator', { communeId: 'xa-b' });
    const inside = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: { headers },
      body: {
        name: 'Loa xã B',
        level: 'normal',
        content: stream,
        durationS: 60,
        start: '2026-12-22T07:00',
        targets: { communeIds: ['xa-b'] },
      },
    });
    expect(inside.status, JSON.stringify(inside.body)).toBe(201);
    const reach = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: { headers },
      body: {
        name: 'Vươn sang xã A',
        level: 'normal',
        content: stream,
        durationS: 60,
        start: '2026-12-22T08:00',
        targets: { clusterIds: ['a1'] },
      },
    });
    expect(reach.status).toBe(404);

    const list = await t.api('/api/v1/schedules', { as: { headers } });
    expect(list.body.items.map((s: Json) => s.name)).toEqual(['Loa xã B']);
    expect(list.body.total).toBe(1);
    const all = (await t.api('/api/v1/schedules', { as: 'operator' })).body.items as Json[];
    const ofA = all.find((s) => s.name === 'Bản tin sáng');
    expect((await t.api(`/api/v1/schedules/${ofA.id}`, { as: { headers } })).status).toBe(404);
  });

  it('takes a media item’s length times the repeat count, and keeps the item from deletion while it is to play', async () => {
    const form = new FormData();
    form.append('file', new Blob([wavTone(2.5)], { type: 'audio/wav' }), 'tone.wav');
    const uploaded = await fetch(`${t.httpUrl}/api/v1/media`, {
      method: 'POST',
      headers: await t.headersFor('operator'),
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const media = (await uploaded.json()) as Json;
    const created = await post({
      name: 'Tuyên truyền tiêm phòng',
      level: 'normal',
      content: { kind: 'media', mediaId: media.id },
      repeat: 3,
      start: '2026-12-23T09:00',
      rrule: 'FREQ=MONTHLY;BYMONTHDAY=23;COUNT=3',
      targets: { clusterIds: ['a1'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.schedule.durationS).toBe(8);

    const refused = await t.api(`/api/v1/media/${media.id}`, { method: 'DELETE', as: 'operator' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toEqual({ usedBy: ['Tuyên truyền tiêm phòng'] });

    const unknownMedia = await post({
      name: 'Tệp không có',
      level: 'normal',
      content: { kind: 'media', mediaId: 'khong-co' },
      start: '2026-12-23T10:00',
      targets: { clusterIds: ['a1'] },
    });
    expect(unknownMedia.status).toBe(404);

    // A disabled schedule never plays, so it no longer holds the item.
    const disabled = await t.api(`/api/v1/schedules/${created.body.schedule.id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { enabled: false },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.schedule.next).toBeNull();
    expect(t.platform.schedules.referencesMedia(media.id)).toEqual([]);
    expect((await t.api(`/api/v1/media/${media.id}`, { method: 'DELETE', as: 'operator' })).status).toBe(204);
  });

  it('gives the dispatcher each occurrence with its concrete clusters, highest level first at the same time', () => {
    const due = t.platform.schedules.occurrencesBetween(
      Date.parse('2026-12-02T22:00:00Z'),
      Date.parse('2026-12-03T00:00:00Z'),
    );
    expect(due.map((d) => [d.schedule.name, new Date(d.start).toISOString(), d.clusterIds])).toEqual([
      ['Cảnh báo lũ', '2026-12-02T22:45:00.000Z', ['a2', 'b1']],
      ['Bản tin sáng', '2026-12-02T23:00:00.000Z', ['a1', 'a2']],
    ]);
  });
});
