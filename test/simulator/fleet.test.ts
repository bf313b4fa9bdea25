import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HeartbeatSchema } from '../../devices/index.js';
import { SimulatedFleet, UnknownDeviceError } from '../../simulators/speaker-cluster/fleet.js';
import {
  FleetFileError,
  loadFleetFile,
  parseFleetFile,
} from '../../simulators/speaker-cluster/fleet-file.js';
import type { Harness } from './mqtt-harness.js';
import { is, onTopic, startHarness } from './mqtt-harness.js';

describe('fleet file', () => {
  it('accepts the issued shape and keeps the url', () => {
    const file = parseFleetFile(
      JSON.stringify({
        url: 'mqtt://10.0.0.5:1883',
        devices: [{ deviceId: 'hd-01', secret: 's1', village: 'Thôn Đông' }],
      }),
      'fleet.json',
    );
    expect(file.url).toBe('mqtt://10.0.0.5:1883');
    expect(file.devices[0]).toMatchObject({ deviceId: 'hd-01', secret: 's1' });
  });

  it('names the file, the entry and the rule that a bad file breaks', () => {
    const text = JSON.stringify({
      url: 'http://example',
      devices: [
        { deviceId: 'hd-01', secret: 's' },
        { deviceId: 'HD 02', secret: '' },
        { deviceId: 'hd-01', secret: 'x' },
      ],
    });
    const error = (() => {
      try {
        parseFleetFile(text, 'fleet.json');
      } catch (caught) {
        return caught;
      }
      throw new Error('expected a FleetFileError');
    })();
    expect(error).toBeInstanceOf(FleetFileError);
    const message = (error as Error).message;
    expect(message).toContain('fleet.json is not a valid fleet file');
    expect(message).toContain('url: must be an mqtt://');
    expect(message).toContain('devices[1].deviceId: lower-case letters');
    expect(message).toContain('devices[1].secret: must not be empty');
    expect(message).toContain('devices[2].deviceId: "hd-01" is already listed at devices[0]');
  });

  it('reports JSON syntax errors and empty device lists', () => {
    expect(() => parseFleetFile('{"devices": [', 'f.json')).toThrow(/f\.json is not valid JSON/);
    expect(() => parseFleetFile('{"devices": []}', 'f.json')).toThrow(
      /devices: must list at least one device/,
    );
    expect(() => parseFleetFile('[]', 'f.json')).toThrow(/\(file\): /);
  });

  it('reports a file that cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-fleet-'));
    try {
      await expect(loadFleetFile(join(dir, 'missing.json'))).rejects.toThrow(
        /cannot read fleet file .*missing\.json/,
      );
      await writeFile(
        join(dir, 'ok.json'),
        JSON.stringify({ devices: [{ deviceId: 'hd-01', secret: 's' }] }),
      );
      await expect(loadFleetFile(join(dir, 'ok.json'))).resolves.toMatchObject({
        devices: [{ deviceId: 'hd-01' }],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('simulated fleet', () => {
  let h: Harness;
  let fleet: SimulatedFleet;
  beforeEach(async () => {
    h = await startHarness();
    fleet = new SimulatedFleet({
      devices: [
        { deviceId: 'hd-01', secret: 'a' },
        { deviceId: 'hd-02', secret: 'b' },
        { deviceId: 'hd-03', secret: 'c' },
      ],
      url: h.url,
      clock: h.clock,
      logger: pino({ level: 'silent' }),
      heartbeatIntervalS: 10,
      timeScale: 60,
      mediaTimeoutMs: 5_000,
    });
  });
  afterEach(async () => {
    await fleet.stop();
    await h.close();
  });

  it('starts every cluster, injects faults by id or all, and stops them all cleanly', async () => {
    await fleet.start();
    expect(fleet.status().map((s) => [s.deviceId, s.connected])).toEqual([
      ['hd-01', true],
      ['hd-02', true],
      ['hd-03', true],
    ]);
    expect(fleet.get('hd-02')?.deviceId).toBe('hd-02');
    expect(fleet.status().map((s) => s.timeScale)).toEqual([60, 60, 60]);
    expect(fleet.get('hd-09')).toBeUndefined();

    await fleet.injectFault('all', { kind: 'weak-signal' });
    await fleet.injectFault('hd-03', { kind: 'heartbeat-stop' });
    await expect(fleet.injectFault('hd-09', { kind: 'drop' })).rejects.toBeInstanceOf(UnknownDeviceError);

    h.clock.advance(10_000);
    for (const id of ['hd-01', 'hd-02']) {
      const beat = await h.observer.waitFor(is(id, 'heartbeat', { seq: 1 }), `${id} heartbeat`);
      expect(HeartbeatSchema.parse(beat.json).rssiDbm).toBeLessThanOrEqual(-105);
    }
    await h.observer.barrier();
    expect(h.observer.all(onTopic('hd-03', 'heartbeat'))).toHaveLength(1);

    await fleet.clearFault('all', 'all');
    expect(fleet.status().every((s) => s.faults.length === 0)).toBe(true);

    await fleet.stop();
    for (const id of fleet.ids()) {
      await h.observer.waitFor(is(id, 'state', { online: false }), `${id} offline`);
    }
  });

  it('gives each cluster its own telemetry from one seed', async () => {
    const seeded = new SimulatedFleet({
      devices: [
        { deviceId: 'hd-11', secret: 'a' },
        { deviceId: 'hd-12', secret: 'b' },
      ],
      url: h.url,
      clock: h.clock,
      logger: pino({ level: 'silent' }),
      heartbeatIntervalS: 10,
      seed: 42,
    });
    try {
      await seeded.start();
      for (let i = 0; i < 4; i++) h.clock.advance(10_000);
      const temps = await Promise.all(
        ['hd-11', 'hd-12'].map(async (id) =>
          (await h.observer.waitForCount(onTopic(id, 'heartbeat'), 5, `${id} heartbeats`)).map(
            (m) => HeartbeatSchema.parse(m.json).tempC,
          ),
        ),
      );
      expect(temps[0]).not.toEqual(temps[1]);
    } finally {
      await seeded.stop();
    }
  });
});
