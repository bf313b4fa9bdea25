import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../simulators/speaker-cluster/cli.js';
import { runCli } from '../../simulators/speaker-cluster/cli.js';
import { parseCliArgs } from '../../simulators/speaker-cluster/cli-args.js';
import type { Harness } from './mqtt-harness.js';
import { is, startHarness } from './mqtt-harness.js';

/** Collects what the CLI writes and resolves when a pattern shows up. */
class Captured {
  readonly stream = new PassThrough();
  text = '';
  private readonly waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];

  constructor() {
    this.stream.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('utf8');
      for (const waiter of [...this.waiters]) {
        const match = this.text.match(waiter.pattern);
        if (!match) continue;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    });
  }

  waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    const match = this.text.match(pattern);
    if (match) return Promise.resolve(match);
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
}

function captureIo(stdin: PassThrough | null, extra: Partial<CliIo> = {}) {
  const stdout = new Captured();
  const stderr = new Captured();
  const io: CliIo = { stdin, stdout: stdout.stream, stderr: stderr.stream, env: {}, ...extra };
  return { io, stdout, stderr };
}

describe('simulator CLI arguments', () => {
  it('takes the heartbeat from HEARTBEAT_INTERVAL_S unless --heartbeat is given', () => {
    const env = { HEARTBEAT_INTERVAL_S: '12' };
    expect(parseCliArgs(['--fleet', 'f.json'], env).heartbeatIntervalS).toBe(12);
    expect(parseCliArgs(['--fleet', 'f.json', '--heartbeat', '7'], env).heartbeatIntervalS).toBe(7);
    expect(parseCliArgs(['--fleet', 'f.json'], {}).heartbeatIntervalS).toBe(30);
  });

  it('parses repeatable --fault specs with arguments', () => {
    const options = parseCliArgs(
      [
        '--fleet',
        'f.json',
        '--fault',
        'all:weak-signal',
        '--fault',
        'hd-01:speaker-fault:2',
        '--fault',
        'hd-02:slow-acks:1500',
      ],
      {},
    );
    expect(options.faults).toEqual([
      { target: 'all', fault: { kind: 'weak-signal' } },
      { target: 'hd-01', fault: { kind: 'speaker-fault', speaker: 2 } },
      { target: 'hd-02', fault: { kind: 'slow-acks', delayMs: 1500 } },
    ]);
  });

  it('takes --time-scale and --media-timeout, with defaults 1 and 30 s', () => {
    expect(parseCliArgs(['--fleet', 'f.json'], {})).toMatchObject({ timeScale: 1, mediaTimeoutMs: 30_000 });
    expect(
      parseCliArgs(['--fleet', 'f.json', '--time-scale', '60', '--media-timeout', '2.5'], {}),
    ).toMatchObject({ timeScale: 60, mediaTimeoutMs: 2_500 });
    expect(parseCliArgs(['--fleet', 'f.json', '--fault', 'hd-01:download-fail:2'], {}).faults).toEqual([
      { target: 'hd-01', fault: { kind: 'download-fail', remaining: 2 } },
    ]);
  });

  it.each([
    [[], /--fleet <file> is required/],
    [['--fleet', 'f.json', '--time-scale', '0'], /--time-scale must be a number from 0.001 to 100000/],
    [['--fleet', 'f.json', '--media-timeout', 'x'], /--media-timeout must be a number/],
    [['--fleet', 'f.json', '--fault', 'all:playback-fail:0'], /playback time/],
    [['--fleet', 'f.json', '--bogus'], /Unknown option '--bogus'/],
    [['--fleet', 'f.json', '--fault', 'all:explode'], /unknown fault "explode"/],
    [['--fleet', 'f.json', '--fault', 'hd-01:weak-signal:3'], /takes no argument/],
    [['--fleet', 'f.json', '--speakers', '0'], /--speakers must be a number from 1 to 16/],
    [['--fleet', 'f.json', '--url', 'http://x'], /--url "http:\/\/x" must be an mqtt:\/\//],
    [['--device', 'hd-01'], /--device and --secret go together/],
    [['--fleet', 'f.json', '--log-level', 'loud'], /log level "loud"/],
  ])('rejects %j with a usage error', async (argv, message) => {
    const { io, stderr } = captureIo(null);
    await expect(runCli(argv, io)).resolves.toBe(2);
    expect(stderr.text).toMatch(message);
    expect(stderr.text).toContain('--help');
  });

  it('prints usage for --help', async () => {
    const { io, stdout } = captureIo(null);
    await expect(runCli(['--help'], io)).resolves.toBe(0);
    expect(stdout.text).toContain('Usage: npm run sim');
    expect(stdout.text).toContain('power-cut');
    expect(stdout.text).toContain('--time-scale <factor>');
    expect(stdout.text).toContain('download-fail');
    expect(stdout.text).toContain('playback-fail');
  });
});

describe('simulator CLI', () => {
  let h: Harness;
  let dir: string;
  let fleetFile: string;
  beforeEach(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
    fleetFile = join(dir, 'fleet.json');
    await writeFile(
      fleetFile,
      JSON.stringify({
        url: h.url,
        devices: [
          { deviceId: 'hd-01', secret: 'a' },
          { deviceId: 'hd-02', secret: 'b' },
          { deviceId: 'hd-03', secret: 'c' },
        ],
      }),
    );
  });
  afterEach(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the fleet from a file and answers list, fault, status and quit', async () => {
    const stdin = new PassThrough();
    const { io, stdout } = captureIo(stdin, { clock: h.clock });
    const run = runCli(
      [
        '--fleet',
        fleetFile,
        '--count',
        '2',
        '--log-level',
        'silent',
        '--fault',
        'hd-02:speaker-fault:2',
        '--time-scale',
        '60',
      ],
      io,
    );
    await stdout.waitFor(/2 simulated clusters on mqtt:\/\/127\.0\.0\.1:\d+, 2 connected\. Type "help"/);

    stdin.write('list\n');
    const listed = await stdout.waitFor(/^hd-01 .*\n^hd-02 .*\n/m);
    expect(listed[0]).toMatch(/^hd-01 +connected +volume=70 +power=on +playing=no +faults=none$/m);
    expect(listed[0]).toMatch(/^hd-02 +connected +volume=70 +power=on +playing=no +faults=speaker-fault:2$/m);
    expect(stdout.text).not.toContain('hd-03');

    stdin.write('fault hd-01 slow-acks 2000\n');
    await stdout.waitFor(/ok: slow-acks 2000 on hd-01/);
    stdin.write('fault hd-09 drop\n');
    await stdout.waitFor(/error: no simulated cluster "hd-09"/);
    stdin.write('clear all speaker-fault\n');
    await stdout.waitFor(/ok: cleared speaker-fault on all/);
    await h.observer.waitFor(is('hd-02', 'event', { type: 'fault-cleared' }), 'fault-cleared');

    stdin.write('fault hd-01 download-fail 2\n');
    await stdout.waitFor(/ok: download-fail 2 on hd-01/);
    stdin.write('status hd-01\n');
    const status = await stdout.waitFor(/^hd-01\n(?: {2}.*\n)+/m);
    expect(status[0]).toContain('connection:       connected');
    expect(status[0]).toContain('faults:           slow-acks:2000, download-fail:2');
    expect(status[0]).toContain('media:            0 fetched, 0 failed; playing times ÷ 60');

    stdin.write('quit\n');
    await expect(run).resolves.toBe(0);
    expect(stdout.text).toContain('stopping (quit)');
    await h.observer.waitFor(is('hd-01', 'state', { online: false }), 'hd-01 offline');
    await h.observer.waitFor(is('hd-02', 'state', { online: false }), 'hd-02 offline');
  });

  it('runs one cluster from --device/--secret and stops cleanly on SIGTERM', async () => {
    const signals = new EventEmitter();
    const { io, stdout } = captureIo(null, { clock: h.clock, signals });
    const run = runCli(['--device', 'hd-07', '--secret', 's', '--url', h.url, '--log-level', 'silent'], io);
    await stdout.waitFor(/1 simulated cluster on .*, 1 connected\./);
    signals.emit('SIGTERM');
    await expect(run).resolves.toBe(0);
    expect(signals.listenerCount('SIGINT')).toBe(0);
    await h.observer.waitFor(is('hd-07', 'state', { online: false }), 'offline state');
  });

  it('explains a broken fleet file and exits 1', async () => {
    await writeFile(fleetFile, JSON.stringify({ devices: [{ deviceId: 'Bad Id', secret: 'x' }] }));
    const { io, stderr } = captureIo(null);
    await expect(runCli(['--fleet', fleetFile], io)).resolves.toBe(1);
    expect(stderr.text).toContain(`${fleetFile} is not a valid fleet file`);
    expect(stderr.text).toContain('devices[0].deviceId');
  });
});
