import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runCameraCli } from '../../simulators/onvif-camera/cli.js';
import { SimulatedCameraFleet } from '../../simulators/onvif-camera/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { connectCam, postSoap, soapRequest } from './onvif-harness.js';

describe('simulated camera fleet and CLI', () => {
  let fleet: SimulatedCameraFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('runs cameras named after Hướng Đạo sites, each reachable by the onvif package', async () => {
    fleet = new SimulatedCameraFleet({
      count: 3,
      discoveryPort: null,
      password: 'Hd@2026',
      clock: new ManualClock(),
      logger: pino({ level: 'silent' }),
    });
    await fleet.start();
    expect(fleet.status().map((s) => s.name)).toEqual([
      'Ngã tư Hướng Đạo',
      'Ngã ba chợ Hướng Đạo',
      'Cổng UBND xã',
    ]);
    const uuids = new Set(fleet.cameras.map((c) => c.identity.uuid));
    expect(uuids.size).toBe(3);
    for (const camera of fleet.cameras) {
      const cam = await connectCam('127.0.0.1', camera.addresses().httpPort);
      expect(cam.profiles).toHaveLength(2);
    }
    await fleet.injectFault('2', { kind: 'offline' });
    expect(fleet.status().map((s) => s.online)).toEqual([true, false, true]);
  });

  it('prints each camera address and applies --fault from the command line', async () => {
    const stdout = new PassThrough();
    let output = '';
    stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    let stop: () => void = () => undefined;
    const until = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const run = runCameraCli(
      [
        '--count',
        '2',
        '--http-port',
        '0',
        '--rtsp-port',
        '0',
        '--discovery-port',
        'off',
        '--fault',
        '2:clock-drift:120',
        '--log-level',
        'silent',
      ],
      { stdout, stderr: new PassThrough(), clock: new ManualClock(), until },
    );
    await expect.poll(() => output).toContain('2 simulated cameras up');
    expect(output).toContain('faults: clock-drift:120');
    const xaddr = /2\. [^\n]+\n {3}ONVIF {4}(\S+)/.exec(output)?.[1] ?? '';
    const time = await postSoap(xaddr, soapRequest('GetSystemDateAndTime'));
    expect(time.text).toContain('<tt:Hour>0</tt:Hour><tt:Minute>2</tt:Minute>');
    stop();
    expect(await run).toBe(0);
  });

  it('rejects an unknown fault with exit code 2', async () => {
    const stderr = new PassThrough();
    let errors = '';
    stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    expect(await runCameraCli(['--fault', 'all:melted'], { stdout: new PassThrough(), stderr })).toBe(2);
    expect(errors).toContain('unknown fault "melted"');
  });
});
