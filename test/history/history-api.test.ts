import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Heartbeat } from '../../devices/index.js';
import type { Config } from '../../services/config.js';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { freshDatabase, Influxd, influxdSkipReason } from '../support/influxd.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * History end to end: the Hướng Đạo fleet of simulated clusters heartbeats through the real
 * broker into the embedded store, and the API answers from it. One manual clock drives the
 * platform and the clusters, starting at 08:00 in Hướng Đạo (UTC+7) on 22 November 2026.
 */
const START = Date.UTC(2026, 10, 22, 1, 0, 0);
const silent = pino({ level: 'silent' });

interface Setup {
  t: TestPlatform;
  clock: ManualClock;
  fleet: SimulatedFleet;
  /** Every heartbeat that crossed the broker, per device, as an observer saw it. */
  sent: Map<string, Heartbeat[]>;
  close(): Promise<void>;
}

async function setup(options: { dataDir?: string; config?: Partial<Config> } = {}): Promise<Setup> {
  const clock = new ManualClock(START);
  const t = await startTestPlatform({
    clock,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    config: { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20, HISTORY_FLUSH_MS: 50, ...options.config },
  });
  const clusters = t.platform.registry.listClusters(
    { communeId: 'huong-dao' },
    { limit: 100, offset: 0 },
  ).items;
  const devices = [];
  for (const c of clusters)
    devices.push({ deviceId: c.id, secret: (await t.platform.registry.issueSecret(c.id)).secret });

  const sent = new Map<string, Heartbeat[]>();
  const observer = await mqtt.connectAsync(t.mqttUrl, {
    ...t.platform.internalMqttCredential,
    clientId: 'history-observer',
    reconnectPeriod: 0,
  });
  await observer.subscribeAsync('sc/v1/+/heartbeat', { qos: 0 });
  observer.on('message', (topic, payload) => {
    const id = topic.split('/')[2] as string;
    sent.set(id, [...(sent.get(id) ?? []), JSON.parse(payload.toString()) as Heartbeat]);
  });

  const fleet = new SimulatedFleet({
    devices,
    url: t.mqttUrl,
    logger: silent,
    clock,
    heartbeatIntervalS: 30,
  });
  await fleet.start();
  await vi.waitFor(() => expect(t.platform.presence.onlineCount()).toBe(fleet.size), { timeout: 10_000 });
  return {
    t,
    clock,
    fleet,
    sent,
    async close() {
      await fleet.stop();
      await observer.endAsync();
      await t.close();
    },
  };
}

/**
 * Moves the shared clock a second at a time and, after each step, waits until the observer has
 * seen every heartbeat the connected clusters have sent, so the real sockets never fall behind the
 * manual clock (a heartbeat handled minutes of clock time after its `ts` would be stored at its
 * arrival time instead).
 */
async function advance(s: Setup, ms: number): Promise<void> {
  const { clock, fleet, sent } = s;
  const until = clock.now() + ms;
  while (clock.now() < until) {
    clock.advance(Math.min(1_000, until - clock.now()));
    await vi.waitFor(
      () => {
        for (const cluster of fleet.status())
          if (cluster.connected)
            expect(sent.get(cluster.deviceId)?.length ?? 0).toBeGreaterThanOrEqual(cluster.seq);
      },
      { timeout: 10_000, interval: 5 },
    );
  }
}

/** Every heartbeat each cluster sent comes back from the history API, with nothing else. */
async function expectExactHistory(s: Setup): Promise<void> {
  const { t, clock, fleet } = s;
  const from = new Date(START - 60_000).toISOString();
  const to = new Date(clock.now() + 60_000).toISOString();
  for (const id of fleet.ids()) {
    const heartbeats = s.sent.get(id) ?? [];
    const expected = (field: (hb: Heartbeat) => number) =>
      heartbeats.map((hb) => ({ at: new Date(hb.ts).toISOString(), value: field(hb) }));
    const signal = await t.api(`/api/v1/devices/${id}/history?field=signal&from=${from}&to=${to}`, {
      as: 'technician',
    });
    expect(signal.status, JSON.stringify(signal.body)).toBe(200);
    expect(signal.body.points).toEqual(expected((hb) => hb.rssiDbm));
    expect(signal.body.next).toBeNull();
    const volume = await t.api(`/api/v1/devices/${id}/history?field=volume&from=${from}&to=${to}`, {
      as: 'operator',
    });
    expect(volume.body.points).toEqual(expected((hb) => hb.volume));
    const speakers = await t.api(`/api/v1/devices/${id}/history?field=speakers_ok&from=${from}&to=${to}`);
    expect(speakers.body.points).toEqual(expected((hb) => hb.speakers.filter((sp) => sp.ok).length));
  }
}

const sentCount = (s: Setup) => [...s.sent.values()].reduce((n, list) => n + list.length, 0);

describe('heartbeat history through the API', () => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('returns exactly the heartbeats each simulated cluster sent', async () => {
    s = await setup();
    const { t, fleet } = s;
    await advance(s, 15 * 60_000);
    // Each cluster heartbeats at connect and every 30 s after: 31 heartbeats in 15 minutes.
    await vi.waitFor(() => expect(sentCount(s as Setup)).toBe(fleet.size * 31), { timeout: 10_000 });
    await t.platform.telemetry.flush();

    await expectExactHistory(s);
    expect(t.platform.telemetry.stats()).toMatchObject({ backend: 'embedded', dropped: 0, buffered: 0 });
  }, 60_000);

  it('aggregates into windows, pages raw points, and refuses bad queries naming the field', async () => {
    s = await setup();
    const { t } = s;
    await advance(s, 10 * 60_000);
    const id = 'hd-c07';
    await vi.waitFor(() => expect(s?.sent.get(id)?.length).toBe(21), { timeout: 10_000 });
    await t.platform.telemetry.flush();
    const heartbeats = s.sent.get(id) ?? [];
    const range = `from=${new Date(START).toISOString()}&to=${new Date(START + 10 * 60_000 + 1).toISOString()}`;

    const counted = await t.api(`/api/v1/devices/${id}/history?field=signal&window=1h&agg=count&${range}`);
    expect(counted.body).toMatchObject({ window: '1h', agg: 'count', points: [{ value: 21 }] });
    const mean = await t.api(`/api/v1/devices/${id}/history?field=signal&window=1d&agg=mean&${range}`);
    // A day window starts at local midnight: 17:00 UTC the evening before.
    expect(mean.body.points).toEqual([
      {
        at: '2026-11-21T17:00:00.000Z',
        value: expect.closeTo(heartbeats.reduce((sum, hb) => sum + hb.rssiDbm, 0) / heartbeats.length, 6),
      },
    ]);

    const page1 = await t.api(`/api/v1/devices/${id}/history?field=volume&limit=8&${range}`);
    expect(page1.body.points).toHaveLength(8);
    const page2 = await t.api(
      `/api/v1/devices/${id}/history?field=volume&limit=100&from=${page1.body.next}&to=${new Date(START + 10 * 60_000 + 1).toISOString()}`,
    );
    expect([...page1.body.points, ...page2.body.points].map((p: Json) => p.at)).toEqual(
      heartbeats.map((hb) => new Date(hb.ts).toISOString()),
    );

    const badField = await t.api(`/api/v1/devices/${id}/history?field=humidity`);
    expect(badField.status).toBe(400);
    expect(badField.body.error.message).toContain('field');
    const tooFine = await t.api(
      `/api/v1/devices/${id}/history?field=signal&window=1s&from=2026-01-01T00:00:00Z`,
    );
    expect(tooFine.status).toBe(400);
    expect(tooFine.body.error.details).toEqual({ field: 'window' });
    const backwards = await t.api(
      `/api/v1/devices/${id}/history?field=signal&from=2026-11-22T02:00:00Z&to=2026-11-22T01:00:00Z`,
    );
    expect(backwards.status).toBe(400);
    const unknown = await t.api('/api/v1/devices/hd-c99/history?field=signal');
    expect(unknown.status).toBe(404);
    // An operator of another commune does not learn that the cluster exists.
    await t.platform.registry.createCommune({ id: 'other', name: 'Xã Khác' });
    const outsider = await t.headersFor('operator', { communeId: 'other' });
    const hidden = await t.api(`/api/v1/devices/${id}/history?field=signal`, { as: { headers: outsider } });
    expect(hidden.status).toBe(404);
  }, 60_000);

  it('reports uptime per cluster and village from the presence history, and keeps it across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sc-history-restart-'));
    s = await setup({ dataDir });
    const { t, clock, fleet } = s;
    const connected = clock.now();
    await advance(s, 30 * 60_000);
    // Cluster 7 loses power: its will marks it offline at once.
    await fleet.injectFault('hd-c07', { kind: 'power-cut' });
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c07')).toBe(false), { timeout: 10_000 });
    const cut = clock.now();
    await advance(s, 30 * 60_000);
    const end = clock.now();
    await t.platform.telemetry.flush();

    const query = `from=${new Date(connected - 60 * 60_000).toISOString()}&to=${new Date(end).toISOString()}`;
    const report = await t.api(`/api/v1/reports/availability?communeId=huong-dao&limit=50&${query}`, {
      as: 'operator',
    });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    const devices = report.body.devices.items as Json[];
    expect(report.body.devices.total).toBe(fleet.size);
    const seven = devices.find((d) => d.id === 'hd-c07') as Json;
    // The hour before the fleet first connected is unknown, not down.
    expect(seven.unknownS).toBeCloseTo(3600, -1);
    expect(seven.onlineS).toBeCloseTo((cut - connected) / 1000, -1);
    expect(seven.offlineS).toBeCloseTo((end - cut) / 1000, -1);
    expect(seven.uptimePct).toBeCloseTo(50, 0);
    for (const d of devices.filter((x) => x.id !== 'hd-c07')) expect(d.uptimePct).toBe(100);
    const village = (report.body.villages as Json[]).find((v) => v.id === seven.villageId) as Json;
    const members = devices.filter((d) => d.villageId === seven.villageId);
    const online = (list: Json[]) => list.reduce((sum, d) => sum + d.onlineS, 0);
    const known = (list: Json[]) => list.reduce((sum, d) => sum + d.onlineS + d.offlineS, 0);
    expect(village.devices).toBe(members.length);
    expect(village.uptimePct).toBeCloseTo((100 * online(members)) / known(members), 1);
    expect(report.body.overall.uptimePct).toBeCloseTo((100 * online(devices)) / known(devices), 1);
    expect(report.body.overall.devices).toBe(fleet.size);

    // The history lives in DATA_DIR: a restarted platform reports the same figures.
    await s.close();
    s = null;
    const again = await startTestPlatform({ clock, dataDir, config: { SEED_PRESET: 'huong-dao' } });
    try {
      const after = await again.api(`/api/v1/reports/availability?communeId=huong-dao&limit=50&${query}`);
      const sevenAfter = (after.body.devices.items as Json[]).find((d) => d.id === 'hd-c07');
      expect(sevenAfter).toEqual(seven);
    } finally {
      await again.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

const skip = influxdSkipReason();

describe.skipIf(skip !== null)(
  `heartbeat history on InfluxDB 1.x${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let server: Influxd | null = null;
    let s: Setup | null = null;
    afterEach(async () => {
      await s?.close();
      s = null;
      await server?.cleanup();
      server = null;
    });

    it('keeps running while InfluxDB is down at start, then returns exactly the heartbeats sent', async () => {
      server = await Influxd.create({ start: false });
      s = await setup({
        config: { INFLUX_URL: server.url, INFLUX_API: 'v1', INFLUX_BUCKET: freshDatabase('history_api') },
      });
      const { t, fleet } = s;
      await advance(s, 5 * 60_000);
      await vi.waitFor(() => expect(sentCount(s as Setup)).toBe(fleet.size * 11), { timeout: 10_000 });

      // The broker and presence carry on; the points wait in the buffer, and the API says why it cannot read.
      expect(t.platform.presence.onlineCount()).toBe(fleet.size);
      const health = await t.api('/healthz', { as: 'anonymous' });
      expect(health.body.history).toMatchObject({ backend: 'influxdb-v1', dropped: 0 });
      expect(health.body.history.buffered).toBeGreaterThanOrEqual(fleet.size * 11);
      const unavailable = await t.api('/api/v1/devices/hd-c01/history?field=signal');
      expect(unavailable.status).toBe(503);
      expect(unavailable.body.error.code).toBe('history_unavailable');

      await server.start();
      await advance(s, 5 * 60_000);
      await vi.waitFor(() => expect(sentCount(s as Setup)).toBe(fleet.size * 21), { timeout: 10_000 });
      await vi.waitFor(() => t.platform.telemetry.flush(), { timeout: 20_000, interval: 200 });
      await expectExactHistory(s);
      expect(t.platform.telemetry.stats()).toMatchObject({ backend: 'influxdb-v1', dropped: 0, buffered: 0 });
    }, 90_000);
  },
);
