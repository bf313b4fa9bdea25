import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClusterLive, RawMessage } from '../../contracts/realtime.js';
import { api, heartbeat, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { connected, consoleSocket, type Recorded } from './console-socket.js';

describe('realtime gateway', () => {
  let t: TestPlatform;
  const secrets = new Map<string, string>();
  const open: Recorded[] = [];

  /** A console socket that is closed after the test. */
  const client = (...args: Parameters<typeof consoleSocket>) => {
    const c = consoleSocket(...args);
    open.push(c);
    return c;
  };
  const as = async (role: Parameters<TestPlatform['headersFor']>[0], communeId?: string) => {
    const headers = await t.headersFor(role, communeId ? { communeId } : {});
    const c = client(t.httpUrl, { headers });
    await connected(c);
    return c;
  };
  const device = async (id: string): Promise<MqttClient> => {
    const secret = secrets.get(id);
    if (!secret) throw new Error(`no device ${id}`);
    return t.connectDevice(id, secret);
  };
  const deltasFor = (c: Recorded, id: string): ClusterLive[] =>
    c.of('clusters.delta').flatMap((list) => list.filter((cluster) => cluster.id === id));

  beforeAll(async () => {
    t = await startTestPlatform();
    for (const id of ['c-one', 'c-two', 'c-burst', 'c-watch', 'c-off'])
      secrets.set(id, await t.addDevice(id));
    await t.platform.registry.createCommune({ id: 'other', name: 'Xã Khác' });
    await t.platform.registry.createVillage({ id: 'v-other', communeId: 'other', name: 'Thôn Khác' });
    await t.platform.registry.createCluster({
      id: 'c-other',
      villageId: 'v-other',
      name: 'Cụm Khác',
      location: { lat: 21.2, lon: 105.4 },
    });
    // Never answers: its health stays 'unknown' until a poll fails, which the test does not wait for.
    await t.platform.cameras.create({
      id: 'cam-one',
      communeId: 'test-commune',
      name: 'Cổng trường',
      xaddr: 'http://127.0.0.1:9/onvif/device_service',
      username: 'admin',
      password: 'camera-password',
    });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.socket.disconnect();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('handshake', () => {
    it('refuses a socket without a session cookie or token', async () => {
      const c = client(t.httpUrl);
      await expect(connected(c)).rejects.toThrow('unauthenticated');
    });

    it('refuses a forged session cookie', async () => {
      const c = client(t.httpUrl, { headers: { cookie: 'sc_session=forged' } });
      await expect(connected(c)).rejects.toThrow('unauthenticated');
    });

    it('accepts the session cookie the API signed in with', async () => {
      const c = client(t.httpUrl, { headers: await t.headersFor('operator') });
      await connected(c);
      expect(c.socket.connected).toBe(true);
    });

    it('accepts an API token passed as auth.token', async () => {
      const created = await t.api('/api/v1/auth/tokens', { method: 'POST', body: { name: 'wall display' } });
      expect(created.status).toBe(201);
      const c = client(t.httpUrl, { token: created.body.token as string });
      await connected(c);
      await vi.waitFor(() => expect(c.of('clusters.snapshot')).toHaveLength(1));
    });

    it('refuses a WebSocket opened by a page on another site', async () => {
      const c = client(t.httpUrl, {
        headers: { ...(await t.headersFor('operator')), origin: 'http://evil.test' },
      });
      await expect(connected(c)).rejects.toThrow();
    });
  });

  describe('snapshots by role and commune', () => {
    it('gives an operator every cluster and no cameras', async () => {
      const c = await as('operator');
      await vi.waitFor(() => expect(c.of('clusters.snapshot')).toHaveLength(1));
      const ids = c.of('clusters.snapshot')[0]?.map((cluster) => cluster.id);
      expect(ids).toEqual(['c-burst', 'c-off', 'c-one', 'c-other', 'c-two', 'c-watch']);
      expect(c.of('clusters.snapshot')[0]?.find((x) => x.id === 'c-one')).toMatchObject({
        communeId: 'test-commune',
        villageId: 'test-village',
        online: false,
        speakers: [
          { idx: 1, ok: null, fault: null },
          { idx: 2, ok: null, fault: null },
        ],
      });
      expect(c.events.filter((e) => e.name.startsWith('cameras.'))).toEqual([]);
    });

    it('gives the police cameras only, never cluster or delivery data', async () => {
      const police = await as('police');
      const operator = await as('operator');
      await vi.waitFor(() => expect(police.of('cameras.snapshot')).toHaveLength(1));
      expect(police.of('cameras.snapshot')[0]).toEqual([
        expect.objectContaining({ id: 'cam-one', communeId: 'test-commune' }),
      ]);
      // Traffic that reaches the operator must not reach the police.
      const mqtt = await device('c-two');
      mqtt.publish('sc/v1/c-two/heartbeat', heartbeat(1));
      await vi.waitFor(() => expect(deltasFor(operator, 'c-two').length).toBeGreaterThan(0));
      const clusterEvents = police.events.filter(
        (e) => e.name.startsWith('clusters.') || e.name.startsWith('deliveries.'),
      );
      expect(clusterEvents).toEqual([]);
      await mqtt.endAsync();
    });

    it("shows an operator limited to one commune only that commune's clusters", async () => {
      const limited = await as('operator', 'other');
      const everyone = await as('operator');
      await vi.waitFor(() => expect(limited.of('clusters.snapshot')).toHaveLength(1));
      expect(limited.of('clusters.snapshot')[0]?.map((x) => x.id)).toEqual(['c-other']);
      const mqtt = await device('c-one');
      mqtt.publish('sc/v1/c-one/heartbeat', heartbeat(1));
      await vi.waitFor(() => expect(deltasFor(everyone, 'c-one').length).toBeGreaterThan(0));
      expect(limited.of('clusters.delta').flat()).toEqual([]);
      await mqtt.endAsync();
    });
  });

  it('shows a cluster going offline as a delta, without a reload', async () => {
    const operator = await as('operator');
    const mqtt = await device('c-off');
    mqtt.publish('sc/v1/c-off/state', JSON.stringify({ online: true, ts: Date.now(), fw: '1.0.0' }), {
      qos: 1,
      retain: true,
    });
    await vi.waitFor(() => expect(deltasFor(operator, 'c-off').at(-1)?.online).toBe(true));
    mqtt.publish('sc/v1/c-off/state', JSON.stringify({ online: false, ts: Date.now() }), {
      qos: 1,
      retain: true,
    });
    await vi.waitFor(() =>
      expect(deltasFor(operator, 'c-off').at(-1)).toMatchObject({ online: false, reason: 'shutdown' }),
    );
    await mqtt.endAsync();
  });

  it('collapses a burst of heartbeats into a few deltas carrying the last values', async () => {
    const operator = await as('operator');
    await vi.waitFor(() => expect(operator.of('clusters.snapshot')).toHaveLength(1));
    const mqtt = await device('c-burst');
    const started = Date.now();
    for (let seq = 1; seq <= 200; seq++) {
      mqtt.publish(
        'sc/v1/c-burst/heartbeat',
        heartbeat(seq, { volume: seq % 100, rssiDbm: -50 - (seq % 40) }),
      );
    }
    // Heartbeat 200 says volume 0 and -50 dBm; no earlier one says both.
    await vi.waitFor(() =>
      expect(deltasFor(operator, 'c-burst').at(-1)).toMatchObject({ volume: 0, signalDbm: -50 }),
    );
    const finished = Date.now();
    // Anything still queued would leave within one more flush.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const deltas = operator.events.filter(
      (e) => e.name === 'clusters.delta' && (e.payload as ClusterLive[]).some((x) => x.id === 'c-burst'),
    );
    // Flushes are at least 100 ms apart, so over the burst there can be at most one per started
    // 100 ms plus the first; one more allows for a flush that was already armed when it began.
    const bound = Math.floor((finished - started) / 100) + 2;
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.length).toBeLessThanOrEqual(bound);
    expect(deltas.length).toBeLessThan(200);
    // Each emission holds one record per cluster, never a queue of them.
    for (const delta of deltas) {
      expect((delta.payload as ClusterLive[]).filter((x) => x.id === 'c-burst')).toHaveLength(1);
    }
    expect(deltasFor(operator, 'c-burst').at(-1)).toMatchObject({ online: true, volume: 0, signalDbm: -50 });
    const gaps = deltas.slice(1).map((d, i) => d.at - (deltas[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(90);
    await mqtt.endAsync();
  });

  describe('device.watch', () => {
    it("relays a watched device's heartbeat in and a command out to a technician", async () => {
      const technician = await as('technician');
      const mqtt = await device('c-watch');
      mqtt.publish('sc/v1/c-watch/heartbeat', heartbeat(1));
      await vi.waitFor(() => expect(t.platform.presence.isOnline('c-watch')).toBe(true));
      expect(await technician.socket.emitWithAck('device.watch', { deviceId: 'c-watch' })).toEqual({
        ok: true,
      });
      mqtt.publish('sc/v1/c-watch/heartbeat', heartbeat(77));
      const messages = () => technician.of('device.messages').flat() as RawMessage[];
      await vi.waitFor(() =>
        expect(messages()).toContainEqual(
          expect.objectContaining({
            deviceId: 'c-watch',
            topic: 'sc/v1/c-watch/heartbeat',
            direction: 'in',
            payload: expect.stringContaining('"seq":77'),
          }),
        ),
      );
      const sent = await t.api('/api/v1/devices/c-watch/commands', {
        method: 'POST',
        as: 'technician',
        body: { type: 'ping' },
      });
      expect(sent.status).toBe(202);
      await vi.waitFor(() =>
        expect(messages()).toContainEqual(
          expect.objectContaining({
            topic: 'sc/v1/c-watch/cmd',
            direction: 'out',
            payload: expect.stringContaining(sent.body.id as string),
          }),
        ),
      );
      expect(await technician.socket.emitWithAck('device.unwatch', { deviceId: 'c-watch' })).toEqual({
        ok: true,
      });
      const before = messages().length;
      mqtt.publish('sc/v1/c-watch/heartbeat', heartbeat(78));
      // The operator-side delta proves the heartbeat went through; the technician got no raw copy.
      await vi.waitFor(() => expect(deltasFor(technician, 'c-watch').length).toBeGreaterThan(0));
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(messages().length).toBe(before);
      await mqtt.endAsync();
    });

    it("refuses an operator's watch, and a device outside the technician's reach", async () => {
      const operator = await as('operator');
      expect(await operator.socket.emitWithAck('device.watch', { deviceId: 'c-one' })).toEqual({
        ok: false,
        error: 'forbidden',
      });
      const technician = await as('technician');
      expect(await technician.socket.emitWithAck('device.watch', { deviceId: 'c-nowhere' })).toEqual({
        ok: false,
        error: 'not_found',
      });
      const limited = await as('technician', 'other');
      expect(await limited.socket.emitWithAck('device.watch', { deviceId: 'c-one' })).toEqual({
        ok: false,
        error: 'not_found',
      });
    });
  });

  it('sends a fresh snapshot after a reconnect', async () => {
    const c = client(t.httpUrl, { headers: await t.headersFor('operator') }, { reconnection: true });
    await connected(c);
    await vi.waitFor(() => expect(c.of('clusters.snapshot')).toHaveLength(1));
    // Drops the transport as a network failure would; the client reconnects by itself.
    c.socket.io.engine.close();
    await vi.waitFor(() => expect(c.of('clusters.snapshot')).toHaveLength(2));
    expect(c.socket.connected).toBe(true);
  });

  /** A new operator account's console socket beside another's, and why the first was disconnected. */
  const watchedConsole = async (username: string) => {
    const user = await t.platform.auth.createUser({
      username,
      displayName: username,
      password: `${username}-password`,
      roles: ['operator'],
    });
    const login = await api(t.httpUrl, '/api/v1/auth/login', {
      method: 'POST',
      body: { username, password: `${username}-password` },
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const c = client(t.httpUrl, { headers: { cookie } });
    await connected(c);
    const stays = await as('operator');
    const watched = { user, cookie, stays, reason: '' };
    c.socket.on('disconnect', (why) => {
      watched.reason = why;
    });
    return watched;
  };

  it('drops a console socket the moment its session signs out', async () => {
    const watched = await watchedConsole('signing-out');
    const { cookie, stays } = watched;
    expect(
      (await api(t.httpUrl, '/api/v1/auth/logout', { method: 'POST', headers: { cookie } })).status,
    ).toBe(204);
    // No periodic recheck is run here: the sign-out itself ends the stream.
    await vi.waitFor(() => expect(watched.reason).toBe('io server disconnect'), { timeout: 2_000 });
    expect(stays.socket.connected).toBe(true);
  });

  it('disconnects the socket of an account that is disabled', async () => {
    const watched = await watchedConsole('leaving-operator');
    const { user, cookie, stays } = watched;
    const patched = await t.api(`/api/v1/users/${user.id}`, { method: 'PATCH', body: { disabled: true } });
    expect(patched.status).toBe(200);
    await t.platform.realtime.recheck();
    await vi.waitFor(() => expect(watched.reason).toBe('io server disconnect'));
    expect(stays.socket.connected).toBe(true);
    // …and it cannot come back with the same cookie.
    await expect(connected(client(t.httpUrl, { headers: { cookie } }))).rejects.toThrow('unauthenticated');
  });

  it('drops the socket of an account disabled without the HTTP API (a command line), at once', async () => {
    const watched = await watchedConsole('disabled-offline');
    const admin = (await t.platform.auth.listUsers({ limit: 100, offset: 0 })).items.find(
      (u) => u.username === 'admin',
    );
    if (!admin) throw new Error('no admin account');
    await t.platform.auth.updateUser(
      watched.user.id,
      { disabled: true },
      {
        via: 'token',
        userId: admin.id,
        username: 'admin',
        roles: ['admin'],
        communes: null,
        provinceId: null,
      },
    );
    // No periodic recheck is run here: the account change itself ends the stream.
    await vi.waitFor(() => expect(watched.reason).toBe('io server disconnect'), { timeout: 2_000 });
    expect(watched.stays.socket.connected).toBe(true);
  });
});
