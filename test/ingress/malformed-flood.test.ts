import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { heartbeat, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

describe('malformed and oversized payloads', () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await startTestPlatform({ config: { MQTT_MAX_PACKET_BYTES: 4_096 } });
  });
  afterEach(() => t.close());

  it('rejects and counts 1,000 bad messages by reason while good heartbeats keep flowing', async () => {
    const badSecret = await t.addDevice('hd-bad');
    const goodSecret = await t.addDevice('hd-good');
    const good = await t.connectDevice('hd-good', goodSecret);
    const goodSeqs: number[] = [];
    t.platform.events.on('device.heartbeat', ({ deviceId, heartbeat: hb }) => {
      if (deviceId === 'hd-good') goodSeqs.push(hb.seq);
    });

    const bad = await t.connectDevice('hd-bad', badSecret);
    const malformed = [
      () => Buffer.from([0xff, 0xfe, 0x00, 0x7b]), // not JSON
      () => Buffer.from('{"ts": 1795000000000, "seq": '), // truncated JSON
      () => heartbeat(1, { volume: 'loud' }), // wrong type
      () => heartbeat(1, { speakers: [] }), // empty speakers
      () => JSON.stringify({ ts: 1795000000000 }), // missing fields
      () => heartbeat(1, { ts: 1795000000 }), // seconds, not milliseconds
    ];
    let goodSeq = 0;
    for (let i = 0; i < 900; i++) {
      bad.publish('sc/v1/hd-bad/heartbeat', (malformed[i % malformed.length] as () => Buffer | string)());
      if (i % 20 === 0) good.publish('sc/v1/hd-good/heartbeat', heartbeat(++goodSeq));
    }
    await vi.waitFor(() =>
      expect(t.platform.ingress.rejections('hd-bad')).toEqual({
        'invalid-json': 300,
        'invalid-payload': 600,
      }),
    );
    expect(bad.connected).toBe(true); // malformed payloads are dropped, not punished with a disconnect
    await bad.endAsync();

    // Oversized packets close their connection at the transport, so each comes on a new one.
    for (let i = 0; i < 100; i++) {
      const client = await t.connectDevice('hd-bad', badSecret);
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.publish('sc/v1/hd-bad/heartbeat', Buffer.alloc(10_000, 0x20));
      await closed;
      if (i % 10 === 0) good.publish('sc/v1/hd-good/heartbeat', heartbeat(++goodSeq));
    }

    await vi.waitFor(() => {
      const counts = t.platform.ingress.rejections('hd-bad');
      expect(counts).toEqual({ 'invalid-json': 300, 'invalid-payload': 600, oversized: 100 });
    });
    await vi.waitFor(() => expect(goodSeqs).toHaveLength(goodSeq));
    expect(goodSeqs).toEqual(Array.from({ length: goodSeq }, (_, i) => i + 1));
    expect(t.platform.ingress.rejections('hd-good')).toEqual({});

    // The rejections are visible to a technician on the cluster, and the broker still serves.
    const { body: cluster } = await t.api('/api/v1/clusters/hd-bad');
    expect(cluster.rejectedMessages).toEqual({ 'invalid-json': 300, 'invalid-payload': 600, oversized: 100 });
    const late = await t.connectDevice('hd-bad', badSecret);
    await late.publishAsync('sc/v1/hd-bad/heartbeat', heartbeat(1), { qos: 1 });
    await vi.waitFor(() => expect(t.platform.presence.status('hd-bad').volume).toBe(70));
    const metrics = (await t.api('/metrics', { as: 'technician' })).body;
    expect(metrics).toMatch(/sc_device_messages_rejected_total\{reason="oversized"\} 100/);
  });
});
