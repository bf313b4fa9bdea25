import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCommand, DeviceEventSchema, HeartbeatSchema, StateMessageSchema } from '../../devices/index.js';
import type { Harness } from './mqtt-harness.js';
import { is, onTopic, startHarness } from './mqtt-harness.js';

describe('simulated cluster: connection and heartbeats', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('announces itself online, retained, then sends a boot event', async () => {
    const cluster = await h.startCluster({ deviceId: 'hd-01', speakers: 2, fw: '2.1.0' });
    const state = await h.observer.waitFor(is('hd-01', 'state', { online: true }), 'online state');
    expect(StateMessageSchema.parse(state.json)).toMatchObject({ online: true, fw: '2.1.0', speakers: 2 });
    const boot = await h.observer.waitFor(is('hd-01', 'event', { type: 'boot' }), 'boot event');
    expect(DeviceEventSchema.parse(boot.json)).toEqual({
      type: 'boot',
      ts: h.clock.now(),
      code: 'power-on',
      message: 'fw 2.1.0',
    });
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 0 }), 'heartbeat at connect');
    const order = h.observer.messages.filter((m) => m.deviceId === 'hd-01').map((m) => m.kind);
    expect(order).toEqual(['state', 'event', 'heartbeat']);
    expect(cluster.status()).toMatchObject({ connected: true, powered: true, seq: 1 });

    // A client that connects later still learns the state: it is retained.
    const late = await h.connectClient('late-observer');
    const retained = new Promise<Buffer>((resolve) =>
      late.once('message', (_topic, payload) => resolve(payload)),
    );
    await late.subscribeAsync('sc/v1/hd-01/state', { qos: 1 });
    expect(JSON.parse((await retained).toString())).toMatchObject({ online: true });
  });

  it('heartbeats at once on connect, then only as the clock advances', async () => {
    await h.startCluster({ heartbeatIntervalS: 30 });
    const atConnect = HeartbeatSchema.parse(
      (await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 0 }), 'hb 0')).json,
    );
    expect(atConnect).toMatchObject({
      seq: 0,
      uptimeS: 0,
      net: '4g',
      volume: 70,
      power: true,
      playing: false,
    });
    expect(atConnect.ts).toBe(h.clock.now());
    expect(atConnect.speakers).toEqual([
      { idx: 1, ok: true },
      { idx: 2, ok: true },
    ]);

    h.clock.advance(29_999);
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-01', 'heartbeat'))).toHaveLength(1);

    h.clock.advance(1);
    const next = HeartbeatSchema.parse(
      (await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'hb 1')).json,
    );
    expect(next.uptimeS).toBe(30);
    expect(next.ts).toBe(h.clock.now());
  });

  it('reports plausible, drifting telemetry', async () => {
    await h.startCluster({ heartbeatIntervalS: 10 });
    for (let i = 0; i < 19; i++) h.clock.advance(10_000);
    const beats = (await h.observer.waitForCount(onTopic('hd-01', 'heartbeat'), 20, 'heartbeats')).map((m) =>
      HeartbeatSchema.parse(m.json),
    );
    expect(beats.map((b) => b.seq)).toEqual([...Array(20).keys()]);
    for (const beat of beats) {
      expect(beat.rssiDbm).toBeGreaterThanOrEqual(-85);
      expect(beat.rssiDbm).toBeLessThanOrEqual(-65);
      expect(beat.tempC).toBeGreaterThanOrEqual(30);
      expect(beat.tempC).toBeLessThanOrEqual(45);
      expect(beat.supplyV).toBeGreaterThanOrEqual(12);
      expect(beat.supplyV).toBeLessThanOrEqual(13.8);
    }
    expect(new Set(beats.map((b) => b.tempC)).size).toBeGreaterThan(1);
  });

  it('switches to the interval a config command sets', async () => {
    const cluster = await h.startCluster({ heartbeatIntervalS: 30 });
    const config = buildCommand('config', { heartbeatIntervalS: 5 }, h.clock.now());
    await h.observer.sendCommand('hd-01', config);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: config.id, status: 'done' }), 'config ack');
    expect(cluster.status().heartbeatIntervalS).toBe(5);
    h.clock.advance(5_000);
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'heartbeat after 5 s');
  });

  it('reports weak signal and overheating while those faults are active', async () => {
    const cluster = await h.startCluster({ heartbeatIntervalS: 10 });
    await cluster.injectFault({ kind: 'weak-signal' });
    await cluster.injectFault({ kind: 'overheat' });
    for (let i = 0; i < 5; i++) h.clock.advance(10_000);
    const beats = (await h.observer.waitForCount(onTopic('hd-01', 'heartbeat'), 6, 'heartbeats')).map((m) =>
      HeartbeatSchema.parse(m.json),
    );
    for (const beat of beats.slice(1)) {
      expect(beat.rssiDbm).toBeGreaterThanOrEqual(-110);
      expect(beat.rssiDbm).toBeLessThanOrEqual(-105);
      expect(beat.tempC).toBeGreaterThanOrEqual(78);
      expect(beat.tempC).toBeLessThanOrEqual(82);
    }
    await cluster.clearFault('all');
    h.clock.advance(10_000);
    const after = HeartbeatSchema.parse(
      (await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 6 }), 'hb 6')).json,
    );
    expect(after.rssiDbm).toBeGreaterThan(-90);
    expect(after.tempC).toBeLessThanOrEqual(45);
  });

  it('stays connected but silent under heartbeat-stop', async () => {
    const cluster = await h.startCluster({ heartbeatIntervalS: 10 });
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 0 }), 'heartbeat at connect');
    await cluster.injectFault({ kind: 'heartbeat-stop' });
    h.clock.advance(60_000);
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-01', 'heartbeat'))).toHaveLength(1);
    expect(cluster.status()).toMatchObject({ connected: true, seq: 1 });

    // Still answers commands: the main loop is hung, not the MQTT task.
    const ping = buildCommand('ping', {}, h.clock.now());
    await h.observer.sendCommand('hd-01', ping);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: ping.id, status: 'done' }), 'ping ack');

    await cluster.clearFault('heartbeat-stop');
    h.clock.advance(10_000);
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'first heartbeat after the fault');
  });

  it('publishes state offline and disconnects cleanly on stop', async () => {
    const cluster = await h.startCluster();
    const offline = h.observer.waitFor(is('hd-01', 'state', { online: false }), 'offline state');
    await cluster.stop();
    // Delivered live, so the retain flag is 0 even though it was published retained [MQTT-3.3.1-9].
    expect((await offline).retain).toBe(false);
    expect(cluster.status()).toMatchObject({ started: false, connected: false });
  });
});
