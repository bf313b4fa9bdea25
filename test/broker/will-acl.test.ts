import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MqttBroker } from '../../broker/mqtt-broker.js';
import { systemClock } from '../../devices/index.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';

/*
 * A device's last will is published in its name when it vanishes, possibly by another instance
 * long after: one aimed at another device's command topic would let one stolen secret command
 * every cluster. The will is checked at CONNECT, and again when a surviving instance publishes a
 * stored one with no client.
 */
const silent = pino({ level: 'silent' });
const play = (volume: number) =>
  JSON.stringify({
    id: 'cmd-forged-0001',
    type: 'play',
    volume,
    issuedAt: Date.now(),
    expiresAt: Date.now() + 60_000,
  });

describe("a device's last will", () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(async () => {
    await t.close();
  });

  it("refuses a CONNECT whose will aims at another device's topic, and audits it", async () => {
    const secret = await t.addDevice('will-a');
    await t.addDevice('will-b');
    const refused = mqtt.connectAsync(t.mqttUrl, {
      clientId: 'will-a',
      username: 'will-a',
      password: secret,
      reconnectPeriod: 0,
      will: { topic: 'sc/v1/will-b/cmd', payload: Buffer.from(play(100)), qos: 1, retain: true },
    });
    await expect(refused).rejects.toMatchObject({ code: 5 });
    const audit = await t.api('/api/v1/audit?action=mqtt.will');
    expect(audit.body.items[0]).toMatchObject({ action: 'mqtt.will', outcome: 'denied' });
    expect(JSON.stringify(audit.body.items[0])).toContain('sc/v1/will-b/cmd');
  });

  it('accepts a will on its own state topic', async () => {
    const secret = await t.addDevice('will-c');
    const client = await t.connectDevice('will-c', secret, {
      will: {
        topic: 'sc/v1/will-c/state',
        payload: Buffer.from('{"online":false,"ts":1}'),
        qos: 1,
        retain: true,
      },
    });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });
});

const skip = redisSkipReason();

describe.skipIf(skip !== null)(
  `a stored will published by a surviving instance${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let redis: RedisServer;
    const brokers: MqttBroker[] = [];
    afterEach(async () => {
      for (const broker of brokers.splice(0)) await broker.stop().catch(() => undefined);
    });
    afterAll(async () => {
      await redis?.cleanup();
    });

    const startBroker = async (brokerId: string) => {
      redis ??= await RedisServer.start();
      const broker = new MqttBroker({
        host: '127.0.0.1',
        port: 0,
        maxPacketBytes: 262_144,
        internalUsername: '_platform',
        internalPassword: 'internal-password-for-tests',
        authenticator: { verifyDeviceSecret: async () => true },
        clock: systemClock,
        logger: silent,
        heartbeatIntervalMs: 100,
        cluster: { redisUrl: redis.url, brokerId },
      });
      await broker.start();
      brokers.push(broker);
      return broker;
    };

    it("is dropped when aimed at another device's topic, while a will on the owner's own topic is published", async () => {
      const dead = await startBroker(`dead-${process.pid}`);
      // Wills stored by an instance that did not check them (an earlier release): one forged, one fair.
      const persistence = (dead as unknown as { aedes: { persistence: WillPersistence } }).aedes.persistence;
      await persistence.putWill(
        { id: 'dev-a' },
        { cmd: 'publish', topic: 'sc/v1/dev-b/cmd', payload: Buffer.from(play(100)), qos: 1, retain: true },
      );
      await persistence.putWill(
        { id: 'dev-c' },
        {
          cmd: 'publish',
          topic: 'sc/v1/dev-c/state',
          payload: Buffer.from('{"online":false,"ts":1}'),
          qos: 1,
          retain: true,
        },
      );
      const survivor = await startBroker(`alive-${process.pid}`);
      const seen: string[] = [];
      await survivor.createBus().subscribe('sc/v1/#', (topic) => seen.push(topic));
      // The dead instance stops announcing itself; after three missed heartbeats its wills are due.
      await dead.stop();
      brokers.splice(brokers.indexOf(dead), 1);

      await vi.waitFor(() => expect(seen).toContain('sc/v1/dev-c/state'), { timeout: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(seen).not.toContain('sc/v1/dev-b/cmd');
      // Gone from the shared store: not retried, not retained, not replayed to dev-b on reconnect.
      const left: unknown[] = [];
      for await (const will of (
        survivor as unknown as { aedes: { persistence: WillPersistence } }
      ).aedes.persistence.streamWill({}))
        left.push(will);
      expect(left).toEqual([]);
      const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${survivor.port}`, {
        clientId: 'dev-b',
        username: 'dev-b',
        password: 'any',
        reconnectPeriod: 0,
      });
      const received: string[] = [];
      device.on('message', (topic) => received.push(topic));
      await device.subscribeAsync('sc/v1/dev-b/cmd', { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received).toEqual([]);
      await device.endAsync();
    });
  },
);

interface WillPersistence {
  putWill(client: { id: string }, packet: Record<string, unknown>): Promise<unknown>;
  streamWill(brokers: Record<string, number>): AsyncIterable<unknown>;
}
