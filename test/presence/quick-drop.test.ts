import { connect } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * A 4G link that drops right after it connected: the device's connection ends within a few
 * milliseconds of its CONNECT. Presence must end offline, with the reason the connection gave,
 * not stay online until the heartbeat timeout.
 */
describe('a connection that drops as soon as it is made', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(() => t.close());

  it('leaves the device offline with the reason of the drop, every time', async () => {
    const secret = await t.addDevice('hd-c05');
    const port = Number(new URL(t.mqttUrl).port);
    const connectPacket = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'hd-c05',
      username: 'hd-c05',
      password: Buffer.from(secret),
      keepalive: 60,
    });
    const wrongOnline: number[] = [];
    for (let i = 0; i < 60; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.write(connectPacket);
          // Gone before the broker answers, as it answers, or just after.
          if (i % 3 === 0) setTimeout(() => socket.destroy(), i % 5);
        });
        socket.once('data', () => setTimeout(() => socket.destroy(), i % 3 === 1 ? 0 : 3));
        socket.on('close', () => resolve());
        socket.on('error', () => undefined);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (t.platform.presence.isOnline('hd-c05')) wrongOnline.push(i);
    }
    expect(wrongOnline).toEqual([]);
    expect(t.platform.presence.status('hd-c05').reason).toBe('connection-lost');
  });
});
