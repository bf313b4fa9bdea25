import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { Command, CommandOf, ProgrammeItemSource } from '../../devices/index.js';
import { AckSchema, buildCommand, DeviceEventSchema } from '../../devices/index.js';
import { ClockTimers } from '../../simulators/speaker-cluster/clock-timers.js';
import type { SimulatedClusterOptions } from '../../simulators/speaker-cluster/cluster-options.js';
import { type PlayLog, playLogSink } from '../../simulators/speaker-cluster/play-log.js';
import { type ItemReport, ProgrammeRun } from '../../simulators/speaker-cluster/programme.js';
import { ManualClock } from '../support/manual-clock.js';
import { harnessWithMediaEachTest } from '../support/simulator-fixtures.js';
import { buildWav, sha256 } from './media-server.js';
import { is } from './mqtt-harness.js';

type PlayParams = Omit<CommandOf<'play'>, 'id' | 'type' | 'issuedAt' | 'expiresAt' | 'repeat'> & {
  repeat?: number;
};

/** A loopback port that was free a moment ago: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('programme run', () => {
  const items = [
    { kind: 'media', lengthMs: 2_000 },
    { kind: 'silence', lengthMs: 1_000 },
    { kind: 'media', lengthMs: 3_000 },
  ] as const;

  function startRun() {
    const clock = new ManualClock();
    const reports: ItemReport[] = [];
    const run = new ProgrammeRun(items, clock.now(), new ClockTimers(clock), (report) =>
      reports.push(report),
    );
    run.start();
    return { clock, run, reports };
  }

  it('knows which item plays by the time elapsed, and reports each one as it ends', () => {
    const { clock, run, reports } = startRun();
    const start = clock.now();
    expect(run.lengthMs).toBe(6_000);
    expect([0, 1_999, 2_000, 2_999, 3_000, 5_999].map((ms) => run.itemAt(start + ms))).toEqual([
      0, 0, 1, 1, 2, 2,
    ]);
    clock.advance(1_999);
    expect(reports).toEqual([]);
    clock.advance(1);
    expect(reports).toEqual([{ item: 0, kind: 'media', outcome: 'played' }]);
    clock.advance(4_000);
    // The last item ends with the play, not on a timer of its own.
    expect(reports).toHaveLength(2);
    expect(run.end(clock.now(), true)).toEqual(['played', 'played', 'played']);
    expect(reports).toEqual([
      { item: 0, kind: 'media', outcome: 'played' },
      { item: 1, kind: 'silence', outcome: 'played' },
      { item: 2, kind: 'media', outcome: 'played' },
    ]);
  });

  it('cut short: the items before were played, the one playing is cut, the rest are not played', () => {
    const { clock, run, reports } = startRun();
    clock.advance(2_500);
    expect(run.end(clock.now(), false)).toEqual(['played', 'cut', 'not-played']);
    expect(reports).toEqual([
      { item: 0, kind: 'media', outcome: 'played' },
      { item: 1, kind: 'silence', outcome: 'cut' },
    ]);
    clock.advance(10_000);
    expect(reports).toHaveLength(2);
  });
});

describe('simulated cluster: programmes', () => {
  const fixture = harnessWithMediaEachTest();

  const playCommand = (params: PlayParams): Command =>
    buildCommand('play', { repeat: 1, ...params }, fixture.h.clock.now(), 3_600_000);

  const acksFor = (cmdId: string) =>
    fixture.h.observer.all(is('hd-01', 'ack', { cmdId })).map((m) => AckSchema.parse(m.json));

  const eventsFor = (cmdId: string) =>
    fixture.h.observer.all(is('hd-01', 'event', { cmdId })).map((m) => DeviceEventSchema.parse(m.json));

  /** A jingle (2 s, as its WAV header says), a 1 s pause and a bulletin (3 s, as the command says). */
  function jinglePauseBulletin(): ProgrammeItemSource[] {
    const { media } = fixture;
    const jingle = buildWav(2);
    const bulletin = buildWav(1);
    media.serve('/jingle.wav', jingle);
    media.serve('/bulletin.wav', bulletin);
    return [
      { kind: 'media', url: media.url('/jingle.wav'), sizeBytes: jingle.length, sha256: sha256(jingle) },
      { kind: 'silence', durationS: 1 },
      { kind: 'media', url: media.url('/bulletin.wav'), sha256: sha256(bulletin), durationS: 3 },
    ];
  }

  /** A cluster whose own log of what it played the test reads: its `programme item` lines. */
  async function startCluster(options: Partial<SimulatedClusterOptions> = {}) {
    const lines: PlayLog[] = [];
    const cluster = await fixture.h.startCluster({
      logger: pino({ level: 'info' }, playLogSink(lines)),
      ...options,
    });
    return { cluster, itemLines: () => lines.filter((line) => line.msg === 'programme item') };
  }

  async function startPlaying(broadcastId: string, items: ProgrammeItemSource[]): Promise<Command> {
    const { h } = fixture;
    const play = playCommand({
      broadcastId,
      level: 'normal',
      source: { kind: 'programme', items },
      startAt: h.clock.now(),
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started', cmdId: play.id }), 'started');
    return play;
  }

  it('fetches every media item ahead of startAt, plays the items in order as one play and acks done with each item played', async () => {
    const { h, media } = fixture;
    const { cluster, itemLines } = await startCluster();
    const startAt = h.clock.now() + 10_000;
    const play = playCommand({
      broadcastId: 'bc-prog-1',
      level: 'normal',
      source: { kind: 'programme', items: jinglePauseBulletin() },
      startAt,
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'accepted' }), 'accepted');
    await vi.waitFor(() =>
      expect(media.requests.map((r) => r.path)).toEqual(['/jingle.wav', '/bulletin.wav']),
    );

    h.clock.advance(10_000);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started', cmdId: play.id }), 'started');
    h.clock.advance(2_000);
    expect(itemLines()).toEqual([expect.objectContaining({ item: 0, kind: 'media', outcome: 'played' })]);
    h.clock.advance(1_000);
    expect(itemLines()).toHaveLength(2);
    h.clock.advance(2_999);
    await h.observer.barrier();
    expect(cluster.status().playing).toBe(true);

    h.clock.advance(1);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(acksFor(play.id)).toEqual([
      expect.objectContaining({ status: 'accepted' }),
      expect.objectContaining({ status: 'done', startedAt: startAt, items: ['played', 'played', 'played'] }),
    ]);
    expect(eventsFor(play.id)).toEqual([
      expect.objectContaining({ type: 'playback-started', ts: startAt }),
      expect.objectContaining({ type: 'playback-finished', code: 'completed', ts: startAt + 6_000 }),
    ]);
    const line = { deviceId: 'hd-01', cmdId: play.id, broadcastId: 'bc-prog-1', outcome: 'played' };
    expect(itemLines()).toEqual([
      expect.objectContaining({ ...line, item: 0, kind: 'media' }),
      expect.objectContaining({ ...line, item: 1, kind: 'silence' }),
      expect.objectContaining({ ...line, item: 2, kind: 'media' }),
    ]);
    expect(cluster.status()).toMatchObject({ playing: false, mediaFetches: 2, mediaFailures: 0 });
  });

  it('stopped in its pause: the jingle was played, the pause cut, the bulletin never heard', async () => {
    const { h } = fixture;
    const { itemLines } = await startCluster();
    const play = await startPlaying('bc-prog-2', jinglePauseBulletin());
    h.clock.advance(2_500);
    await h.observer.sendCommand('hd-01', buildCommand('stop', { broadcastId: 'bc-prog-2' }, h.clock.now()));

    const done = await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(AckSchema.parse(done.json).items).toEqual(['played', 'cut', 'not-played']);
    expect(eventsFor(play.id).at(-1)).toMatchObject({ type: 'playback-finished', code: 'stopped' });
    expect(itemLines()).toEqual([
      expect.objectContaining({ cmdId: play.id, item: 0, kind: 'media', outcome: 'played' }),
      expect.objectContaining({ cmdId: play.id, item: 1, kind: 'silence', outcome: 'cut' }),
    ]);
  });

  it('pre-empted by an emergency in its pause: failed busy, with the jingle played, the pause cut, the bulletin never heard', async () => {
    const { h, media } = fixture;
    const { itemLines } = await startCluster();
    const play = await startPlaying('bc-prog-3', jinglePauseBulletin());
    media.serve('/alert.wav', buildWav(1));
    h.clock.advance(2_500);
    const emergency = playCommand({
      broadcastId: 'bc-emg-1',
      level: 'emergency',
      source: { kind: 'media', url: media.url('/alert.wav'), durationS: 60 },
      startAt: h.clock.now(),
    });
    await h.observer.sendCommand('hd-01', emergency);

    const failed = await h.observer.waitFor(
      is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }),
      'failed',
    );
    expect(AckSchema.parse(failed.json)).toMatchObject({
      error: 'busy',
      items: ['played', 'cut', 'not-played'],
    });
    expect(eventsFor(play.id).at(-1)).toMatchObject({ type: 'playback-failed', code: 'busy' });
    await h.observer.waitFor(
      is('hd-01', 'event', { type: 'playback-started', cmdId: emergency.id }),
      'emergency',
    );
    expect(itemLines()).toEqual([
      expect.objectContaining({ cmdId: play.id, item: 0, outcome: 'played' }),
      expect.objectContaining({ cmdId: play.id, item: 1, outcome: 'cut' }),
    ]);
  });

  it('cut by endAt, with its playing time divided by the time scale', async () => {
    const { h } = fixture;
    const { itemLines } = await startCluster({ timeScale: 60 });
    const [jingle, , bulletin] = jinglePauseBulletin();
    if (jingle?.kind !== 'media' || bulletin?.kind !== 'media') throw new Error('two media items');
    const startAt = h.clock.now();
    // 2, 1 and 3 s of clock at time scale 60.
    const play = playCommand({
      broadcastId: 'bc-prog-4',
      level: 'normal',
      source: {
        kind: 'programme',
        items: [
          { ...jingle, durationS: 120 },
          { kind: 'silence', durationS: 60 },
          { ...bulletin, durationS: 180 },
        ],
      },
      startAt,
      endAt: startAt + 4_000,
    });
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitFor(is('hd-01', 'event', { type: 'playback-started', cmdId: play.id }), 'started');
    h.clock.advance(4_000);

    const done = await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');
    expect(AckSchema.parse(done.json).items).toEqual(['played', 'played', 'cut']);
    expect(eventsFor(play.id).at(-1)).toMatchObject({ type: 'playback-finished', code: 'end-at' });
    expect(itemLines().map((line) => line.outcome)).toEqual(['played', 'played', 'cut']);
  });

  it('fails fetch-failed before its first sound when a media item cannot be fetched, every item not played, and a fresh attempt fetches again', async () => {
    const { h, media } = fixture;
    const { cluster, itemLines } = await startCluster();
    const [jingle, pause] = jinglePauseBulletin();
    if (!jingle || !pause) throw new Error('a jingle and a pause');
    const startAt = h.clock.now() + 10_000;
    const play = playCommand({
      broadcastId: 'bc-prog-5',
      level: 'normal',
      source: {
        kind: 'programme',
        items: [jingle, pause, { kind: 'media', url: `http://127.0.0.1:${await closedPort()}/gone.wav` }],
      },
      startAt,
    });
    await h.observer.sendCommand('hd-01', play);

    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }), 'failed');
    const unheard = ['not-played', 'not-played', 'not-played'];
    expect(acksFor(play.id)).toEqual([
      expect.objectContaining({ status: 'accepted' }),
      expect.objectContaining({ status: 'failed', error: 'fetch-failed', items: unheard }),
    ]);
    expect(eventsFor(play.id)).toEqual([
      expect.objectContaining({
        type: 'playback-failed',
        code: 'fetch-failed',
        message: expect.stringMatching(/ECONNREFUSED/),
      }),
    ]);
    h.clock.advance(10_000);
    await h.observer.barrier();
    expect(eventsFor(play.id)).toHaveLength(1);
    expect(itemLines()).toEqual([]);
    expect(cluster.status()).toMatchObject({ playing: false, mediaFetches: 2, mediaFailures: 1 });

    // The platform's fresh attempt (docs/protocol.md section 7) is executed, not answered from memory.
    await h.observer.sendCommand('hd-01', { ...play, attempt: 2 });
    await h.observer.waitForCount(
      is('hd-01', 'ack', { cmdId: play.id, status: 'failed' }),
      2,
      'failed again',
    );
    expect(media.requestsFor('/jingle.wav')).toHaveLength(2);
    expect(acksFor(play.id).at(-1)).toMatchObject({ error: 'fetch-failed', items: unheard });
    expect(itemLines()).toEqual([]);
  });

  it('answers a resent command from memory, with the items it remembered, and never plays it twice', async () => {
    const { h, media } = fixture;
    const { cluster, itemLines } = await startCluster();
    const play = await startPlaying('bc-prog-6', jinglePauseBulletin());
    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitForCount(is('hd-01', 'ack', { cmdId: play.id }), 2, 'ack of a resend while playing');
    h.clock.advance(6_000);
    await h.observer.waitFor(is('hd-01', 'ack', { cmdId: play.id, status: 'done' }), 'done');

    await h.observer.sendCommand('hd-01', play);
    await h.observer.waitForCount(is('hd-01', 'ack', { cmdId: play.id }), 4, 'ack of a resend after done');
    const played = ['played', 'played', 'played'];
    expect(acksFor(play.id).map(({ status, items }) => ({ status, items }))).toEqual([
      { status: 'accepted', items: undefined },
      { status: 'accepted', items: undefined },
      { status: 'done', items: played },
      { status: 'done', items: played },
    ]);
    h.clock.advance(60_000);
    await h.observer.barrier();
    expect(eventsFor(play.id).map((event) => event.type)).toEqual(['playback-started', 'playback-finished']);
    expect(itemLines()).toHaveLength(3);
    expect(media.requests).toHaveLength(2);
    expect(cluster.status()).toMatchObject({ commandsExecuted: 1, duplicateCommands: 2 });
  });
});
