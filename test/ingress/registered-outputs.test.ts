import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { heartbeat, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

describe('a heartbeat naming a speaker output the cluster is not registered with', () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await startTestPlatform();
  });
  afterEach(() => t.close());

  const fourOutputs = (seq: number) =>
    heartbeat(seq, {
      speakers: [
        { idx: 1, ok: true },
        { idx: 2, ok: true },
        { idx: 3, ok: false, fault: 'open-circuit' },
        { idx: 4, ok: true },
      ],
    });

  it('is refused and counted, says why on the cluster, and is taken once the technician registers the outputs', async () => {
    // Registered with the default two outputs; the firmware reports four.
    const secret = await t.addDevice('hd-4loa');
    const device = await t.connectDevice('hd-4loa', secret);
    const accepted: number[] = [];
    t.platform.events.on('device.heartbeat', ({ deviceId, heartbeat: hb }) => {
      if (deviceId === 'hd-4loa') accepted.push(hb.seq);
    });

    device.publish('sc/v1/hd-4loa/heartbeat', fourOutputs(1));
    device.publish('sc/v1/hd-4loa/heartbeat', heartbeat(2));
    await vi.waitFor(() => expect(accepted).toEqual([2]));
    expect(t.platform.ingress.rejections('hd-4loa')).toEqual({ 'invalid-payload': 1 });

    const cluster = await t.api('/api/v1/clusters/hd-4loa', { as: 'technician' });
    expect(cluster.status).toBe(200);
    expect(cluster.body.rejectedMessages).toEqual({ 'invalid-payload': 1 });
    expect(cluster.body.lastRejection).toMatchObject({
      reason: 'invalid-payload',
      detail: 'speakers: output 3, 4 is not registered for this cluster (registered: 1, 2)',
    });
    // Its speakers show the last heartbeat that was taken, not the refused one's fault.
    expect(cluster.body.speakers.map((s: { idx: number; ok: boolean | null }) => [s.idx, s.ok])).toEqual([
      [1, true],
      [2, true],
    ]);

    const patched = await t.api('/api/v1/clusters/hd-4loa', {
      method: 'PATCH',
      as: 'technician',
      body: { speakers: 4 },
    });
    expect(patched.status).toBe(200);
    device.publish('sc/v1/hd-4loa/heartbeat', fourOutputs(3));
    await vi.waitFor(() => expect(accepted).toEqual([2, 3]));
    const after = await t.api('/api/v1/clusters/hd-4loa', { as: 'technician' });
    expect(after.body.speakers.map((s: { idx: number; ok: boolean | null }) => [s.idx, s.ok])).toEqual([
      [1, true],
      [2, true],
      [3, false],
      [4, true],
    ]);
    expect(after.body.rejectedMessages).toEqual({ 'invalid-payload': 1 });
    await device.endAsync();
  });
});
