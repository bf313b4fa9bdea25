import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

describe('retained messages on the embedded broker', () => {
  let t: TestPlatform;
  const clients: mqtt.MqttClient[] = [];
  beforeEach(async () => {
    t = await startTestPlatform();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.endAsync();
    await t.close();
  });

  const connect = async (clientId: string) => {
    const client = await mqtt.connectAsync(t.mqttUrl, {
      ...t.platform.internalMqttCredential,
      clientId,
      reconnectPeriod: 0,
    });
    clients.push(client);
    return client;
  };

  /** What a fresh subscriber to `filter` receives as retained, by topic. */
  const retainedFor = async (filter: string) => {
    const client = await connect(`reader-${Math.random().toString(36).slice(2)}`);
    const seen = new Map<string, string>();
    client.on('message', (topic, payload, packet) => {
      if (packet.retain) seen.set(topic, payload.toString());
    });
    await client.subscribeAsync(filter, { qos: 1 });
    // A marker published after the subscription arrives after every retained message.
    await client.subscribeAsync('sc/v1/marker', { qos: 1 });
    const marker = new Promise<void>((resolve) =>
      client.on('message', (topic) => topic === 'sc/v1/marker' && resolve()),
    );
    await client.publishAsync('sc/v1/marker', 'x', { qos: 1 });
    await marker;
    return Object.fromEntries([...seen].sort());
  };

  it('hands each new subscriber the retained messages its filter matches, and forgets cleared ones', async () => {
    const writer = await connect('writer');
    await writer.publishAsync('sc/v1/hd-c01/state', 'one', { qos: 1, retain: true });
    await writer.publishAsync('sc/v1/hd-c02/state', 'two', { qos: 1, retain: true });
    await writer.publishAsync('sc/v1/hd-c02/config', 'cfg', { qos: 1, retain: true });
    await writer.publishAsync('sc/v1/hd-c02/state', 'two again', { qos: 1, retain: true });

    await vi.waitFor(async () =>
      expect(await retainedFor('sc/v1/+/state')).toEqual({
        'sc/v1/hd-c01/state': 'one',
        'sc/v1/hd-c02/state': 'two again',
      }),
    );
    expect(await retainedFor('sc/v1/hd-c02/#')).toEqual({
      'sc/v1/hd-c02/config': 'cfg',
      'sc/v1/hd-c02/state': 'two again',
    });

    await writer.publishAsync('sc/v1/hd-c01/state', '', { qos: 1, retain: true });
    expect(await retainedFor('sc/v1/+/state')).toEqual({ 'sc/v1/hd-c02/state': 'two again' });
  });
});
