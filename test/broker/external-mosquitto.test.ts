import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommandSchema } from '../../devices/index.js';
import {
  Mosquitto,
  mosquittoSkipReason,
  type PlatformOnMosquitto,
  startPlatformOn,
} from '../support/mosquitto.js';
import { heartbeat, nextMessage } from '../support/platform-harness.js';

const skip = mosquittoSkipReason();

const PLATFORM_USER = '_platform';
const PLATFORM_PASSWORD = 'internal-password-for-mosquitto-tests';
/** Devices authenticate against Mosquitto's password file, not the platform's registry. */
const DEVICE_PASSWORDS = { 'cum-m1': 'cum-m1-mosquitto-password', 'cum-m2': 'cum-m2-mosquitto-password' };

describe.skipIf(skip !== null)(
  `the platform on an external Mosquitto${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let mosquitto: Mosquitto;
    let on: PlatformOnMosquitto;
    const clients: MqttClient[] = [];

    beforeAll(async () => {
      mosquitto = await Mosquitto.start({
        platformUser: PLATFORM_USER,
        users: { [PLATFORM_USER]: PLATFORM_PASSWORD, ...DEVICE_PASSWORDS },
      });
      on = await startPlatformOn(mosquitto, {
        credential: { username: PLATFORM_USER, password: PLATFORM_PASSWORD },
      });
      const { platform } = on;
      await platform.registry.createCommune({ id: 'test-commune', name: 'Xã Thử' });
      await platform.registry.createVillage({
        id: 'test-village',
        communeId: 'test-commune',
        name: 'Thôn Thử',
      });
      for (const id of Object.keys(DEVICE_PASSWORDS)) {
        await platform.registry.createCluster({
          id,
          villageId: 'test-village',
          name: `Cụm ${id}`,
          location: { lat: 21.3, lon: 105.5 },
          heartbeatTimeoutS: null,
        });
      }
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await on?.close();
      await mosquitto?.cleanup();
    });

    const call: PlatformOnMosquitto['call'] = (path, init) => on.call(path, init);

    const connectDevice = async (id: keyof typeof DEVICE_PASSWORDS) => {
      const client = await mqtt.connectAsync(mosquitto.url, {
        clientId: id,
        username: id,
        password: DEVICE_PASSWORDS[id],
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      });
      clients.push(client);
      return client;
    };

    it('reports the broker as external', async () => {
      const health = await call('/healthz');
      expect(health.status).toBe(200);
      expect(health.body.broker).toEqual({ embedded: false, connectedClients: null });
    });

    it('brings a device online, records its heartbeat, and delivers a command whose ack is recorded', async () => {
      const device = await connectDevice('cum-m1');
      await device.subscribeAsync('sc/v1/cum-m1/cmd', { qos: 1 });
      await device.publishAsync('sc/v1/cum-m1/state', JSON.stringify({ online: true, ts: Date.now() }), {
        qos: 1,
        retain: true,
      });
      await device.publishAsync('sc/v1/cum-m1/heartbeat', heartbeat(1, { volume: 61, rssiDbm: -64 }), {
        qos: 0,
      });

      await vi.waitFor(async () => {
        const cluster = await call('/api/v1/clusters/cum-m1');
        expect(cluster.body.status).toMatchObject({ online: true, volume: 61, signalDbm: -64 });
      });

      const received = nextMessage(device);
      const pending = call('/api/v1/devices/cum-m1/commands?waitMs=5000', {
        method: 'POST',
        body: { type: 'volume', level: 20 },
      });
      const command = CommandSchema.parse(JSON.parse((await received).payload.toString()));
      expect(command).toMatchObject({ type: 'volume', level: 20 });
      const ack = (status: string) => JSON.stringify({ cmdId: command.id, status, ts: Date.now() });
      await device.publishAsync('sc/v1/cum-m1/ack', ack('accepted'), { qos: 1 });
      await device.publishAsync('sc/v1/cum-m1/ack', ack('done'), { qos: 1 });

      const response = await pending;
      expect(response.status).toBe(202);
      expect(response.body).toMatchObject({ id: command.id, status: 'done' });
      const list = await call('/api/v1/devices/cum-m1/commands');
      expect(list.body.items[0]).toMatchObject({ id: command.id, status: 'done' });
    });

    it("drops a device's publish to another device's topic at Mosquitto's ACL", async () => {
      const intruder = await connectDevice('cum-m1');
      const before = (await call('/api/v1/clusters/cum-m2')).body.status;
      expect(before.lastSeen).toBeNull();

      // MQTT 3.1.1 has no refusal for a PUBLISH: Mosquitto acknowledges it and drops it.
      await intruder.publishAsync('sc/v1/cum-m2/heartbeat', heartbeat(7, { volume: 99 }), { qos: 1 });
      await intruder.publishAsync('sc/v1/cum-m2/state', JSON.stringify({ online: true, ts: Date.now() }), {
        qos: 1,
      });
      // One connection's messages arrive in order [MQTT-4.6.0-5], so once this marker is recorded the
      // forged ones would have been too.
      await intruder.publishAsync('sc/v1/cum-m1/heartbeat', heartbeat(8, { volume: 13 }), { qos: 1 });
      await vi.waitFor(async () => {
        const own = await call('/api/v1/clusters/cum-m1');
        expect(own.body.status.volume).toBe(13);
      });

      const after = (await call('/api/v1/clusters/cum-m2')).body.status;
      expect(after).toMatchObject({ online: false, lastSeen: null, volume: null });
    });

    it("never delivers another device's commands to a device that subscribes to them", async () => {
      const snoop = await connectDevice('cum-m2');
      const seen: string[] = [];
      snoop.on('message', (topic) => seen.push(topic));
      // Mosquitto 2.0 grants the SUBACK and applies the read ACL to each delivery instead.
      await snoop.subscribeAsync(['sc/v1/cum-m1/cmd', 'sc/v1/cum-m2/cmd'], { qos: 1 });

      const send = (id: string) =>
        call(`/api/v1/devices/${id}/commands?force=true`, { method: 'POST', body: { type: 'ping' } });
      expect((await send('cum-m1')).status).toBe(202);
      expect((await send('cum-m2')).status).toBe(202);
      // Both come from the platform's one connection, in order: once the second is here, the
      // first would have been.
      await vi.waitFor(() => expect(seen).toContain('sc/v1/cum-m2/cmd'));
      expect(seen).not.toContain('sc/v1/cum-m1/cmd');
    });
  },
);
