import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { uploadWav } from '../support/media-upload.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * The operator's main job end to end: real broker, real simulated clusters that download the
 * media over HTTP and play it for its real length, one manual clock shared by the platform and
 * the clusters, starting at 05:55 in Hướng Đạo (UTC+7) on Wednesday 2 December 2026.
 */
const SIX_AM = Date.UTC(2026, 11, 1, 23, 0, 0);
const FIVE_FIFTY_FIVE = SIX_AM - 5 * 60_000;
const silent = pino({ level: 'silent' });

interface Setup {
  t: TestPlatform;
  clock: ManualClock;
  fleet: SimulatedFleet;
  secrets: { deviceId: string; secret: string }[];
}

async function setup(
  options: { offline?: string[]; dataDir?: string; ports?: { http: number; mqtt: number } } = {},
): Promise<Setup> {
  const clock = new ManualClock(FIVE_FIFTY_FIVE);
  const t = await startTestPlatform({
    clock,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    config: {
      SEED_PRESET: 'huong-dao',
      // The test moves the clock by minutes while heartbeats travel over real sockets: a
      // generous missed-heartbeat limit keeps presence out of this test's way.
      HEARTBEAT_MISSED_LIMIT: 20,
      DISPATCH_LEAD_S: 120,
      LATE_START_GRACE_S: 60,
      ...(options.ports ? { HTTP_PORT: options.ports.http, MQTT_PORT: options.ports.mqtt } : {}),
    },
  });
  const clusters = t.platform.registry.listClusters(
    { communeId: 'huong-dao' },
    { limit: 100, offset: 0 },
  ).items;
  const secrets = [];
  for (const c of clusters)
    secrets.push({ deviceId: c.id, secret: (await t.platform.registry.issueSecret(c.id)).secret });
  const fleet = new SimulatedFleet({
    devices: secrets.filter((s) => !options.offline?.includes(s.deviceId)),
    url: t.mqttUrl,
    logger: silent,
    clock,
    heartbeatIntervalS: 30,
    // Downloads are real I/O while the test moves the manual clock a second per step: under load a
    // download may span many steps, which must not count as the cluster's 30 s download timeout.
    mediaTimeoutMs: 3_600_000,
  });
  await fleet.start();
  await vi.waitFor(() => expect(t.platform.presence.onlineCount()).toBe(fleet.size), { timeout: 10_000 });
  return { t, clock, fleet, secrets };
}

/** Moves the shared clock second by second, letting real I/O catch up, until `done` holds. */
async function advanceUntil(
  clock: ManualClock,
  until: number,
  done?: () => boolean | Promise<boolean>,
  describe?: () => Promise<string>,
): Promise<void> {
  while (clock.now() < until) {
    clock.advance(Math.min(1_000, until - clock.now()));
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!done) return;
  try {
    await vi.waitFor(async () => expect(await done()).toBe(true), { timeout: 10_000 });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${describe ? await describe() : ''}`);
  }
}

/** Per-cluster states of the day's broadcasts, for failure messages. */
const explain = async (t: TestPlatform) =>
  JSON.stringify(
    (await broadcastsOfTheDay(t)).map((b) => [
      b.name,
      (b.deliveries as Json[]).map((d) => `${d.clusterId}:${d.state}:${d.reason ?? ''}`),
    ]),
  );

const broadcastsOfTheDay = async (t: TestPlatform) =>
  (await t.api('/api/v1/broadcasts?from=2026-12-01T17:00:00Z&to=2026-12-02T17:00:00Z', { as: 'operator' }))
    .body.items as Json[];
const states = (b: Json) => Object.fromEntries((b.deliveries as Json[]).map((d) => [d.clusterId, d.state]));

describe('scheduled bulletin on 18 clusters', () => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.fleet.stop();
    await s?.t.close();
    s = null;
  });

  it('plays on 16, reports the offline one missed and the failing download failed with its reason, and logs what played', async () => {
    s = await setup({ offline: ['hd-c18'] });
    const { t, clock, fleet } = s;
    await fleet.injectFault('hd-c17', { kind: 'download-fail' });
    const played: { deviceId: string; type: string; ts: number }[] = [];
    const observer = await mqtt.connectAsync(t.mqttUrl, {
      ...t.platform.internalMqttCredential,
      reconnectPeriod: 0,
    });
    observer.on('message', (topic, payload) => {
      const event = JSON.parse(payload.toString()) as { type: string; ts: number };
      if (event.type.startsWith('playback-'))
        played.push({ deviceId: topic.split('/')[2] as string, type: event.type, ts: event.ts });
    });
    await observer.subscribeAsync('sc/v1/+/event', { qos: 1 });

    const mediaId = await uploadWav(t, 3);
    const created = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Bản tin sáng',
        level: 'normal',
        content: { kind: 'media', mediaId },
        start: '2026-12-02T06:00',
        rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
        targets: { communeIds: ['huong-dao'] },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // Two minutes ahead, the plays go out and the clusters fetch the media.
    await advanceUntil(
      clock,
      SIX_AM - 120_000,
      async () => {
        const [b] = await broadcastsOfTheDay(t);
        const st = b ? states(b) : {};
        return Object.values(st).filter((x) => x === 'accepted').length === 16 && st['hd-c17'] === 'failed';
      },
      () => explain(t),
    );
    const [before] = await broadcastsOfTheDay(t);
    expect(states(before)['hd-c18']).toBe('scheduled'); // offline: nothing could be sent
    expect((before.deliveries as Json[]).find((d) => d.clusterId === 'hd-c17').reason).toBe('fetch-failed');

    // 06:00: sixteen play for the real three seconds; the offline cluster's chance runs out a minute later.
    await advanceUntil(
      clock,
      SIX_AM + 4_000,
      async () => {
        const [b] = await broadcastsOfTheDay(t);
        return Object.values(states(b)).filter((x) => x === 'done').length === 16;
      },
      () => explain(t),
    );
    await advanceUntil(
      clock,
      SIX_AM + 61_000,
      async () => states((await broadcastsOfTheDay(t))[0])['hd-c18'] === 'missed',
      () => explain(t),
    );

    const [b] = await broadcastsOfTheDay(t);
    const detail = (await t.api(`/api/v1/broadcasts/${b.id}`, { as: 'operator' })).body;
    expect(detail.summary).toEqual({ done: 16, failed: 1, missed: 1 });
    expect(detail.status).toBe('finished');
    expect(detail.createdBy).toBe('operator-all');
    const missed = detail.deliveries.find((d: Json) => d.clusterId === 'hd-c18');
    expect(missed).toMatchObject({ state: 'missed', reason: 'offline' });
    for (const d of detail.deliveries.filter((x: Json) => x.state === 'done')) {
      expect(d.startedAt).toBe(new Date(SIX_AM).toISOString());
      expect(d.playedS).toBeGreaterThanOrEqual(3);
      expect(d.speakers).toHaveLength(2);
    }

    // The day's log says exactly what the clusters themselves reported playing.
    const finished = played
      .filter((p) => p.type === 'playback-finished')
      .map((p) => p.deviceId)
      .sort();
    const logged = detail.deliveries
      .filter((d: Json) => d.state === 'done')
      .map((d: Json) => d.clusterId)
      .sort();
    expect(logged).toEqual(finished);
    const csv = async (lang: string) =>
      (
        (
          await t.api(
            `/api/v1/broadcasts?from=2026-12-01T17:00:00Z&to=2026-12-02T17:00:00Z&format=csv&lang=${lang}`,
            { as: 'operator' },
          )
        ).body as string
      )
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\n');
    const rows = await csv('en');
    expect(rows).toHaveLength(1 + 18);
    expect(rows.filter((r) => r.includes(',done,'))).toHaveLength(16);
    expect(rows.find((r) => r.includes('hd-c17'))).toContain('fetch-failed');
    // As the commune reports it: Vietnamese headers, its own day and clock (06:00 on 2 December is
    // 23:00 UTC on the 1st), commune and village names.
    const [header, ...vi] = await csv('vi');
    expect(header).toMatch(/^Ngày,Mã bản tin,Tên bản tin,Loại,Mức độ,/);
    expect(vi.every((r) => r.startsWith('2026-12-02,'))).toBe(true);
    expect(vi.filter((r) => r.includes(',2026-12-02 06:00:00,Hướng Đạo,'))).toHaveLength(18);
    expect(vi.filter((r) => r.includes(',Đã phát xong,Có,'))).toHaveLength(16);
    await observer.endAsync();
  }, 60_000);
});

describe('emergency bulletin', () => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.fleet.stop();
    await s?.t.close();
    s = null;
  });

  it('pre-empts a running normal bulletin on the shared clusters only, at forced volume', async () => {
    s = await setup();
    const { t, clock } = s;
    const long = await uploadWav(t, 60);
    const short = await uploadWav(t, 3);
    // The normal bulletin plays in villages 1 and 2 (clusters hd-c01..hd-c03).
    const normal = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Thông báo tiêm chủng',
        level: 'normal',
        content: { kind: 'media', mediaId: long },
        start: '2026-12-02T06:00',
        targets: { villageIds: ['hd-thon-01', 'hd-thon-02'] },
      },
    });
    expect(normal.status, JSON.stringify(normal.body)).toBe(201);
    await advanceUntil(
      clock,
      SIX_AM + 5_000,
      async () => {
        const [b] = await broadcastsOfTheDay(t);
        return b !== undefined && Object.values(states(b)).every((x) => x === 'playing');
      },
      () => explain(t),
    );
    const [running] = await broadcastsOfTheDay(t);
    expect(Object.keys(states(running)).sort()).toEqual(['hd-c01', 'hd-c02', 'hd-c03']);

    // Flood warning for village 1 only (hd-c01, hd-c02).
    const emergency = await t.api('/api/v1/broadcasts/emergency?waitMs=5000', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Cảnh báo lũ',
        content: { kind: 'media', mediaId: short },
        targets: { villageIds: ['hd-thon-01'] },
      },
    });
    expect(emergency.status, JSON.stringify(emergency.body)).toBe(201);
    expect(emergency.body).toMatchObject({ level: 'emergency', volume: 100, kind: 'emergency' });
    // Within waitMs both clusters have answered; they may already be playing.
    expect(Object.keys(states(emergency.body)).sort()).toEqual(['hd-c01', 'hd-c02']);
    for (const state of Object.values(states(emergency.body)))
      expect(['accepted', 'playing']).toContain(state);

    await advanceUntil(
      clock,
      clock.now() + 5_000,
      async () => {
        const e = (await t.api(`/api/v1/broadcasts/${emergency.body.id}`, { as: 'operator' })).body;
        return Object.values(states(e)).every((x) => x === 'done');
      },
      () => explain(t),
    );
    const after = (await t.api(`/api/v1/broadcasts/${running.id}`, { as: 'operator' })).body;
    expect(states(after)).toEqual({ 'hd-c01': 'pre-empted', 'hd-c02': 'pre-empted', 'hd-c03': 'playing' });
    expect(after.deliveries.find((d: Json) => d.clusterId === 'hd-c01').reason).toBe('busy');
  }, 60_000);

  it('can be stopped by the operator', async () => {
    s = await setup();
    const { t } = s;
    const media = await uploadWav(t, 30);
    const emergency = await t.api('/api/v1/broadcasts/emergency?waitMs=5000', {
      method: 'POST',
      as: 'operator',
      body: { content: { kind: 'media', mediaId: media }, targets: { clusterIds: ['hd-c05'] } },
    });
    // Under way: the answer waits for the cluster's `accepted`, and its `playback-started` may
    // come in the same read of the socket (the download is local and quick).
    expect(['accepted', 'playing']).toContain(states(emergency.body)['hd-c05']);
    const stopped = await t.api(`/api/v1/broadcasts/${emergency.body.id}/stop`, {
      method: 'POST',
      as: 'operator',
    });
    expect(stopped.body).toMatchObject({ status: 'stopped', stoppedBy: 'operator-all' });
    expect(states(stopped.body)).toEqual({ 'hd-c05': 'stopped' });
    await vi.waitFor(() => expect(s?.fleet.get('hd-c05')?.status().playing).toBe(false));
  }, 60_000);

  it('plays the other schedules when one cannot be expanded, and shows which one on /healthz and /metrics', async () => {
    s = await setup();
    const { t, clock } = s;
    const mediaId = await uploadWav(t, 2);
    const save = async (name: string, clusterIds: string[]) => {
      const created = await t.api('/api/v1/schedules', {
        method: 'POST',
        as: 'operator',
        body: {
          name,
          level: 'normal',
          content: { kind: 'media', mediaId },
          start: '2026-12-02T06:00',
          targets: { clusterIds },
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body.schedule.id as string;
    };
    await save('Bản tin thôn 1', ['hd-c01']);
    const broken = await save('Bản tin hỏng', ['hd-c02']);
    // A rule this version cannot read (written by a newer one, or by hand into the database).
    const db = new Database(join(t.dataDir, 'smart-commune.sqlite'));
    db.prepare('UPDATE schedules SET timezone = ? WHERE id = ?').run('Mars/Olympus_Mons', broken);
    db.close();
    t.platform.events.emit('schedules.changed', {
      what: 'schedule',
      id: broken,
      change: 'updated',
      at: clock.now(),
    });

    await advanceUntil(
      clock,
      SIX_AM + 4_000,
      async () => {
        const [b] = await broadcastsOfTheDay(t);
        return b !== undefined && states(b)['hd-c01'] === 'done';
      },
      () => explain(t),
    );
    const day = await broadcastsOfTheDay(t);
    expect(day.map((b) => b.name)).toEqual(['Bản tin thôn 1']);

    const health = await t.api('/healthz');
    expect(health.body.problems.schedulesNotExpanded).toEqual([
      expect.objectContaining({ scheduleId: broken, name: 'Bản tin hỏng', lastError: expect.any(String) }),
    ]);
    const metrics = await (
      await fetch(`${t.httpUrl}/metrics`, { headers: await t.headersFor('technician') })
    ).text();
    expect(metrics).toMatch(/sc_errors_kept_running_total\{kind="schedule-expansion"\} [1-9]/);
  }, 60_000);

  it('plays on time a schedule saved without the HTTP API (the seed, a command line)', async () => {
    s = await setup();
    const { t, clock } = s;
    const mediaId = await uploadWav(t, 2);
    // Nothing is scheduled: the dispatcher sleeps until the next occurrence it knows of, an hour on.
    await advanceUntil(clock, FIVE_FIFTY_FIVE + 10_000);
    await t.platform.schedules.create(
      {
        name: 'Thông báo từ dòng lệnh',
        level: 'normal',
        content: { kind: 'media', mediaId },
        start: '2026-12-02T06:00',
        targets: { clusterIds: ['hd-c03', 'hd-c04'] },
      },
      null,
    );
    // Sent two minutes ahead (DISPATCH_LEAD_S): the dispatcher woke for it, though it had gone to
    // sleep for an hour before the schedule existed.
    await advanceUntil(
      clock,
      SIX_AM - 60_000,
      async () => {
        const [b] = await broadcastsOfTheDay(t);
        return b !== undefined && Object.values(states(b)).every((x) => x === 'accepted');
      },
      () => explain(t),
    );
    await advanceUntil(
      clock,
      SIX_AM + 30_000,
      async () => {
        const [b] = await broadcastsOfTheDay(t);
        return b !== undefined && Object.values(states(b)).every((x) => x === 'done');
      },
      () => explain(t),
    );
    const [b] = await broadcastsOfTheDay(t);
    const detail = (await t.api(`/api/v1/broadcasts/${b?.id}`, { as: 'operator' })).body;
    expect(detail.summary).toEqual({ done: 2 });
    for (const d of detail.deliveries) {
      expect(Date.parse(d.sentAt)).toBeLessThanOrEqual(SIX_AM - 60_000);
      expect(Date.parse(d.startedAt)).toBeGreaterThanOrEqual(SIX_AM);
    }
  }, 60_000);
});

describe('an emergency whose download fails', () => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.fleet.stop();
    await s?.t.close();
    s = null;
  });

  it('is sent again afresh until heard, never played twice, and one never heard says so with its reason', async () => {
    s = await setup();
    const { t, clock, fleet } = s;
    const media = await uploadWav(t, 2);
    // hd-c01's first download fails (a dropped link); hd-c02's never succeed.
    await fleet.injectFault('hd-c01', { kind: 'download-fail', remaining: 1 });
    await fleet.injectFault('hd-c02', { kind: 'download-fail' });
    // What the clusters played, seen on the wire by an independent observer.
    const starts = new Map<string, number>();
    const observer = await mqtt.connectAsync(t.mqttUrl, {
      ...t.platform.internalMqttCredential,
      reconnectPeriod: 0,
    });
    observer.on('message', (topic, payload) => {
      const id = topic.split('/')[2] as string;
      if ((JSON.parse(payload.toString()) as { type: string }).type === 'playback-started')
        starts.set(id, (starts.get(id) ?? 0) + 1);
    });
    await observer.subscribeAsync('sc/v1/+/event', { qos: 1 });
    const emergency = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Cảnh báo sạt lở',
        content: { kind: 'media', mediaId: media },
        targets: { clusterIds: ['hd-c01', 'hd-c02', 'hd-c03'] },
      },
    });
    expect(emergency.status, JSON.stringify(emergency.body)).toBe(201);
    const detail = async () =>
      (await t.api(`/api/v1/broadcasts/${emergency.body.id}`, { as: 'operator' })).body;
    await advanceUntil(
      clock,
      clock.now() + 90_000,
      async () => (await detail()).status === 'finished',
      async () => JSON.stringify((await detail()).deliveries),
    );
    const byCluster = Object.fromEntries((await detail()).deliveries.map((d: Json) => [d.clusterId, d]));
    expect(byCluster['hd-c01']).toMatchObject({ state: 'done', heard: true });
    expect(byCluster['hd-c03']).toMatchObject({ state: 'done', heard: true });
    // Tried until the emergency could no longer start (LATE_START_GRACE_S), then recorded unheard.
    expect(byCluster['hd-c02']).toMatchObject({ state: 'failed', heard: false });
    expect(byCluster['hd-c02'].reason).toMatch(/^fetch-failed/);
    expect(byCluster['hd-c02'].attempts).toBeGreaterThan(2);
    expect(Object.fromEntries(starts)).toEqual({ 'hd-c01': 1, 'hd-c03': 1 });
    await observer.endAsync();
  }, 60_000);
});

describe('a restart between dispatch and playback', () => {
  let s: Setup | null = null;
  let first: TestPlatform | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'sc-restart-dispatch-'));
  afterEach(async () => {
    await s?.fleet.stop();
    await s?.t.close();
    await first?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends in the right states and no cluster is told to play the occurrence twice', async () => {
    s = await setup({ dataDir });
    const { clock, fleet } = s;
    first = s.t;
    const ports = { http: first.platform.httpPort, mqtt: first.platform.mqttPort };
    const mediaId = await uploadWav(first, 3);
    const created = await first.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Bản tin trưa',
        level: 'normal',
        content: { kind: 'media', mediaId },
        start: '2026-12-02T06:00',
        targets: { villageIds: ['hd-thon-01'] },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const platform = first;
    await advanceUntil(
      clock,
      SIX_AM - 110_000,
      async () => {
        const [b] = await broadcastsOfTheDay(platform);
        return b !== undefined && Object.values(states(b)).every((x) => x === 'accepted');
      },
      () => explain(platform),
    );

    // The platform dies with the plays accepted but not yet started, and is down for a minute.
    await first.platform.stop();
    await advanceUntil(clock, SIX_AM - 50_000);
    const second = await startTestPlatform({
      clock,
      dataDir,
      config: {
        SEED_PRESET: 'huong-dao',
        HEARTBEAT_MISSED_LIMIT: 20,
        DISPATCH_LEAD_S: 120,
        LATE_START_GRACE_S: 60,
        HTTP_PORT: ports.http,
        MQTT_PORT: ports.mqtt,
      },
    });
    s.t = second;
    await advanceUntil(
      clock,
      SIX_AM + 5_000,
      async () => {
        const [b] = await broadcastsOfTheDay(second);
        return b !== undefined && Object.values(states(b)).every((x) => x === 'done');
      },
      () => explain(second),
    );

    const [b] = await broadcastsOfTheDay(second);
    expect(states(b)).toEqual({ 'hd-c01': 'done', 'hd-c02': 'done' });
    for (const id of ['hd-c01', 'hd-c02']) {
      const status = fleet.get(id)?.status();
      expect(status?.commandsExecuted, id).toBe(1); // played once
      expect(status?.duplicateCommands, id).toBeGreaterThanOrEqual(1); // asked again after the restart, de-duplicated
    }
  }, 60_000);
});

describe('broadcasts seen from a commune-limited account', () => {
  it('shows an operator of one commune only its own broadcasts and deliveries', async () => {
    const t = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' } });
    try {
      await t.platform.registry.createCommune({ id: 'dao-tu', name: 'Đạo Tú' });
      await t.platform.registry.createVillage({ id: 'dt-thon-1', communeId: 'dao-tu', name: 'Thôn 1' });
      await t.platform.registry.createCluster({
        id: 'dt-c01',
        villageId: 'dt-thon-1',
        name: 'Cụm',
        location: { lat: 21.4, lon: 105.6 },
      });
      const relay = (clusterIds: string[]) =>
        t.api('/api/v1/broadcasts/live', {
          method: 'POST',
          body: {
            name: 'Đài tỉnh',
            url: 'http://radio.example/live',
            durationS: 600,
            targets: { clusterIds },
          },
        });
      const both = (await relay(['hd-c01', 'dt-c01'])).body;
      const other = (await relay(['dt-c01'])).body;
      const local = await t.headersFor('operator', { communeId: 'huong-dao' });
      const now = new Date();
      const from = new Date(now.getTime() - 3_600_000).toISOString();
      const to = new Date(now.getTime() + 3_600_000).toISOString();
      const list = (await t.api(`/api/v1/broadcasts?from=${from}&to=${to}`, { as: { headers: local } })).body;
      expect(list.total).toBe(1);
      expect(list.items[0].id).toBe(both.id);
      expect(list.items[0].deliveries.map((d: Json) => d.clusterId)).toEqual(['hd-c01']);
      expect((await t.api(`/api/v1/broadcasts/${other.id}`, { as: { headers: local } })).status).toBe(404);
      expect(
        (await t.api(`/api/v1/broadcasts/${other.id}/stop`, { method: 'POST', as: { headers: local } }))
          .status,
      ).toBe(404);
      const refused = await t.api('/api/v1/broadcasts/live', {
        method: 'POST',
        as: { headers: local },
        body: {
          name: 'x',
          url: 'http://radio.example/live',
          durationS: 60,
          targets: { clusterIds: ['dt-c01'] },
        },
      });
      expect(refused.status).toBe(404);

      // Stopping the shared relay stops it on Hướng Đạo's cluster only; Đạo Tú's keeps playing.
      const stopped = await t.api(`/api/v1/broadcasts/${both.id}/stop`, {
        method: 'POST',
        as: { headers: local },
      });
      expect(stopped.status).toBe(200);
      expect(stopped.body.deliveries.map((d: Json) => `${d.clusterId}:${d.state}`)).toEqual([
        'hd-c01:stopped',
      ]);
      const whole = (await t.api(`/api/v1/broadcasts/${both.id}`, { as: 'operator' })).body;
      expect(whole.status).toBe('active');
      expect(Object.fromEntries(whole.deliveries.map((d: Json) => [d.clusterId, d.state]))).toEqual({
        'hd-c01': 'stopped',
        'dt-c01': 'scheduled',
      });
    } finally {
      await t.close();
    }
  });
});
