import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { Command, CommandOf } from '../../devices/index.js';
import { AckSchema, buildCommand, DeviceEventSchema } from '../../devices/index.js';
import { parseFault } from '../../simulators/speaker-cluster/faults.js';
import { redactUrl, wavDurationS } from '../../simulators/speaker-cluster/media-fetcher.js';
import { harnessWithMediaEachTest } from '../support/simulator-fixtures.js';
import { buildWav, captureLogs, sha256 } from './media-server.js';
import { mp3Tone } from './mp3-tones.js';
import { is, onTopic } from './mqtt-harness.js';

/** A loopback port that was free a moment ago: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

type PlayParams = Omit<CommandOf<'play'>, 'id' | 'type' | 'issuedAt' | 'expiresAt' | 'repeat'> & {
  repeat?: number;
};

describe('WAV header reading', () => {
  it('gives the playing time from the byte rate and the data chunk', () => {
    expect(wavDurationS(buildWav(3))).toBe(3);
    expect(wavDurationS(buildWav(2.5, { sampleRate: 16_000, channels: 2, bitsPerSample: 16 }))).toBe(2.5);
    // Only the head of a long file is kept; the data size comes from the header.
    expect(wavDurationS(buildWav(120).subarray(0, 1024), 44 + 960_000)).toBe(120);
  });

  it('reads a data size of 0 (streaming encoders) as "to the end", and skips other chunks', () => {
    const wav = buildWav(2);
    wav.writeUInt32LE(0, 40);
    expect(wavDurationS(wav)).toBe(2);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO')]);
    const withList = Buffer.concat([wav.subarray(0, 36), list, buildWav(2).subarray(36)]);
    expect(wavDurationS(withList)).toBe(2);
  });

  it('knows nothing about other files', () => {
    expect(wavDurationS(Buffer.from('ID3\u0004 an mp3'))).toBeUndefined();
    expect(wavDurationS(Buffer.alloc(0))).toBeUndefined();
  });

  it('keeps the signature of a signed URL out of messages', () => {
    expect(redactUrl('http://10.0.0.1:3000/api/v1/media/m-1/content?exp=1&sig=s3cr3t')).toBe(
      'http://10.0.0.1:3000/api/v1/media/m-1/content?…',
    );
  });
});

describe('simulated cluster: media, playback and its faults', () => {
  const fixture = harnessWithMediaEachTest();

  const playCommand = (params: PlayParams): Command =>
    buildCommand('play', { repeat: 1, ...params }, fixture.h.clock.now(), 3_600_000);

  const acksFor = (cmdId: string) =>
    fixture.h.observer
      .all(is('hd-01', 'ack', { cmdId }))
      .map((m) => AckSchema.parse(m.json))
      .map((ack) => (ack.error === undefined ? ack.status : `${ack.status}:${ack.error}`));

  const eventsFor = (cmdId: string) =>
    fixture.h.observer.all(is('hd-01', 'event', { cmdId })).map((m) => DeviceEventSchema.parse(m.json));

  it('downloads at receipt, plays at startAt for the WAV length, and never fetches twice for a resent id', async () => {
    const { h, media } = fixture;
    const logs = captureLogs();
    const cluster = await h.startCluster({ logger: logs.logger });
    const wav = buildWav(3);
    media.serve('/bulletin.wav', wav);
    const startAt = h.clock.now() + 10_000;
    // No durationS: the length comes from the downloaded WAV header.
    const play = playCommand({
      broadcastId: 'bc-1',
      level: 'normal',
      source: {
        kind: 'media',
        url: `${media.url('/bulletin.wav')}?exp=1&sig=abc`,
        sizeBytes: wav.length,
        sha256: sha256(wav),
      },
      startAt,
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'accepted' }), 'accepted');
    // Prefetch: the GET happens now, well ahead of startAt, without the clock moving.
    await vi.waitFor(() =>
      expect(logs.find(/^media downloaded/)).toMatchObject({ bytes: wav.length, durationS: 3 }),
    );
    expect(media.requestsFor('/bulletin.wav')).toEqual([
      expect.objectContaining({ method: 'GET', url: '/bulletin.wav?exp=1&sig=abc' }),
    ]);

    // A platform resend, and another after the cluster reconnects: acked again, never executed again.
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitForCount(is('hd-01', 'ack', { cmdId: play.id }), 2, 'acks after a resend');
    await cluster.injectFault({ kind: 'drop' });
    await cluster.clearFault('drop');
    await h.observer.waitForCount(is('hd-01', 'state', { online: true }), 2, 'online again');
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitForCount(is('hd-01', 'ack', { cmdId: play.id }), 3, 'acks after a reconnect');
    expect(acksFor(play.id)).toEqual(['accepted', 'accepted', 'accepted']);

    h.clock.advance(10_000);
    const started = await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');
    expect(started.json).toMatchObject({ cmdId: play.id, broadcastId: 'bc-1', ts: startAt });
    h.clock.advance(2_999);
    await h.observer.barrier();
    expect(h.observer.all(is('hd-01', 'event', { type: 'playback-finished' }))).toHaveLength(0);
    h.clock.advance(1);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(eventsFor(play.id)).toEqual([
      expect.objectContaining({ type: 'playback-started', broadcastId: 'bc-1' }),
      expect.objectContaining({ type: 'playback-finished', broadcastId: 'bc-1', code: 'completed' }),
    ]);

    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitForCount(is('hd-01', 'ack', { cmdId: play.id }), 5, 'ack of a resend after done');
    expect(acksFor(play.id).at(-1)).toBe('done');
    expect(media.requestsFor('/bulletin.wav')).toHaveLength(1);
    expect(cluster.status()).toMatchObject({ commandsExecuted: 1, duplicateCommands: 3, mediaFetches: 1 });
  });

  it.each([
    ['a size', (wav: Buffer) => ({ sizeBytes: wav.length + 1 }), /got 8044 bytes, sizeBytes is 8045/],
    ['a shorter size', (wav: Buffer) => ({ sizeBytes: wav.length - 1 }), /longer than sizeBytes 8043/],
    [
      'a SHA-256',
      (wav: Buffer) => ({ sha256: sha256(Buffer.concat([wav, wav])) }),
      /SHA-256 [0-9a-f]{64} differs/,
    ],
  ])('fails with checksum-mismatch when %s differs', async (_what, check, message) => {
    const { h, media } = fixture;
    await h.startCluster();
    const wav = buildWav(1);
    media.serve('/a.wav', wav);
    const play = playCommand({
      broadcastId: 'bc-2',
      level: 'normal',
      source: { kind: 'media', url: media.url('/a.wav'), ...check(wav) },
      startAt: h.clock.now() + 60_000,
    });
    await h.observer.sendCommand('hd-01', play);
    const failed = await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-failed' }), 'failed');
    expect(failed.json).toMatchObject({ cmdId: play.id, broadcastId: 'bc-2', code: 'checksum-mismatch' });
    expect(DeviceEventSchema.parse(failed.json).message).toMatch(message);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
    expect(acksFor(play.id)).toEqual(['accepted', 'failed:checksum-mismatch']);
  });

  it.each([401, 404])('fails with fetch-failed naming HTTP %i, without the URL signature', async (status) => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    media.status('/gone.wav', status);
    const play = playCommand({
      broadcastId: 'bc-3',
      level: 'priority',
      source: { kind: 'media', url: `${media.url('/gone.wav')}?exp=9&sig=t0p-s3cret` },
      startAt: h.clock.now(),
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
    expect(acksFor(play.id)).toEqual(['accepted', 'failed:fetch-failed']);
    const [failed] = eventsFor(play.id);
    expect(failed).toMatchObject({ type: 'playback-failed', code: 'fetch-failed' });
    expect(failed?.message).toContain(`HTTP ${status}`);
    expect(failed?.message).not.toContain('t0p-s3cret');
    expect(media.requestsFor('/gone.wav')).toHaveLength(1);
    expect(cluster.status()).toMatchObject({ mediaFetches: 1, mediaFailures: 1, playing: false });
  });

  it('fails with fetch-failed when the server cannot be reached', async () => {
    const { h } = fixture;
    await h.startCluster();
    const port = await closedPort();
    const play = playCommand({
      broadcastId: 'bc-4',
      level: 'normal',
      source: { kind: 'media', url: `http://127.0.0.1:${port}/a.wav` },
      startAt: h.clock.now(),
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
    expect(eventsFor(play.id)[0]).toMatchObject({
      code: 'fetch-failed',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('fails with fetch-failed when the download outlasts the media timeout on its clock', async () => {
    const { h, media } = fixture;
    await h.startCluster({ mediaTimeoutMs: 30_000 });
    media.silent('/slow.wav');
    const play = playCommand({
      broadcastId: 'bc-5',
      level: 'normal',
      source: { kind: 'media', url: media.url('/slow.wav') },
      startAt: h.clock.now() + 60_000,
    });
    await h.observer.sendCommand('hd-01', play);
    await vi.waitFor(() => expect(media.requestsFor('/slow.wav')).toHaveLength(1));
    h.clock.advance(29_999);
    await h.observer.barrier();
    expect(eventsFor(play.id)).toEqual([]);

    h.clock.advance(1);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
    expect(eventsFor(play.id)[0]).toMatchObject({
      type: 'playback-failed',
      code: 'fetch-failed',
      message: expect.stringMatching(/not complete within 30 s/),
    });
    // The request is abandoned, not left hanging.
    await media.requestsFor('/slow.wav')[0]?.closed;
  });

  it('starts late, when the download ends, if it outlasts startAt, and says so in the log', async () => {
    const { h, media } = fixture;
    const logs = captureLogs();
    const cluster = await h.startCluster({ logger: logs.logger });
    const download = media.hold('/late.wav', buildWav(4));
    const startAt = h.clock.now() + 1_000;
    const play = playCommand({
      broadcastId: 'bc-6',
      level: 'normal',
      source: { kind: 'media', url: media.url('/late.wav') },
      startAt,
    });
    await h.observer.sendCommand('hd-01', play);
    await vi.waitFor(() => expect(media.requestsFor('/late.wav')).toHaveLength(1));

    h.clock.advance(1_500);
    await h.observer.barrier();
    expect(eventsFor(play.id)).toEqual([]);
    expect(cluster.status().playing).toBe(false);
    expect(logs.find(/still downloading at startAt/)).toMatchObject({ cmdId: play.id, startAt });

    download.release();
    const started = await h.observer.waitFor(
      is('hd-01', 'event', { type: 'playback-started' }),
      'late start',
    );
    expect(started.json).toMatchObject({ cmdId: play.id, ts: startAt + 500 });
    expect(logs.find(/^playback started 500 ms late/)).toMatchObject({ lateMs: 500 });

    // It plays its full length (4 s from the WAV) from the late start.
    h.clock.advance(3_999);
    await h.observer.barrier();
    expect(cluster.status().playing).toBe(true);
    h.clock.advance(1);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(eventsFor(play.id).map((e) => e.code)).toEqual([undefined, 'completed']);
  });

  it('time-scale 60 plays a 120 s bulletin in 2 s of clock', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster({ timeScale: 60 });
    media.serve('/long.wav', buildWav(1));
    const play = playCommand({
      broadcastId: 'bc-7',
      level: 'normal',
      source: { kind: 'media', url: media.url('/long.wav'), durationS: 120 },
      startAt: h.clock.now(),
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');
    h.clock.advance(1_999);
    await h.observer.barrier();
    expect(cluster.status()).toMatchObject({ playing: true, timeScale: 60 });
    h.clock.advance(1);
    const finished = await h.observer.waitFor(
      is('hd-01', 'event', { type: 'playback-finished' }),
      'finished',
    );
    expect(finished.json).toMatchObject({ cmdId: play.id, code: 'completed' });
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
  });

  it('download-fail n: the next n media downloads fail without a request, then the fault clears itself', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    await cluster.injectFault(parseFault('download-fail', '2'));
    expect(cluster.status().faults).toEqual(['download-fail:2']);
    media.serve('/a.wav', buildWav(1));
    const plays = [1, 2, 3].map((n) =>
      playCommand({
        broadcastId: `bc-8-${n}`,
        level: 'normal',
        source: { kind: 'media', url: media.url('/a.wav') },
        startAt: h.clock.now() + 60_000,
      }),
    );
    for (const play of plays.slice(0, 2)) {
      await h.observer.sendCommand('hd-01', play);
      await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
      expect(acksFor(play.id)).toEqual(['accepted', 'failed:fetch-failed']);
      expect(eventsFor(play.id)[0]).toMatchObject({
        type: 'playback-failed',
        code: 'fetch-failed',
        message: expect.stringMatching(/download-fail fault/),
      });
    }
    expect(cluster.status().faults).toEqual([]);
    expect(media.requests).toHaveLength(0);

    const [, , third] = plays;
    if (!third) throw new Error('three plays');
    await h.observer.sendCommand('hd-01', third);
    await vi.waitFor(() => expect(media.requestsFor('/a.wav')).toHaveLength(1));
    h.clock.advance(60_000);
    await h.observer.waitFor(
      is('hd-01', 'event', { type: 'playback-started', cmdId: third.id }),
      'third plays',
    );
    expect(cluster.status()).toMatchObject({ mediaFetches: 3, mediaFailures: 2 });
  });

  it('download-fail without a count fails every download until cleared', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    await cluster.injectFault(parseFault('download-fail'));
    media.serve('/a.wav', buildWav(1));
    for (let n = 0; n < 3; n++) {
      const play = playCommand({
        broadcastId: `bc-9-${n}`,
        level: 'normal',
        source: { kind: 'media', url: media.url('/a.wav') },
        startAt: h.clock.now(),
      });
      await h.observer.sendCommand('hd-01', play);
      await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
    }
    expect(cluster.status().faults).toEqual(['download-fail']);
    await cluster.clearFault('download-fail');
    const play = playCommand({
      broadcastId: 'bc-9-ok',
      level: 'normal',
      source: { kind: 'media', url: media.url('/a.wav') },
      startAt: h.clock.now(),
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started', cmdId: play.id }), 'plays');
    expect(media.requests).toHaveLength(1);
  });

  it('playback-fail: playback starts, then breaks with playback-failed and ack failed', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    await cluster.injectFault(parseFault('playback-fail'));
    media.serve('/a.wav', buildWav(1));
    const play = playCommand({
      broadcastId: 'bc-10',
      level: 'emergency',
      source: { kind: 'media', url: media.url('/a.wav'), durationS: 60 },
      startAt: h.clock.now(),
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');
    h.clock.advance(1_999);
    await h.observer.barrier();
    expect(cluster.status().playing).toBe(true);

    h.clock.advance(1);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
    // The protocol's event code is the ack error; a broken playback is `internal` (protocol.md 8).
    expect(acksFor(play.id)).toEqual(['accepted', 'failed:internal']);
    expect(eventsFor(play.id)).toEqual([
      expect.objectContaining({ type: 'playback-started' }),
      expect.objectContaining({
        type: 'playback-failed',
        broadcastId: 'bc-10',
        code: 'internal',
        message: expect.stringMatching(/^playback-error: .*2000 ms/),
      }),
    ]);
    expect(cluster.status().playing).toBe(false);
  });

  it('opens a stream at startAt, starts at its first audio, keeps the connection while it plays and closes it at endAt', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    media.stream('/live.mp3', await mp3Tone(440, 1));
    const startAt = h.clock.now() + 5_000;
    const play = playCommand({
      broadcastId: 'live-2',
      level: 'emergency',
      source: { kind: 'stream', url: media.url('/live.mp3') },
      startAt,
      endAt: startAt + 600_000,
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'accepted' }), 'accepted');
    await h.observer.barrier();
    expect(media.requests).toHaveLength(0);

    h.clock.advance(5_000);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started' }), 'started');
    const [request] = media.requestsFor('/live.mp3');
    expect(cluster.status().stream).toMatchObject({ cmdId: play.id, ended: null });

    h.clock.advance(600_000);
    const finished = await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-finished' }), 'end-at');
    expect(finished.json).toMatchObject({ cmdId: play.id, code: 'end-at' });
    expect(acksFor(play.id)).toEqual(['accepted', 'done']);
    // endAt hangs up: the server sees the connection end.
    await request?.closed;
    expect(cluster.status().stream).toMatchObject({ ended: 'endAt' });
  });

  it('fails a stream that cannot be opened with fetch-failed at startAt', async () => {
    const { h, media } = fixture;
    await h.startCluster();
    media.status('/dead.mp3', 503);
    const play = playCommand({
      broadcastId: 'live-3',
      level: 'emergency',
      source: { kind: 'stream', url: media.url('/dead.mp3') },
      startAt: h.clock.now() + 1_000,
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'accepted' }), 'accepted');
    h.clock.advance(1_000);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed ack');
    expect(eventsFor(play.id)).toEqual([
      expect.objectContaining({
        type: 'playback-failed',
        code: 'fetch-failed',
        message: expect.stringMatching(/HTTP 503/),
      }),
    ]);
  });

  it('stop with a broadcastId stops only that broadcast; the other still plays at its time', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    media.serve('/a.wav', buildWav(1));
    const now = h.clock.now();
    const source = { kind: 'media', url: media.url('/a.wav'), durationS: 300 } as const;
    const playing = playCommand({ broadcastId: 'bc-a', level: 'normal', source, startAt: now });
    const later = playCommand({ broadcastId: 'bc-b', level: 'priority', source, startAt: now + 60_000 });
    await h.observer.sendCommand('hd-01', playing);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started', cmdId: playing.id }), 'a');
    await h.observer.sendCommand('hd-01', later);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: later.id, status: 'accepted' }), 'b accepted');

    h.clock.advance(10_000);
    const stop = buildCommand('stop', { broadcastId: 'bc-a' }, h.clock.now());
    await h.observer.sendCommand('hd-01', stop);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: playing.id, status: 'done' }), 'a done');
    expect(acksFor(stop.id)).toEqual(['done']);
    expect(eventsFor(playing.id).at(-1)).toMatchObject({ type: 'playback-finished', code: 'stopped' });
    expect(acksFor(later.id)).toEqual(['accepted']);
    expect(cluster.status().playing).toBe(false);

    h.clock.advance(50_000);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started', cmdId: later.id }), 'b plays');
    expect(cluster.status().broadcastId).toBe('bc-b');
  });

  it('an emergency pre-empts a running item, which gets playback-failed busy and ack failed busy', async () => {
    const { h, media } = fixture;
    await h.startCluster();
    media.serve('/a.wav', buildWav(1));
    const now = h.clock.now();
    const source = { kind: 'media', url: media.url('/a.wav'), durationS: 300 } as const;
    const running = playCommand({ broadcastId: 'bc-p', level: 'priority', source, startAt: now });
    const emergency = playCommand({ broadcastId: 'bc-e', level: 'emergency', source, startAt: now });
    await h.observer.sendCommand('hd-01', running);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started', cmdId: running.id }), 'p');
    await h.observer.sendCommand('hd-01', emergency);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started', cmdId: emergency.id }), 'e');
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: running.id, status: 'failed' }), 'p failed');
    expect(acksFor(running.id)).toEqual(['accepted', 'failed:busy']);
    expect(eventsFor(running.id)).toEqual([
      expect.objectContaining({ type: 'playback-started', broadcastId: 'bc-p' }),
      expect.objectContaining({ type: 'playback-failed', broadcastId: 'bc-p', code: 'busy' }),
    ]);
  });

  it('a power cut abandons the download in flight; the item is gone after the reboot', async () => {
    const { h, media } = fixture;
    const cluster = await h.startCluster();
    media.hold('/cut.wav', buildWav(1));
    const play = playCommand({
      broadcastId: 'bc-11',
      level: 'normal',
      source: { kind: 'media', url: media.url('/cut.wav') },
      startAt: h.clock.now() + 10_000,
    });
    await h.observer.sendCommand('hd-01', play);
    await vi.waitFor(() => expect(media.requestsFor('/cut.wav')).toHaveLength(1));
    await cluster.injectFault({ kind: 'power-cut' });
    await media.requestsFor('/cut.wav')[0]?.closed;

    await cluster.clearFault('power-cut');
    await h.observer.waitForCount(is('hd-01', 'event', { type: 'boot' }), 2, 'boot after the cut');
    h.clock.advance(10_000);
    await h.observer.barrier();
    expect(eventsFor(play.id)).toEqual([]);
    expect(h.observer.all(onTopic('hd-01', 'ack')).map((m) => AckSchema.parse(m.json).status)).toEqual([
      'accepted',
    ]);
    expect(cluster.status().mediaFailures).toBe(0);
  });
});
