import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { heartbeat, nextMessage, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const run = promisify(execFile);

describe('topic ACL with real clients', () => {
  let t: TestPlatform;
  let secrets: Record<string, string>;

  beforeEach(async () => {
    t = await startTestPlatform();
    secrets = { 'hd-c01': await t.addDevice('hd-c01'), 'hd-c02': await t.addDevice('hd-c02') };
  });
  afterEach(() => t.close());

  const platformClient = () =>
    t.connect({ clientId: '_platform-test', ...t.platform.internalMqttCredential });

  it('lets a device publish its own heartbeat, which the platform receives', async () => {
    const observer = await platformClient();
    await observer.subscribeAsync('sc/v1/#', { qos: 1 });
    const device = await t.connectDevice('hd-c01', secrets['hd-c01'] as string);
    const received = nextMessage(observer, (topic) => topic === 'sc/v1/hd-c01/heartbeat');
    await device.publishAsync('sc/v1/hd-c01/heartbeat', heartbeat(1));
    expect(JSON.parse((await received).payload.toString()).seq).toBe(1);
  });

  it("closes a device that publishes to another device's topic, and nothing is delivered", async () => {
    const observer = await platformClient();
    await observer.subscribeAsync('sc/v1/#', { qos: 1 });
    const seen: string[] = [];
    observer.on('message', (topic) => seen.push(topic));
    const intruder = await t.connectDevice('hd-c01', secrets['hd-c01'] as string);
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish('sc/v1/hd-c02/state', JSON.stringify({ online: false, ts: Date.now() }), { qos: 1 });
    await closed;
    // A following legitimate message from the other device proves the forged one never arrived.
    const other = await t.connectDevice('hd-c02', secrets['hd-c02'] as string);
    const marker = nextMessage(observer, (topic) => topic === 'sc/v1/hd-c02/heartbeat');
    await other.publishAsync('sc/v1/hd-c02/heartbeat', heartbeat(7));
    await marker;
    expect(seen).not.toContain('sc/v1/hd-c02/state');
    const metrics = (await t.api('/metrics', { as: 'technician' })).body;
    expect(metrics).toMatch(/sc_mqtt_acl_denials_total\{action="publish"\} 1/);
  });

  it('refuses a device that publishes to its own cmd topic (commands come only from the platform)', async () => {
    const device = await t.connectDevice('hd-c01', secrets['hd-c01'] as string);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    device.publish('sc/v1/hd-c01/cmd', '{}', { qos: 1 });
    await closed;
  });

  it('answers 0x80 to device subscriptions to #, to all commands and to another device', async () => {
    const device = await t.connectDevice('hd-c01', secrets['hd-c01'] as string);
    for (const filter of ['#', 'sc/v1/#', 'sc/v1/+/cmd', 'sc/v1/hd-c02/cmd', '$SYS/#']) {
      const error = await device
        .subscribeAsync(filter, { qos: 1 })
        .catch((e: { packet?: { granted: number[] } }) => e);
      expect((error as { packet?: { granted: number[] } }).packet?.granted, filter).toEqual([128]);
    }
    const granted = await device.subscribeAsync('sc/v1/hd-c01/cmd', { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    expect(device.connected).toBe(true);
  });

  it('lets the platform subscribe to everything and command any device', async () => {
    const platform = await platformClient();
    const granted = await platform.subscribeAsync('#', { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    const device = await t.connectDevice('hd-c02', secrets['hd-c02'] as string);
    await device.subscribeAsync('sc/v1/hd-c02/cmd', { qos: 1 });
    const command = nextMessage(device);
    await platform.publishAsync('sc/v1/hd-c02/cmd', '{"probe":true}', { qos: 1 });
    expect((await command).topic).toBe('sc/v1/hd-c02/cmd');
  });

  it('serves the same security over MQTT-over-WebSocket on the HTTP port', async () => {
    const wsUrl = `ws://127.0.0.1:${t.platform.httpPort}/mqtt`;
    await expect(
      mqtt.connectAsync(wsUrl, {
        clientId: 'hd-c01',
        username: 'hd-c01',
        password: 'wrong',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow();
    const device = await mqtt.connectAsync(wsUrl, {
      clientId: 'hd-c01',
      username: 'hd-c01',
      password: secrets['hd-c01'] as string,
      reconnectPeriod: 0,
    });
    try {
      await device.publishAsync('sc/v1/hd-c01/heartbeat', heartbeat(3), { qos: 1 });
      await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').online).toBe(true));
      const refused = await device.subscribeAsync('#').catch((e: { packet?: { granted: number[] } }) => e);
      expect((refused as { packet?: { granted: number[] } }).packet?.granted).toEqual([128]);
    } finally {
      await device.endAsync();
    }
  });
});

// mosquitto-clients is a Debian package: .ci/run installs it, so in CI this suite always runs.
const haveMosquitto = await run('mosquitto_pub', ['--help']).then(
  () => true,
  (error: NodeJS.ErrnoException & { code?: unknown }) => error.code !== 'ENOENT',
);

describe.runIf(haveMosquitto || process.env.CI)(
  'third-party MQTT clients (mosquitto_pub / mosquitto_sub)',
  () => {
    let t: TestPlatform;
    let secret: string;

    beforeEach(async () => {
      t = await startTestPlatform();
      secret = await t.addDevice('hd-c01');
    });
    afterEach(() => t.close());

    const auth = (id: string, password: string) => [
      '-h',
      '127.0.0.1',
      '-p',
      String(t.platform.mqttPort),
      '-i',
      id,
      '-u',
      id,
      '-P',
      password,
    ];

    it('accepts a heartbeat published by mosquitto_pub with the device credentials', async () => {
      await run('mosquitto_pub', [
        ...auth('hd-c01', secret),
        '-q',
        '1',
        '-t',
        'sc/v1/hd-c01/heartbeat',
        '-m',
        heartbeat(1),
      ]);
      await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').volume).toBe(70));
    });

    it('delivers a platform command to mosquitto_sub on the device cmd topic', async () => {
      const sub = run('mosquitto_sub', [
        ...auth('hd-c01', secret),
        '-q',
        '1',
        '-t',
        'sc/v1/hd-c01/cmd',
        '-C',
        '1',
        '-W',
        '10',
      ]);
      await vi.waitFor(() => expect(t.platform.presence.status('hd-c01').online).toBe(true));
      const response = await t.api('/api/v1/devices/hd-c01/commands', {
        method: 'POST',
        body: { type: 'ping' },
        as: 'technician',
      });
      expect(response.status).toBe(202);
      const { stdout } = await sub;
      expect(JSON.parse(stdout)).toMatchObject({ type: 'ping' });
    });

    it('refuses mosquitto_pub with a wrong secret', async () => {
      const result = await run('mosquitto_pub', [
        ...auth('hd-c01', 'wrong'),
        '-t',
        'sc/v1/hd-c01/heartbeat',
        '-m',
        '{}',
      ]).catch((error: { stderr: string }) => error);
      expect((result as { stderr: string }).stderr).toMatch(
        /not authori[sz]ed|bad user name or password|refused/i,
      );
    });
  },
);
