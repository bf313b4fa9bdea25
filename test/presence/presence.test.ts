import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PresenceChange } from '../../services/event-bus.js';
import { ManualClock } from '../support/manual-clock.js';
import { heartbeat, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const willOptions = (id: string, ts: number) => ({
  will: {
    topic: `sc/v1/${id}/state`,
    payload: Buffer.from(JSON.stringify({ online: false, ts })),
    qos: 1 as const,
    retain: true,
  },
});

describe('presence', () => {
  let clock: ManualClock;
  let t: TestPlatform;
  let secret: string;
  let changes: PresenceChange[];

  beforeEach(async () => {
    clock = new ManualClock();
    t = await startTestPlatform({ clock, config: { HEARTBEAT_INTERVAL_S: 30 } });
    secret = await t.addDevice('hd-c01');
    changes = [];
    t.platform.events.on('device.presence', (change) => changes.push(change));
  });
  afterEach(() => t.close());

  const periods = async () => {
    const { body } = await t.api('/api/v1/devices/hd-c01/presence');
    return body.items.map((p: { online: boolean; startReason: string; endReason: string | null }) => [
      p.online,
      p.startReason,
      p.endReason,
    ]);
  };

  it('goes offline when the last will arrives (power cut), and online again on reconnect', async () => {
    const device = await t.connectDevice('hd-c01', secret, willOptions('hd-c01', clock.now()));
    await vi.waitFor(() => expect(changes).toHaveLength(1));
    expect(changes[0]).toMatchObject({ deviceId: 'hd-c01', online: true, reason: 'connect' });

    clock.advance(60_000);
    device.stream.destroy(); // no DISCONNECT: the broker must publish the will [MQTT-3.1.2-8]
    await vi.waitFor(() => expect(changes).toHaveLength(2));
    expect(changes[1]).toMatchObject({ online: false, reason: 'will', at: clock.now() });

    await t.connectDevice('hd-c01', secret);
    await vi.waitFor(() => expect(changes).toHaveLength(3));
    expect(changes[2]).toMatchObject({ online: true, reason: 'connect' });
    expect(await periods()).toEqual([
      [true, 'connect', null],
      [false, 'will', 'connect'],
      [true, 'connect', 'will'],
    ]);
  });

  it('goes offline with reason "shutdown" when a device announces it is going offline, keeping its firmware version', async () => {
    const device = await t.connectDevice('hd-c01', secret);
    await device.publishAsync(
      'sc/v1/hd-c01/state',
      JSON.stringify({ online: true, ts: clock.now(), fw: '3.1.0' }),
      {
        qos: 1,
      },
    );
    await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').fw).toBe('3.1.0'));
    await device.publishAsync('sc/v1/hd-c01/state', JSON.stringify({ online: false, ts: clock.now() }), {
      qos: 1,
      retain: true,
    });
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(false));
    expect(t.platform.presence.status('hd-c01')).toMatchObject({ reason: 'shutdown', fw: '3.1.0' });
  });

  it('goes offline with reason "connection-lost" when the connection drops without a will', async () => {
    const device = await t.connectDevice('hd-c01', secret);
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(true));
    device.stream.destroy();
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(false));
    expect(changes.at(-1)).toMatchObject({ online: false, reason: 'connection-lost' });
  });

  it('goes offline on a clean disconnect', async () => {
    const device = await t.connectDevice('hd-c01', secret);
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(true));
    await device.endAsync(); // clean DISCONNECT: no will, but the session is gone
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(false));
    expect(changes.at(-1)).toMatchObject({ online: false, reason: 'disconnect' });
  });

  it('goes offline after three missed heartbeat intervals while still connected, and back on the next heartbeat', async () => {
    const device = await t.connectDevice('hd-c01', secret);
    for (let seq = 1; seq <= 3; seq++) {
      await device.publishAsync('sc/v1/hd-c01/heartbeat', heartbeat(seq, {}, clock.now()), { qos: 1 });
      await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').uptimeS).toBe(seq * 30));
      clock.advance(30_000);
    }
    expect(t.platform.presence.isOnline('hd-c01')).toBe(true);
    // The last heartbeat was 30 s ago; the deadline is 90 s after it.
    clock.advance(59_999);
    expect(t.platform.presence.isOnline('hd-c01')).toBe(true);
    clock.advance(1);
    expect(t.platform.presence.isOnline('hd-c01')).toBe(false);
    expect(changes.at(-1)).toMatchObject({ online: false, reason: 'heartbeat-timeout' });
    expect(device.connected).toBe(true);

    await device.publishAsync('sc/v1/hd-c01/heartbeat', heartbeat(4, {}, clock.now()), { qos: 1 });
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(true));
    expect(changes.at(-1)).toMatchObject({ online: true, reason: 'heartbeat' });
  });

  it('times a device out by the interval it was configured to heartbeat at: no false offline at 100 s, no 90 s wait at 10 s', async () => {
    const device = await t.connectDevice('hd-c01', secret);
    const configure = async (heartbeatIntervalS: number) => {
      const sent = t.api('/api/v1/devices/hd-c01/commands?waitMs=5000', {
        method: 'POST',
        as: 'technician',
        body: { type: 'config', heartbeatIntervalS },
      });
      const [, payload] = await new Promise<[string, Buffer]>((resolve) =>
        device.once('message', (topic, message) => resolve([topic, message])),
      );
      const { id } = JSON.parse(payload.toString()) as { id: string };
      await device.publishAsync(
        'sc/v1/hd-c01/ack',
        JSON.stringify({ cmdId: id, status: 'done', ts: clock.now() }),
        {
          qos: 1,
        },
      );
      expect((await sent).body.status).toBe('done');
    };
    await device.subscribeAsync('sc/v1/hd-c01/cmd', { qos: 1 });

    // Slower: 100 s between heartbeats stays online (the platform's 30 s would flap every 90 s).
    await configure(100);
    for (let seq = 1; seq <= 3; seq++) {
      await device.publishAsync('sc/v1/hd-c01/heartbeat', heartbeat(seq, {}, clock.now()), { qos: 1 });
      await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').uptimeS).toBe(seq * 30));
      clock.advance(100_000);
      expect(t.platform.presence.isOnline('hd-c01')).toBe(true);
    }
    expect(changes.filter((c) => !c.online)).toEqual([]);

    // Faster: 10 s, and a device gone silent is offline after 30 s, not 90 s.
    await configure(10);
    await device.publishAsync('sc/v1/hd-c01/heartbeat', heartbeat(4, {}, clock.now()), { qos: 1 });
    await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').uptimeS).toBe(120));
    clock.advance(29_999);
    expect(t.platform.presence.isOnline('hd-c01')).toBe(true);
    clock.advance(1);
    expect(t.platform.presence.isOnline('hd-c01')).toBe(false);
    expect(changes.at(-1)).toMatchObject({ online: false, reason: 'heartbeat-timeout' });
  });

  it('times out a device by the interval its heartbeats report', async () => {
    const device = await t.connectDevice('hd-c01', secret);
    await device.publishAsync(
      'sc/v1/hd-c01/heartbeat',
      heartbeat(1, { heartbeatIntervalS: 200 }, clock.now()),
      {
        qos: 1,
      },
    );
    await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').uptimeS).toBe(30));
    clock.advance(599_999);
    expect(t.platform.presence.isOnline('hd-c01')).toBe(true);
    clock.advance(1);
    expect(t.platform.presence.isOnline('hd-c01')).toBe(false);
  });

  it('honours a per-device heartbeat timeout', async () => {
    const fast = await t.addDevice('hd-c02', { heartbeatTimeoutS: 20 });
    await t.connectDevice('hd-c02', fast);
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c02')).toBe(true));
    clock.advance(20_000);
    expect(t.platform.presence.isOnline('hd-c02')).toBe(false);
  });

  it('shows online state, last seen, signal, volume and speaker health in GET /api/v1/clusters', async () => {
    const device = await t.connectDevice('hd-c01', secret);
    await device.publishAsync(
      'sc/v1/hd-c01/state',
      JSON.stringify({ online: true, ts: clock.now(), fw: '2.4.1' }),
      { qos: 1, retain: true },
    );
    await device.publishAsync(
      'sc/v1/hd-c01/heartbeat',
      heartbeat(
        9,
        {
          rssiDbm: -88,
          volume: 55,
          speakers: [
            { idx: 1, ok: true },
            { idx: 2, ok: false, fault: 'open-circuit' },
          ],
        },
        clock.now(),
      ),
      { qos: 1 },
    );
    await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').volume).toBe(55));
    const { body } = await t.api('/api/v1/clusters');
    expect(body.total).toBe(1);
    expect(body.items[0]).toMatchObject({
      id: 'hd-c01',
      status: {
        online: true,
        lastSeen: new Date(clock.now()).toISOString(),
        signalDbm: -88,
        volume: 55,
        fw: '2.4.1',
        speakersOk: 1,
        speakersFaulty: 1,
      },
      speakers: [
        { idx: 1, label: 'Loa 1', ok: true, fault: null },
        { idx: 2, label: 'Loa 2', ok: false, fault: 'open-circuit' },
      ],
    });
    const { body: offline } = await t.api('/api/v1/clusters?online=false');
    expect(offline.total).toBe(0);
  });
});

describe('presence across a restart', () => {
  it('closes open online periods when the platform stops and resumes on reconnect', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sc-restart-'));
    try {
      const clock = new ManualClock();
      const first = await startTestPlatform({ clock, dataDir });
      const secret = await first.addDevice('hd-c01');
      await first.connectDevice('hd-c01', secret);
      await vi.waitFor(() => expect(first.platform.presence.isOnline('hd-c01')).toBe(true));
      clock.advance(10_000);
      await first.platform.stop(); // the platform goes down while the device is still connected
      await first.close();

      clock.advance(60_000);
      const second = await startTestPlatform({ clock, dataDir });
      try {
        expect(second.platform.presence.status('hd-c01')).toMatchObject({
          online: false,
          reason: 'platform-stopped',
        });
        await second.connectDevice('hd-c01', secret);
        await vi.waitFor(() => expect(second.platform.presence.isOnline('hd-c01')).toBe(true));
        const { body: history } = await second.api('/api/v1/devices/hd-c01/presence');
        expect(
          history.items.map((p: { online: boolean; durationS: number }) => [p.online, p.durationS]),
        ).toEqual([
          [true, 0],
          [false, 60],
          [true, 10],
        ]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
