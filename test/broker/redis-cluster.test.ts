import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommandSchema } from '../../devices/index.js';
import { heartbeat, nextMessage, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';

const skip = redisSkipReason();

describe.skipIf(skip !== null)(`two platforms sharing one Redis${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let redis: RedisServer;
  let a: TestPlatform;
  let b: TestPlatform;
  let dataDir: string;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    redis = await RedisServer.start();
    // One data directory, as the compose profile's shared volume: a device has one secret and one
    // registry entry whichever instance the load balancer sends it to.
    dataDir = mkdtempSync(join(tmpdir(), 'sc-cluster-'));
    a = await startTestPlatform({ dataDir, config: { REDIS_URL: redis.url } });
    for (const id of ['cum-live', 'cum-away']) secrets.set(id, await a.addDevice(id));
    b = await startTestPlatform({ dataDir, config: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const secret = (id: string) => secrets.get(id) as string;

  it('delivers a command sent through instance B to a device connected to instance A', async () => {
    expect(a.mqttUrl).not.toBe(b.mqttUrl);
    const device = await a.connectDevice('cum-live', secret('cum-live'));
    await device.subscribeAsync('sc/v1/cum-live/cmd', { qos: 1 });
    await device.publishAsync('sc/v1/cum-live/state', JSON.stringify({ online: true, ts: Date.now() }), {
      qos: 1,
      retain: true,
    });
    await device.publishAsync('sc/v1/cum-live/heartbeat', heartbeat(1, { volume: 42 }), { qos: 0 });

    // B has no connection from the device; the state and heartbeat reach its ingress through Redis.
    await vi.waitFor(async () => {
      const cluster = await b.api('/api/v1/clusters/cum-live');
      expect(cluster.body.status).toMatchObject({ online: true, volume: 42 });
    });

    const received = nextMessage(device);
    const pending = b.api('/api/v1/devices/cum-live/commands?waitMs=5000', {
      method: 'POST',
      body: { type: 'volume', level: 35 },
    });
    const command = CommandSchema.parse(JSON.parse((await received).payload.toString()));
    expect(command).toMatchObject({ type: 'volume', level: 35 });
    const ack = (status: string) => JSON.stringify({ cmdId: command.id, status, ts: Date.now() });
    await device.publishAsync('sc/v1/cum-live/ack', ack('done'), { qos: 1 });

    const response = await pending;
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ id: command.id, status: 'done' });
  });

  it('keeps a persistent session made on A and delivers what B queued when the device returns to B', async () => {
    const options = { clientId: 'cum-away', username: 'cum-away', password: secret('cum-away') };
    const first = await a.connect({ ...options, clean: false });
    // The subscription is stored in Redis and announced to B before A answers with SUBACK, so B
    // knows to queue for this session.
    await first.subscribeAsync('sc/v1/cum-away/cmd', { qos: 1 });
    await first.endAsync();

    // The device never said it was online and has left: without force the platform refuses
    // commands to offline devices, so the test forces it as an operator would.
    const sent = await b.api('/api/v1/devices/cum-away/commands?force=true', {
      method: 'POST',
      body: { type: 'ping' },
    });
    expect(sent.status).toBe(202);

    const returning = mqtt.connect(b.mqttUrl, {
      ...options,
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    try {
      // Subscribed before CONNACK is read: the queued message follows it at once.
      const queued = nextMessage(returning, (topic) => topic === 'sc/v1/cum-away/cmd');
      const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
        returning.once('connect', resolve);
        returning.once('error', reject);
      });
      expect(connack.sessionPresent).toBe(true);
      const command = CommandSchema.parse(JSON.parse((await queued).payload.toString()));
      expect(command).toMatchObject({ id: sent.body.id, type: 'ping' });
    } finally {
      await returning.endAsync(true);
    }
  });
});
