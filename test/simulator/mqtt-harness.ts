import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { Aedes } from 'aedes';
import type { MqttClient } from 'mqtt';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import type { TopicKind } from '../../devices/index.js';
import { parseTopic, topicFor } from '../../devices/index.js';
import type { SimulatedClusterOptions } from '../../simulators/speaker-cluster/cluster-options.js';
import { SimulatedCluster } from '../../simulators/speaker-cluster/simulated-cluster.js';
import { ManualClock } from '../support/manual-clock.js';

export interface Received {
  topic: string;
  deviceId: string | null;
  kind: TopicKind | null;
  payload: Buffer;
  /** The parsed payload, or undefined when it is not JSON. */
  json: unknown;
  retain: boolean;
}

type Predicate = (message: Received) => boolean;

/** How long a test waits for a message before failing with a description (a guard, not a delay). */
const WAIT_LIMIT_MS = 5_000;

/** A real MQTT.js client subscribed to every protocol topic, recording what it receives. */
export class Observer {
  readonly messages: Received[] = [];
  private readonly waiters = new Set<{ predicate: Predicate; resolve: (message: Received) => void }>();
  private probes = 0;

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const parsed = parseTopic(topic);
      const message: Received = {
        topic,
        deviceId: parsed?.deviceId ?? null,
        kind: parsed?.kind ?? null,
        payload,
        json: parseJson(payload),
        retain: packet.retain,
      };
      this.messages.push(message);
      for (const waiter of [...this.waiters]) {
        if (!waiter.predicate(message)) continue;
        this.waiters.delete(waiter);
        waiter.resolve(message);
      }
    });
  }

  /** Every message received so far that matches. */
  all(predicate: Predicate): Received[] {
    return this.messages.filter(predicate);
  }

  /** The first message, already received or still to come, that matches. */
  waitFor(predicate: Predicate, what: string): Promise<Received> {
    const seen = this.messages.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (message: Received) => {
          clearTimeout(guard);
          resolve(message);
        },
      };
      const guard = setTimeout(() => {
        this.waiters.delete(waiter);
        const recent = this.messages
          .slice(-10)
          .map((m) => `${m.topic} ${m.payload.toString('utf8').slice(0, 200)}`);
        reject(new Error(`no ${what} within ${WAIT_LIMIT_MS} ms; last messages:\n${recent.join('\n')}`));
      }, WAIT_LIMIT_MS);
      this.waiters.add(waiter);
    });
  }

  /** Waits until n messages match, and returns them all. */
  async waitForCount(predicate: Predicate, count: number, what: string): Promise<Received[]> {
    await this.waitFor(() => this.all(predicate).length >= count, `${count} × ${what}`);
    return this.all(predicate);
  }

  /**
   * Publishes a probe to itself and waits for it: everything the broker routed to this client
   * before the probe has then arrived.
   */
  async barrier(): Promise<void> {
    const topic = `probe/${++this.probes}`;
    const arrived = this.waitFor((m) => m.topic === topic, `probe ${topic}`);
    await this.client.publishAsync(topic, 'probe', { qos: 1 });
    await arrived;
  }

  async sendCommand(deviceId: string, command: unknown): Promise<void> {
    const payload = typeof command === 'string' ? command : JSON.stringify(command);
    await this.client.publishAsync(topicFor(deviceId, 'cmd'), payload, { qos: 1 });
  }
}

export const is =
  (deviceId: string, kind: TopicKind, match: Record<string, unknown> = {}): Predicate =>
  (message) =>
    message.deviceId === deviceId &&
    message.kind === kind &&
    typeof message.json === 'object' &&
    message.json !== null &&
    Object.entries(match).every(([key, value]) => (message.json as Record<string, unknown>)[key] === value);

export const onTopic =
  (deviceId: string, kind: TopicKind): Predicate =>
  (message) =>
    message.deviceId === deviceId && message.kind === kind;

export interface Harness {
  broker: Aedes;
  url: string;
  clock: ManualClock;
  observer: Observer;
  /** Creates a cluster on this broker and clock; close() stops it. */
  cluster(options?: Partial<SimulatedClusterOptions>): SimulatedCluster;
  /** Creates and starts a cluster, and waits for its online state to reach the observer. */
  startCluster(options?: Partial<SimulatedClusterOptions>): Promise<SimulatedCluster>;
  connectClient(clientId: string): Promise<MqttClient>;
  close(): Promise<void>;
}

/** A real Aedes broker on an ephemeral port with an observer client subscribed to `sc/v1/#`. */
export async function startHarness(): Promise<Harness> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clock = new ManualClock();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const clusters: SimulatedCluster[] = [];
  const clients: MqttClient[] = [];

  const connectClient = async (clientId: string) => {
    const client = await connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(client);
    return client;
  };
  const observerClient = await connectClient('observer');
  await observerClient.subscribeAsync(['sc/v1/#', 'probe/#'], { qos: 1 });
  const observer = new Observer(observerClient);

  const cluster = (options: Partial<SimulatedClusterOptions> = {}) => {
    const created = new SimulatedCluster({
      deviceId: 'hd-01',
      secret: 'not-checked-by-this-broker',
      url,
      clock,
      logger,
      ...options,
    });
    clusters.push(created);
    return created;
  };

  return {
    broker,
    url,
    clock,
    observer,
    cluster,
    async startCluster(options) {
      const created = cluster(options);
      await created.start();
      await observer.waitFor(is(created.deviceId, 'state', { online: true }), 'online state');
      return created;
    },
    connectClient,
    async close() {
      await Promise.all(clusters.map((c) => c.stop()));
      await Promise.all(clients.map((c) => c.endAsync()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    // Malformed payloads are part of what these tests observe; they are kept as raw bytes.
    return undefined;
  }
}
