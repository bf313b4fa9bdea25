import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { systemClock } from '../devices/index.js';
import { SimulatedCamera } from '../simulators/onvif-camera/simulated-camera.js';
import { heartbeatPayload } from '../test/support/heartbeat.js';

/*
 * The load generator runs in a child process (node:child_process fork) so the MQTT clients and
 * console sockets do not share an event loop with the broker under test. The parent drives it
 * over IPC with the messages below.
 */

export interface GeneratorDevice {
  id: string;
  /** Empty for an anonymous client (bare brokers). */
  secret: string;
}

export type GeneratorRequest =
  | {
      type: 'connect';
      url: string;
      devices: GeneratorDevice[];
      concurrency: number;
      /** Publish a retained online state after connecting (what firmware does; marks presence). */
      announce: boolean;
      /** Acknowledge play commands with `accepted` then `done` at once. */
      ackBot: boolean;
      /**
       * Reconnect after a lost connection every this many ms, as firmware does (MQTT.js' default
       * 1 s, with its default 30 s CONNECT timeout), announcing again on each connect. Absent: no
       * reconnects.
       */
      reconnectMs?: number;
    }
  | { type: 'mark-reconnect' }
  | { type: 'reconnect-status' }
  | { type: 'publish'; perSecond: number; durationMs: number }
  | { type: 'sockets'; url: string; cookie: string; count: number }
  | { type: 'socket-stats' }
  | { type: 'cameras'; count: number }
  | { type: 'close' };

export type GeneratorReply =
  | { type: 'connected'; connected: number; failed: number; ms: number; firstError: string | null }
  | { type: 'published'; sent: number; ms: number }
  | { type: 'marked' }
  | {
      type: 'reconnect-status';
      /** Clients connected again since the mark. */
      reconnected: number;
      connectedNow: number;
      /** Connections closed since the mark: the broker going away, refused or timed-out attempts. */
      closes: number;
      /** Date.now() of the last reconnect, or null. */
      lastAt: number | null;
    }
  | { type: 'sockets-ready'; connected: number; ms: number }
  | { type: 'socket-stats'; events: number[]; records: number[] }
  | { type: 'cameras-ready'; xaddrs: string[]; ms: number }
  | { type: 'closed' };

const clients: { client: MqttClient; id: string }[] = [];
const sockets: Socket[] = [];
const cameras: SimulatedCamera[] = [];
let socketEvents: number[] = [];
let socketRecords: number[] = [];
let seq = 0;
/** Since the last `mark-reconnect`: clients connected again, connections closed, last connect time. */
let reconnected = new Set<string>();
let closes = 0;
let lastReconnectAt: number | null = null;

function reply(message: GeneratorReply): void {
  process.send?.(message);
}

function heartbeat(ts: number): string {
  return heartbeatPayload({ ts, seq: seq++, uptimeS: 3600 });
}

async function connectOne(
  url: string,
  device: GeneratorDevice,
  announce: boolean,
  ackBot: boolean,
  reconnectMs?: number,
) {
  const client = await mqtt.connectAsync(url, {
    clientId: device.id,
    ...(device.secret ? { username: device.id, password: device.secret } : {}),
    reconnectPeriod: reconnectMs ?? 0,
    connectTimeout: reconnectMs ? 30_000 : 120_000,
    keepalive: 600,
    protocolVersion: 4,
  });
  // Nagle's algorithm would hold each small heartbeat until the previous one is acknowledged
  // (up to the receiver's 40 ms delayed ACK), measuring TCP rather than the broker.
  const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  noDelay();
  clients.push({ client, id: device.id });
  const stateTopic = `sc/v1/${device.id}/state`;
  if (announce) {
    await client.publishAsync(stateTopic, JSON.stringify({ online: true, ts: Date.now() }), {
      qos: 1,
      retain: true,
    });
  }
  if (reconnectMs) {
    // MQTT.js re-subscribes by itself; the online state is the firmware's to publish again.
    client.on('connect', () => {
      noDelay();
      reconnected.add(device.id);
      lastReconnectAt = Date.now();
      if (announce)
        client.publish(stateTopic, JSON.stringify({ online: true, ts: Date.now() }), {
          qos: 1,
          retain: true,
        });
    });
    client.on('close', () => closes++);
  }
  if (ackBot) {
    const ackTopic = `sc/v1/${device.id}/ack`;
    client.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString('utf8')) as { id: string; type: string };
      if (command.type !== 'play') return;
      client.publish(ackTopic, JSON.stringify({ cmdId: command.id, status: 'accepted', ts: Date.now() }), {
        qos: 1,
      });
      client.publish(ackTopic, JSON.stringify({ cmdId: command.id, status: 'done', ts: Date.now() }), {
        qos: 1,
      });
    });
    await client.subscribeAsync(`sc/v1/${device.id}/cmd`, { qos: 1 });
  }
}

async function connectAll(request: Extract<GeneratorRequest, { type: 'connect' }>): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const worker = async () => {
    while (next < request.devices.length) {
      const device = request.devices[next++] as GeneratorDevice;
      try {
        await connectOne(request.url, device, request.announce, request.ackBot, request.reconnectMs);
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, worker));
  reply({ type: 'connected', connected: clients.length, failed, firstError, ms: performance.now() - t0 });
}

/** An MQTT 3.1.1 PUBLISH, QoS 0, not retained (§3.3): fixed header, remaining length, topic, payload. */
function publishPacket(topic: string, payload: string): Buffer {
  const topicBytes = Buffer.from(topic, 'utf8');
  const payloadBytes = Buffer.from(payload, 'utf8');
  let remaining = 2 + topicBytes.length + payloadBytes.length;
  const length: number[] = [];
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    length.push(byte);
  } while (remaining > 0);
  const header = Buffer.from([0x30, ...length, topicBytes.length >> 8, topicBytes.length & 0xff]);
  return Buffer.concat([header, topicBytes, payloadBytes]);
}

/** Heartbeats round-robin over the connections at a steady offered rate, QoS 0 like firmware. */
async function publish(perSecond: number, durationMs: number): Promise<void> {
  const t0 = performance.now();
  let sent = 0;
  let cursor = 0;
  while (performance.now() - t0 < durationMs) {
    const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
    while (sent < due) {
      const entry = clients[cursor++ % clients.length];
      if (!entry) break;
      // Stamped per message: a catch-up burst after a pause here must not count its own length.
      // Written as a ready-made QoS 0 PUBLISH on the client's socket: MQTT.js's publish() costs
      // several times more CPU, which on a 2-core machine is taken from the broker being measured.
      entry.client.stream.write(publishPacket(`sc/v1/${entry.id}/heartbeat`, heartbeat(Date.now())));
      sent++;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  reply({ type: 'published', sent, ms: performance.now() - t0 });
}

async function openSockets(url: string, cookie: string, count: number): Promise<void> {
  const t0 = performance.now();
  socketEvents = new Array<number>(count).fill(0);
  socketRecords = new Array<number>(count).fill(0);
  await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const socket = io(url, {
            path: '/socket.io',
            transports: ['websocket'],
            extraHeaders: { cookie },
            reconnection: false,
          });
          sockets.push(socket);
          socket.on('clusters.delta', (items: unknown[]) => {
            socketEvents[i] = (socketEvents[i] ?? 0) + 1;
            socketRecords[i] = (socketRecords[i] ?? 0) + items.length;
          });
          socket.once('clusters.snapshot', () => resolve());
          socket.once('connect_error', reject);
        }),
    ),
  );
  reply({ type: 'sockets-ready', connected: sockets.length, ms: performance.now() - t0 });
}

/** Simulated ONVIF cameras on ephemeral ports, no WS-Discovery listener. */
async function startCameras(count: number): Promise<void> {
  const t0 = performance.now();
  const logger = pino({ level: 'silent' });
  for (let i = 0; i < count; i++) {
    const camera = new SimulatedCamera({
      name: `Camera ${i}`,
      discoveryPort: null,
      clock: systemClock,
      logger,
      seed: i,
    });
    await camera.start();
    cameras.push(camera);
  }
  reply({
    type: 'cameras-ready',
    xaddrs: cameras.map((c) => c.addresses().deviceXAddr),
    ms: performance.now() - t0,
  });
}

async function closeAll(): Promise<void> {
  await Promise.all(cameras.splice(0).map((c) => c.stop()));
  for (const socket of sockets.splice(0)) socket.disconnect();
  await Promise.all(clients.splice(0).map(({ client }) => client.endAsync(true).catch(() => undefined)));
  reply({ type: 'closed' });
  process.disconnect?.();
}

process.on('message', (request: GeneratorRequest) => {
  const done = (p: Promise<void>) =>
    p.catch((error: unknown) => {
      process.stderr.write(`[load-generator] ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    });
  switch (request.type) {
    case 'connect':
      void done(connectAll(request));
      break;
    case 'publish':
      void done(publish(request.perSecond, request.durationMs));
      break;
    case 'sockets':
      void done(openSockets(request.url, request.cookie, request.count));
      break;
    case 'mark-reconnect':
      reconnected = new Set();
      closes = 0;
      lastReconnectAt = null;
      reply({ type: 'marked' });
      break;
    case 'reconnect-status':
      reply({
        type: 'reconnect-status',
        reconnected: reconnected.size,
        connectedNow: clients.filter(({ client }) => client.connected).length,
        closes,
        lastAt: lastReconnectAt,
      });
      break;
    case 'socket-stats':
      reply({ type: 'socket-stats', events: [...socketEvents], records: [...socketRecords] });
      break;
    case 'cameras':
      void done(startCameras(request.count));
      break;
    case 'close':
      void done(closeAll());
      break;
  }
});
