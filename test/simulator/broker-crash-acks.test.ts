import type { AddressInfo, Socket } from 'node:net';
import net from 'node:net';
import { Aedes } from 'aedes';
import type { MqttClient } from 'mqtt';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AckSchema, buildCommand } from '../../devices/index.js';
import { SimulatedCluster } from '../../simulators/speaker-cluster/simulated-cluster.js';
import { ManualClock } from '../support/manual-clock.js';
import { is, Observer } from './mqtt-harness.js';

const DEVICE = 'hd-01';

interface RunningBroker {
  /** Kills the broker as a crash would: every socket destroyed at once, no DISCONNECT, no PUBACK. */
  crash(): Promise<void>;
  close(): Promise<void>;
  /** When set, the next ack a client publishes is never acknowledged: the broker crashes on it. */
  crashOnNextAck: boolean;
  /** Resolves once the broker has crashed on an ack that was in flight. */
  crashedOnAck: Promise<void>;
}

async function startBroker(port: number): Promise<RunningBroker & { port: number }> {
  let crashedOnAck = () => {};
  const sockets = new Set<Socket>();
  let closed = false;
  const running: RunningBroker = {
    crashOnNextAck: false,
    crashedOnAck: new Promise<void>((resolve) => {
      crashedOnAck = resolve;
    }),
    async crash() {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
    async close() {
      await running.crash();
    },
  };
  const broker = await Aedes.createBroker({
    authorizePublish: (_client, packet, callback) => {
      if (running.crashOnNextAck && packet.topic.endsWith('/ack')) {
        // The ack reached the broker, which dies before routing it or sending its PUBACK.
        running.crashOnNextAck = false;
        void running.crash().then(crashedOnAck);
        return;
      }
      callback(null);
    },
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(running, { port: (server.address() as AddressInfo).port });
}

describe('simulated cluster: acks after a broker crash', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const observe = async (url: string, clientId: string): Promise<Observer> => {
    const client: MqttClient = await connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync(true));
    await client.subscribeAsync(['sc/v1/+/ack', 'sc/v1/+/state'], { qos: 1 });
    return new Observer(client);
  };

  it('keeps acking new commands, and re-sends stored acks, once the broker is back', async () => {
    const first = await startBroker(0);
    const { port } = first;
    cleanups.push(() => first.close());
    const url = `mqtt://127.0.0.1:${port}`;
    const clock = new ManualClock();
    const cluster = new SimulatedCluster({
      deviceId: DEVICE,
      secret: 'not-checked-by-this-broker',
      url,
      clock,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    cleanups.push(() => cluster.stop());

    const before = await observe(url, 'observer-before');
    await cluster.start();
    await before.waitFor(is(DEVICE, 'state', { online: true }), 'online state');

    const acked = buildCommand('volume', { level: 40 }, clock.now());
    await before.sendCommand(DEVICE, acked);
    await before.waitFor(is(DEVICE, 'ack', { cmdId: acked.id, status: 'done' }), 'done ack before the crash');

    // The broker dies while the cluster's ack for this command is in flight (sent, no PUBACK).
    first.crashOnNextAck = true;
    const inFlight = buildCommand('ping', {}, clock.now());
    await before.sendCommand(DEVICE, inFlight);
    await first.crashedOnAck;
    await vi.waitFor(() => expect(cluster.connected).toBe(false));

    const second = await startBroker(port);
    cleanups.push(() => second.close());
    const after = await observe(url, 'observer-after');
    // The reconnect waits on the cluster's clock: move it until the backoff timer has fired.
    await vi.waitFor(
      () => {
        clock.advance(1_000);
        expect(cluster.connected).toBe(true);
      },
      { timeout: 5_000, interval: 50 },
    );
    await after.waitFor(is(DEVICE, 'state', { online: true }), 'online state after the restart');

    const fresh = Array.from({ length: 5 }, (_, i) => buildCommand('volume', { level: 10 + i }, clock.now()));
    for (const command of fresh) await after.sendCommand(DEVICE, command);
    for (const command of fresh) {
      await after.waitFor(
        is(DEVICE, 'ack', { cmdId: command.id, status: 'done' }),
        `done ack for ${command.id}`,
      );
    }
    const wire = (cmdId: string) =>
      after.all(is(DEVICE, 'ack', { cmdId })).map((m) => AckSchema.parse(m.json).status);
    for (const command of fresh) expect(wire(command.id)).toEqual(['accepted', 'done']);

    // A command sent again after the restart is not executed twice; its stored ack goes out again.
    await after.sendCommand(DEVICE, acked);
    const resent = await after.waitFor(is(DEVICE, 'ack', { cmdId: acked.id }), 'the re-sent ack');
    expect(AckSchema.parse(resent.json)).toMatchObject({ cmdId: acked.id, status: 'done' });
    expect(cluster.status()).toMatchObject({ volume: 14, duplicateCommands: 1 });
  });
});
