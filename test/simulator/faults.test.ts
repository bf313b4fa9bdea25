import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AckSchema, buildCommand, DeviceEventSchema, HeartbeatSchema } from '../../devices/index.js';
import type { Harness } from './mqtt-harness.js';
import { is, onTopic, startHarness } from './mqtt-harness.js';

function clientDisconnected(h: Harness, clientId: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (client: { id: string }) => {
      if (client.id !== clientId) return;
      h.broker.off('clientDisconnect', listener);
      resolve();
    };
    h.broker.on('clientDisconnect', listener);
  });
}

describe('simulated cluster: fault injection', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('power-cut: the broker delivers the last will, and clearing it boots the cluster again', async () => {
    const connectedAt = h.clock.now();
    const cluster = await h.startCluster({ heartbeatIntervalS: 10 });
    h.clock.advance(20_000);
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 2 }), 'heartbeat 2');

    await cluster.injectFault({ kind: 'power-cut' });
    const will = await h.observer.waitFor(is('hd-01', 'state', { online: false }), 'the will');
    // The will was fixed at CONNECT time, so it carries the connect timestamp, not the cut's.
    expect(will.json).toEqual({ online: false, ts: connectedAt });
    expect(cluster.status()).toMatchObject({ powered: false, connected: false });

    h.clock.advance(60_000);
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-01', 'heartbeat'))).toHaveLength(3);

    await cluster.clearFault('power-cut');
    const boots = await h.observer.waitForCount(is('hd-01', 'event', { type: 'boot' }), 2, 'boot events');
    expect(boots[1]?.json).toMatchObject({ code: 'power-on' });
    const beats = await h.observer.waitForCount(is('hd-01', 'heartbeat', { seq: 0 }), 2, 'heartbeat seq 0');
    expect(HeartbeatSchema.parse(beats[1]?.json).uptimeS).toBe(0);
  });

  it('drop: disconnects without the will and stays away until cleared', async () => {
    const cluster = await h.startCluster({ heartbeatIntervalS: 10 });
    const gone = clientDisconnected(h, 'hd-01');
    await cluster.injectFault({ kind: 'drop' });
    await gone;
    await h.observer.barrier();
    expect(h.observer.all(is('hd-01', 'state', { online: false }))).toHaveLength(0);

    // The retained state still says online: only the closed connection or missing heartbeats tell.
    const late = await h.connectClient('late-observer');
    const retained = new Promise<Buffer>((resolve) =>
      late.once('message', (_topic, payload) => resolve(payload)),
    );
    await late.subscribeAsync('sc/v1/hd-01/state', { qos: 1 });
    expect(JSON.parse((await retained).toString())).toMatchObject({ online: true });

    h.clock.advance(60_000);
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-01', 'heartbeat'))).toHaveLength(1);
    expect(cluster.status().connected).toBe(false);

    await cluster.clearFault('drop');
    await h.observer.waitForCount(is('hd-01', 'state', { online: true }), 2, 'online again');
    // Back on the network, not rebooted: no new boot event, and seq goes on.
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'heartbeat on reconnect');
    expect(h.observer.all(is('hd-01', 'event', { type: 'boot' }))).toHaveLength(1);
  });

  it('reconnects with backoff on its clock after the broker closes its connection', async () => {
    const cluster = await h.startCluster({ heartbeatIntervalS: 10, reconnectInitialMs: 1_000 });
    // A second CONNECT with the same client id makes the broker close the first [MQTT-3.1.4-2].
    const intruder = await h.connectClient('hd-01');
    await h.observer.waitFor(is('hd-01', 'state', { online: false }), 'the will');
    await vi.waitFor(() => expect(cluster.status().connected).toBe(false));
    await intruder.endAsync();

    h.clock.advance(799);
    await h.observer.barrier();
    expect(h.observer.all(is('hd-01', 'state', { online: true }))).toHaveLength(1);

    h.clock.advance(401);
    await h.observer.waitForCount(is('hd-01', 'state', { online: true }), 2, 'online after reconnecting');
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'heartbeat after reconnecting');
    expect(h.observer.all(is('hd-01', 'event', { type: 'boot' }))).toHaveLength(1);
  });

  it('speaker-fault: sends a fault event, reports the speaker in heartbeats, and fault-cleared on clear', async () => {
    const cluster = await h.startCluster({ heartbeatIntervalS: 10, speakers: 2 });
    await cluster.injectFault({ kind: 'speaker-fault', speaker: 2 });
    const fault = await h.observer.waitFor(is('hd-01', 'event', { type: 'fault' }), 'fault event');
    expect(DeviceEventSchema.parse(fault.json)).toMatchObject({ speaker: 2, code: 'open-circuit' });

    h.clock.advance(10_000);
    const beat = await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'heartbeat');
    expect(HeartbeatSchema.parse(beat.json).speakers).toEqual([
      { idx: 1, ok: true },
      { idx: 2, ok: false, fault: 'open-circuit' },
    ]);

    await cluster.clearFault('speaker-fault');
    const cleared = await h.observer.waitFor(
      is('hd-01', 'event', { type: 'fault-cleared' }),
      'fault-cleared',
    );
    expect(cleared.json).toMatchObject({ speaker: 2 });
    await expect(cluster.injectFault({ kind: 'speaker-fault', speaker: 3 })).rejects.toThrow(/speakers 1..2/);
  });

  it('slow-acks: no ack until the clock has advanced by the delay', async () => {
    const cluster = await h.startCluster();
    await cluster.injectFault({ kind: 'slow-acks', delayMs: 3_000 });
    const receivedAt = h.clock.now();
    const volume = buildCommand('volume', { level: 40 }, h.clock.now());
    await h.observer.sendCommand('hd-01', volume);
    await vi.waitFor(() => expect(cluster.status().volume).toBe(40));

    h.clock.advance(2_999);
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-01', 'ack'))).toHaveLength(0);

    h.clock.advance(1);
    const acks = await h.observer.waitForCount(is('hd-01', 'ack', { cmdId: volume.id }), 2, 'acks');
    // `ts` says when the status was reached, not when the late ack left.
    expect(acks.map((m) => AckSchema.parse(m.json))).toEqual([
      expect.objectContaining({ status: 'accepted', ts: receivedAt }),
      expect.objectContaining({ status: 'done', ts: receivedAt }),
    ]);
  });

  it('no-acks: executes commands silently; a resend after clearing gets the remembered ack', async () => {
    const cluster = await h.startCluster();
    await cluster.injectFault({ kind: 'no-acks' });
    const volume = buildCommand('volume', { level: 40 }, h.clock.now());
    await h.observer.sendCommand('hd-01', volume);
    await vi.waitFor(() => expect(cluster.status().volume).toBe(40));
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-01', 'ack'))).toHaveLength(0);

    await cluster.clearFault('no-acks');
    await h.observer.sendCommand('hd-01', volume);
    const ack = await h.observer.waitFor(is('hd-01', 'ack', { cmdId: volume.id }), 'ack for the resend');
    expect(AckSchema.parse(ack.json).status).toBe('done');
    expect(cluster.status()).toMatchObject({ commandsExecuted: 1, duplicateCommands: 1 });
  });

  it('malformed: heartbeats are replaced by payloads that fail the schema, in rotation', async () => {
    const cluster = await h.startCluster({ heartbeatIntervalS: 10, oversizeBytes: 4_096 });
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 0 }), 'valid heartbeat at connect');
    await cluster.injectFault({ kind: 'malformed' });
    for (let i = 2; i <= 5; i++) {
      h.clock.advance(10_000);
      await h.observer.waitForCount(onTopic('hd-01', 'heartbeat'), i, 'heartbeat payloads');
    }
    const [, notJson, wrongTypes, missing, oversized] = h.observer.all(onTopic('hd-01', 'heartbeat'));
    expect(notJson?.json).toBeUndefined();
    expect(HeartbeatSchema.safeParse(wrongTypes?.json).success).toBe(false);
    expect(wrongTypes?.json).toMatchObject({ volume: 'loud' });
    expect(HeartbeatSchema.safeParse(missing?.json).success).toBe(false);
    expect(oversized?.payload.length).toBeGreaterThan(4_096);

    await cluster.clearFault('malformed');
    h.clock.advance(10_000);
    const valid = await h.observer.waitForCount(onTopic('hd-01', 'heartbeat'), 6, 'a valid heartbeat');
    expect(HeartbeatSchema.parse(valid[5]?.json).seq).toBe(5);
  });

  it('starts with a fault injected before start()', async () => {
    const cluster = h.cluster({ heartbeatIntervalS: 10 });
    await cluster.injectFault({ kind: 'power-cut' });
    await cluster.injectFault({ kind: 'speaker-fault', speaker: 1 });
    await cluster.start();
    expect(cluster.status()).toMatchObject({ started: true, powered: false, connected: false });
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-01', 'state'))).toHaveLength(0);

    await cluster.clearFault('power-cut');
    await h.observer.waitFor(is('hd-01', 'event', { type: 'boot' }), 'boot');
    // A fault present at boot is reported right after the boot event.
    const fault = await h.observer.waitFor(is('hd-01', 'event', { type: 'fault' }), 'fault at boot');
    expect(fault.json).toMatchObject({ speaker: 1, code: 'open-circuit' });
  });
});
