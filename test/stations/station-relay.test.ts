import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMp3Encoder } from 'wasm-media-encoders';
import { storeWav } from '../media/audio-fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/** MP3 (16 kHz mono) of `tone` seconds of 440 Hz and then `silence` seconds of nothing. */
async function mp3(tone: number, silence: number): Promise<Buffer> {
  const encoder = await createMp3Encoder();
  encoder.configure({ sampleRate: 16_000, channels: 1, bitrate: 32 });
  const parts: Buffer[] = [];
  for (let s = 0; s < tone + silence; s++) {
    const pcm = new Float32Array(16_000);
    if (s < tone)
      for (let i = 0; i < pcm.length; i++) pcm[i] = 0.4 * Math.sin((2 * Math.PI * 440 * i) / 16_000);
    parts.push(Buffer.from(encoder.encode([pcm])));
  }
  parts.push(Buffer.from(encoder.finalize()));
  return Buffer.concat(parts);
}

/** A radio station on this PC: answers with `type` and `body`, and keeps the connection open. */
async function station(
  type: string,
  body: Buffer,
): Promise<{ url: string; server: Server; listeners: ServerResponse[] }> {
  const listeners: ServerResponse[] = [];
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': type });
    response.write(body);
    listeners.push(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/vov1.mp3`, server, listeners };
}

/** A cluster that records the play commands it is sent. */
async function recordingCluster(t: TestPlatform, id: string) {
  const secret = await t.addDevice(id);
  const client: MqttClient = await t.connectDevice(id, secret);
  await client.subscribeAsync(`sc/v1/${id}/cmd`, { qos: 1 });
  const plays: { broadcastId: string; startAt: number; source: { kind: string; url: string } }[] = [];
  client.on('message', (_topic, payload) => {
    const command = JSON.parse(payload.toString());
    if (command.type === 'play') plays.push(command);
  });
  return { client, plays };
}

describe('station relays', () => {
  let t: TestPlatform;
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
    await t?.close();
  });

  it('keeps a list admins edit and operators read, refusing what cannot be a station', async () => {
    t = await startTestPlatform();
    const create = (body: Json, as: 'admin' | 'operator' = 'admin') =>
      t.api('/api/v1/stations', { method: 'POST', body, as });
    const vov = await create({
      id: 'vov1',
      name: 'VOV1',
      url: 'http://stream.vov.vn/vov1.mp3',
      kind: 'national',
    });
    expect(vov.status, JSON.stringify(vov.body)).toBe(201);
    expect(vov.body).toMatchObject({ fallback: { kind: 'stop' }, health: { state: 'unknown' } });
    expect((await create({ id: 'x', name: 'X', url: 'http://a.vn/x' }, 'operator')).status).toBe(403);
    const self = await create({
      id: 'loop',
      name: 'Loop',
      url: 'http://a.vn/l',
      fallback: { kind: 'station', stationId: 'loop' },
    });
    expect(self.status).toBe(400);
    expect(self.body.error.message).toBe('body.fallback.stationId: a station cannot be its own fallback');
    const own = await create({
      id: 'own',
      name: 'Own',
      url: `http://127.0.0.1:${t.platform.httpPort}/api/v1/healthz`,
    });
    expect(own.status).toBe(400);
    expect(own.body.error.message).toMatch(/^body\.url: /);
    const metadata = await create({ id: 'meta', name: 'Meta', url: 'http://169.254.169.254/latest' });
    expect(metadata.status).toBe(400);
    const list = await t.api('/api/v1/stations', { as: 'operator' });
    expect(list.body.map((s: { id: string }) => s.id)).toEqual(['vov1']);
    expect((await t.api('/api/v1/stations', { as: 'police' })).status).toBe(403);
  });

  it('switches a relay whose station goes silent to its fallback, and the log says when and why', async () => {
    t = await startTestPlatform({ config: { STATION_ALLOW_LOOPBACK: true, STATION_DEAD_AIR_S: 3 } });
    const source = await station('audio/mpeg', await mp3(2, 10));
    servers.push(source.server);
    const fallbackMedia = await storeWav(t.platform.media, 'Nhạc chờ');
    expect(
      (
        await t.api('/api/v1/stations', {
          method: 'POST',
          as: 'admin',
          body: {
            id: 'vov1',
            name: 'VOV1',
            url: source.url,
            fallback: { kind: 'media', mediaId: fallbackMedia },
          },
        })
      ).status,
    ).toBe(201);
    const cluster = await recordingCluster(t, 'hd-r1');
    const relay = await t.api('/api/v1/broadcasts/live', {
      method: 'POST',
      as: 'operator',
      body: { name: 'Tiếp sóng VOV1', stationId: 'vov1', durationS: 600, targets: { clusterIds: ['hd-r1'] } },
    });
    expect(relay.status, JSON.stringify(relay.body)).toBe(201);
    expect(relay.body.content).toEqual({ kind: 'station', stationId: 'vov1' });
    // The cluster is told to play the station's stream, then the fallback once the station is silent
    // (each as often as the platform resends it: this cluster never answers).
    const played = () => [...new Map(cluster.plays.map((p) => [p.broadcastId, p.source.kind])).values()];
    await vi.waitFor(() => expect(played()).toEqual(['stream', 'media']), { timeout: 15_000 });
    const fallbackPlay = cluster.plays.find((p) => p.source.kind === 'media');
    expect(cluster.plays[0]?.source.url).toBe(source.url);
    const log = await t.api(`/api/v1/broadcasts/${relay.body.id}`, { as: 'operator' });
    expect(log.body.status).toBe('stopped');
    expect(log.body.deliveries[0]).toMatchObject({
      state: 'stopped',
      reason: 'switched to the fallback: VOV1: dead air: 3 s of silence',
    });
    expect(log.body.switches).toEqual([
      {
        at: expect.any(String),
        reason: 'VOV1: dead air: 3 s of silence',
        to: { kind: 'media', mediaId: fallbackMedia },
        toBroadcastId: fallbackPlay?.broadcastId,
      },
    ]);
    const fallback = await t.api(`/api/v1/broadcasts/${fallbackPlay?.broadcastId}`, { as: 'operator' });
    expect(fallback.body).toMatchObject({ name: 'Tiếp sóng VOV1 (dự phòng)', content: { kind: 'media' } });
    const health = await t.api('/api/v1/stations/vov1', { as: 'operator' });
    expect(health.body.health).toMatchObject({ state: 'silent', detail: 'dead air: 3 s of silence' });
    await cluster.client.endAsync();
  }, 30_000);

  it('checks a station before the relay plays: unreachable or not audio goes to the fallback station', async () => {
    t = await startTestPlatform({ config: { STATION_ALLOW_LOOPBACK: true, STATION_TIMEOUT_MS: 2_000 } });
    const page = await station('text/html', Buffer.from('<html>maintenance</html>'));
    const backup = await station('audio/mpeg', await mp3(30, 0));
    servers.push(page.server, backup.server);
    const stations = [
      { id: 'tinh', name: 'Đài tỉnh', url: backup.url },
      { id: 'vov1', name: 'VOV1', url: page.url, fallback: { kind: 'station', stationId: 'tinh' } },
    ];
    for (const body of stations) await t.api('/api/v1/stations', { method: 'POST', as: 'admin', body });
    const cluster = await recordingCluster(t, 'hd-r2');
    const relay = await t.api('/api/v1/broadcasts/live', {
      method: 'POST',
      as: 'operator',
      body: { name: 'VOV1', stationId: 'vov1', durationS: 600, targets: { clusterIds: ['hd-r2'] } },
    });
    await vi.waitFor(
      async () => {
        const log = await t.api(`/api/v1/broadcasts/${relay.body.id}`, { as: 'operator' });
        expect(log.body.switches[0]).toMatchObject({
          reason: 'VOV1: Content-Type text/html is not audio',
          to: { kind: 'station', stationId: 'tinh' },
        });
      },
      { timeout: 15_000 },
    );
    await vi.waitFor(() => expect(cluster.plays.at(-1)?.source.url).toBe(backup.url));
    expect((await t.api('/api/v1/stations/vov1', { as: 'operator' })).body.health.state).toBe('wrong-type');
    await cluster.client.endAsync();
  }, 30_000);

  it("starts a scheduled daily relay at its hour in the commune's time zone", async () => {
    // 05:55 in Hướng Đạo (UTC+7) on Tuesday 8 December 2026.
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 22, 55, 0));
    t = await startTestPlatform({
      clock,
      // The clock moves by minutes while this cluster sends no heartbeats: presence stays out of the way.
      config: { STATION_ALLOW_LOOPBACK: true, DISPATCH_LEAD_S: 60, HEARTBEAT_MISSED_LIMIT: 20 },
    });
    const source = await station('audio/mpeg', await mp3(30, 0));
    servers.push(source.server);
    await t.api('/api/v1/stations', {
      method: 'POST',
      as: 'admin',
      body: { id: 'vov1', name: 'VOV1', url: source.url },
    });
    const cluster = await recordingCluster(t, 'hd-r3');
    const schedule = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'VOV1 buổi sáng',
        level: 'normal',
        content: { kind: 'station', stationId: 'vov1' },
        durationS: 1800,
        start: '2026-12-08T06:00',
        rrule: 'FREQ=DAILY',
        targets: { clusterIds: ['hd-r3'] },
      },
    });
    expect(schedule.status, JSON.stringify(schedule.body)).toBe(201);
    // Nothing before the lead time; at 05:59 the play goes out for 06:00 local, 23:00 UTC.
    for (let i = 0; i < 4 * 60; i++) clock.advance(1000);
    expect(cluster.plays).toEqual([]);
    for (let i = 0; i < 60; i++) clock.advance(1000);
    await vi.waitFor(() => expect(cluster.plays).toHaveLength(1));
    expect(cluster.plays[0]).toMatchObject({
      startAt: Date.UTC(2026, 11, 7, 23, 0, 0),
      source: { kind: 'stream', url: source.url },
    });
    await cluster.client.endAsync();
  });
});
