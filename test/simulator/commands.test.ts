import { describe, expect, it, vi } from 'vitest';
import { AckSchema, buildCommand, HeartbeatSchema } from '../../devices/index.js';
import { MediaFetchError } from '../../simulators/speaker-cluster/media-fetcher.js';
import { harnessWithMediaEachTest } from '../support/simulator-fixtures.js';
import { buildWav, captureLogs } from './media-server.js';
import { mp3Tone } from './mp3-tones.js';
import type { Harness, Received } from './mqtt-harness.js';
import { is, onTopic } from './mqtt-harness.js';

const acksFor = (h: Harness, cmdId: string) =>
  h.observer.all(is('hd-01', 'ack', { cmdId })).map((m: Received) => AckSchema.parse(m.json).status);

describe('simulated cluster: commands', () => {
  const fixture = harnessWithMediaEachTest();

  it('sets the volume, acks accepted then done, and reports it in the next heartbeat', async () => {
    const { h } = fixture;
    await h.startCluster({ heartbeatIntervalS: 30, volume: 70 });
    const volume = buildCommand('volume', { level: 40 }, h.clock.now());
    await h.observer.sendCommand('hd-01', volume);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: volume.id, status: 'done' }), 'done ack');
    expect(acksFor(h, volume.id)).toEqual(['accepted', 'done']);
    h.clock.advance(30_000);
    const beat = await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'heartbeat');
    expect(HeartbeatSchema.parse(beat.json).volume).toBe(40);
  });

  it('executes a resent command once and re-sends its last ack', async () => {
    const { h } = fixture;
    const cluster = await h.startCluster();
    const first = buildCommand('volume', { level: 40 }, h.clock.now());
    const second = buildCommand('volume', { level: 60 }, h.clock.now());
    await h.observer.sendCommand('hd-01', first);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: first.id, status: 'done' }), 'first done');
    await h.observer.sendCommand('hd-01', second);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: second.id, status: 'done' }), 'second done');

    await h.observer.sendCommand('hd-01', first);
    await h.observer.waitForCount(is('hd-01', 'ack', { cmdId: first.id }), 3, 'acks for the resent command');
    expect(acksFor(h, first.id)).toEqual(['accepted', 'done', 'done']);
    // Re-executing the first command would have put the volume back to 40.
    expect(cluster.status()).toMatchObject({ volume: 60, commandsExecuted: 2, duplicateCommands: 1 });
  });

  it('rejects an expired command without executing it', async () => {
    const { h } = fixture;
    const cluster = await h.startCluster({ volume: 70 });
    const stale = buildCommand('volume', { level: 10 }, h.clock.now() - 60_000, 30_000);
    await h.observer.sendCommand('hd-01', stale);
    const ack = await h.observer.waitFor(is('hd-01', 'ack', { cmdId: stale.id }), 'expired ack');
    expect(AckSchema.parse(ack.json)).toMatchObject({ status: 'rejected', error: 'expired' });
    expect(cluster.status().volume).toBe(70);
  });

  it('rejects invalid and unsupported commands that have an id, and drops those that have none', async () => {
    const { h } = fixture;
    const cluster = await h.startCluster();
    const now = h.clock.now();
    await h.observer.sendCommand('hd-01', {
      id: 'bad-volume-1',
      type: 'volume',
      level: 300,
      issuedAt: now,
      expiresAt: now,
    });
    await h.observer.sendCommand('hd-01', {
      id: 'new-type-01',
      type: 'dance',
      issuedAt: now,
      expiresAt: now,
    });
    await h.observer.sendCommand('hd-01', 'not json at all');
    await h.observer.sendCommand('hd-01', { type: 'ping' });
    const ping = buildCommand('ping', {}, now);
    await h.observer.sendCommand('hd-01', ping);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: ping.id }), 'ping ack');

    const acks = h.observer.all(onTopic('hd-01', 'ack')).map((m) => AckSchema.parse(m.json));
    expect(acks).toEqual([
      expect.objectContaining({ cmdId: 'bad-volume-1', status: 'rejected', error: 'invalid-command' }),
      expect.objectContaining({ cmdId: 'new-type-01', status: 'rejected', error: 'unsupported' }),
      expect.objectContaining({ cmdId: ping.id, status: 'done' }),
    ]);
    expect(cluster.status().invalidCommands).toBe(4);
  });

  it('switches the amplifier off and reports it', async () => {
    const { h } = fixture;
    const cluster = await h.startCluster({ heartbeatIntervalS: 10 });
    const power = buildCommand('power', { on: false }, h.clock.now());
    await h.observer.sendCommand('hd-01', power);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: power.id, status: 'done' }), 'power ack');
    expect(cluster.status().power).toBe(false);
    h.clock.advance(10_000);
    const beat = await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'heartbeat');
    expect(HeartbeatSchema.parse(beat.json).power).toBe(false);
  });

  it('plays media at its start time for duration × repeat, then acks done', async () => {
    const { h, media } = fixture;
    const logs = captureLogs();
    const cluster = await h.startCluster({ volume: 70, logger: logs.logger });
    media.serve('/a.wav', buildWav(1));
    const play = buildCommand(
      'play',
      {
        broadcastId: 'bc-1',
        level: 'normal',
        // The command's durationS wins over the file's own length.
        source: { kind: 'media', url: media.url('/a.wav'), durationS: 5 },
        startAt: h.clock.now() + 1_000,
        repeat: 2,
        volume: 90,
      },
      h.clock.now(),
    );
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'accepted' }), 'accepted');
    await vi.waitFor(() => expect(logs.find(/^media downloaded/)).toBeDefined());

    h.clock.advance(1_000);
    const started = await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'start');
    expect(started.json).toMatchObject({ cmdId: play.id, broadcastId: 'bc-1', ts: h.clock.now() });
    // The item's own volume leaves the master volume alone.
    expect(cluster.status()).toMatchObject({ playing: true, broadcastId: 'bc-1', volume: 70 });

    h.clock.advance(9_999);
    await h.observer.barrier();
    expect(h.observer.all(is('hd-01', 'event', { type: 'playback-finished' }))).toHaveLength(0);

    h.clock.advance(1);
    const finished = await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-finished' }), 'finish');
    expect(finished.json).toMatchObject({ cmdId: play.id, broadcastId: 'bc-1', code: 'completed' });
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(cluster.status()).toMatchObject({ playing: false, volume: 70 });
  });

  it('plays a stream until a stop command', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    media.stream('/live', await mp3Tone(440, 1));
    const play = buildCommand(
      'play',
      {
        broadcastId: 'live-1',
        level: 'emergency',
        source: { kind: 'stream', url: media.url('/live') },
        startAt: h.clock.now(),
        repeat: 1,
      },
      h.clock.now(),
    );
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'start');
    h.clock.advance(3_600_000);
    expect(cluster.status().playing).toBe(true);

    const stop = buildCommand('stop', { broadcastId: 'live-1' }, h.clock.now());
    await h.observer.sendCommand('hd-01', stop);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: stop.id, status: 'done' }), 'stop ack');
    const finished = await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-finished' }), 'finish');
    expect(finished.json).toMatchObject({ cmdId: play.id, broadcastId: 'live-1', code: 'stopped' });
    expect(acksFor(h, play.id)).toEqual(['accepted', 'done']);
    expect(cluster.status().playing).toBe(false);
  });

  it('reboots: acks done, goes offline, comes back after the reboot time with seq 0 and a boot event', async () => {
    const { h } = fixture;
    const cluster = await h.startCluster({ heartbeatIntervalS: 10, rebootMs: 5_000 });
    h.clock.advance(10_000);
    await h.observer.waitFor(is('hd-01', 'heartbeat', { seq: 1 }), 'heartbeat 1');

    const reboot = buildCommand('reboot', {}, h.clock.now());
    await h.observer.sendCommand('hd-01', reboot);
    await h.observer.waitFor(is('hd-01', 'state', { online: false }), 'offline state');
    expect(acksFor(h, reboot.id)).toEqual(['done']);
    await vi.waitFor(() => expect(cluster.status()).toMatchObject({ powered: false, connected: false }));

    h.clock.advance(4_999);
    await h.observer.barrier();
    expect(h.observer.all(is('hd-01', 'state', { online: true }))).toHaveLength(1);

    h.clock.advance(1);
    await h.observer.waitForCount(is('hd-01', 'state', { online: true }), 2, 'online states');
    const boots = await h.observer.waitForCount(is('hd-01', 'event', { type: 'boot' }), 2, 'boot events');
    expect(boots[1]?.json).toMatchObject({ code: 'reboot-command' });
    const beats = await h.observer.waitForCount(
      is('hd-01', 'heartbeat', { seq: 0 }),
      2,
      'heartbeat seq 0 again',
    );
    expect(HeartbeatSchema.parse(beats[1]?.json).uptimeS).toBe(0);

    // A resent reboot is answered from memory, not executed again.
    await h.observer.sendCommand('hd-01', reboot);
    await h.observer.waitForCount(is('hd-01', 'ack', { cmdId: reboot.id }), 2, 'acks for the resent reboot');
    expect(cluster.status()).toMatchObject({ connected: true, duplicateCommands: 1 });
  });

  it('pre-empts a normal item with a priority one, and refuses a normal one while that plays', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    media.serve('/a.wav', buildWav(1));
    const source = { kind: 'media', url: media.url('/a.wav'), durationS: 60 } as const;
    const now = h.clock.now();
    const normal = buildCommand(
      'play',
      { broadcastId: 'n-1', level: 'normal', source, startAt: now, repeat: 1 },
      now,
    );
    const priority = buildCommand(
      'play',
      { broadcastId: 'p-1', level: 'priority', source, startAt: now, repeat: 1 },
      now,
    );
    const another = buildCommand(
      'play',
      { broadcastId: 'n-2', level: 'normal', source, startAt: now, repeat: 1 },
      now,
    );

    await h.observer.sendCommand('hd-01', normal);
    await h.observer.waitFor(
      is('hd-01', 'event', { type: 'playback-started', cmdId: normal.id }),
      'normal starts',
    );
    await h.observer.sendCommand('hd-01', priority);
    const failed = await h.observer.waitFor(
      is('hd-01', 'event', { type: 'playback-failed' }),
      'normal pre-empted',
    );
    expect(failed.json).toMatchObject({ cmdId: normal.id, broadcastId: 'n-1', code: 'busy' });
    await h.observer.waitFor(
      is('hd-01', 'ack', { cmdId: normal.id, status: 'failed', error: 'busy' }),
      'failed ack',
    );
    await h.observer.waitFor(
      is('hd-01', 'event', { type: 'playback-started', cmdId: priority.id }),
      'priority',
    );

    await h.observer.sendCommand('hd-01', another);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: another.id }), 'ack for the refused item');
    expect(acksFor(h, another.id)).toEqual(['rejected']);
    expect(cluster.status().broadcastId).toBe('p-1');
  });

  it('cancels a scheduled item on stop with ack done and no playback events', async () => {
    const { h, media } = fixture;
    await h.startCluster();
    media.serve('/x.wav', buildWav(1));
    const now = h.clock.now();
    const later = buildCommand(
      'play',
      {
        broadcastId: 'sch-1',
        level: 'normal',
        source: { kind: 'media', url: media.url('/x.wav') },
        startAt: now + 60_000,
        repeat: 1,
      },
      now,
    );
    await h.observer.sendCommand('hd-01', later);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: later.id, status: 'accepted' }), 'accepted');
    const stop = buildCommand('stop', {}, now);
    await h.observer.sendCommand('hd-01', stop);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: stop.id, status: 'done' }), 'stop done');
    expect(acksFor(h, later.id)).toEqual(['accepted', 'done']);

    h.clock.advance(60_000);
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-01', 'event')).map((m) => (m.json as { type: string }).type)).toEqual([
      'boot',
    ]);
  });

  it("fails an item whose media step fails, with the step's error code", async () => {
    const { h } = fixture;
    await h.startCluster({
      fetchMedia: () => Promise.reject(new MediaFetchError('checksum-mismatch', 'sha256 differs')),
    });
    const now = h.clock.now();
    const play = buildCommand(
      'play',
      {
        broadcastId: 'bc-9',
        level: 'normal',
        source: { kind: 'media', url: 'http://m.local/x.mp3' },
        startAt: now,
        repeat: 1,
      },
      now,
    );
    await h.observer.sendCommand('hd-01', play);
    const failed = await h.observer.waitFor(
      is('hd-01', 'event', { type: 'playback-failed' }),
      'playback-failed',
    );
    expect(failed.json).toMatchObject({
      cmdId: play.id,
      code: 'checksum-mismatch',
      message: 'sha256 differs',
    });
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
    expect(acksFor(h, play.id)).toEqual(['accepted', 'failed']);
  });
});
