import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { LoginThrottleOptions } from '../../broker/login-throttle.js';
import type { Clock } from '../../devices/index.js';
import { type Config, loadConfig } from '../../services/config.js';
import { Platform } from '../../services/platform/platform.js';

export interface TestPlatform {
  platform: Platform;
  dataDir: string;
  mqttUrl: string;
  httpUrl: string;
  /** Registers a cluster in a test village and returns its freshly issued secret. */
  addDevice(id: string, options?: { heartbeatTimeoutS?: number }): Promise<string>;
  /** An MQTT.js client that is closed with the platform. */
  connect(options: IClientOptions): Promise<MqttClient>;
  /** Connects as a registered device with its own credentials. */
  connectDevice(id: string, secret: string, options?: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

/**
 * A real platform on ephemeral ports with a fresh SQLite file in a temp dir. Only the clock may be
 * replaced; everything else (broker, sockets, database) is the production code.
 */
export async function startTestPlatform(
  options: {
    clock?: Clock;
    config?: Partial<Config>;
    loginThrottle?: LoginThrottleOptions;
    dataDir?: string;
  } = {},
): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sc-test-'));
  const config = loadConfig(
    {},
    {
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 0,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: 0,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      ...options.config,
    },
  );
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const platform = new Platform({
    config,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.loginThrottle ? { loginThrottle: options.loginThrottle } : {}),
  });
  await platform.start();
  const clients: MqttClient[] = [];
  const mqttUrl = `mqtt://127.0.0.1:${platform.mqttPort}`;
  let villageReady = false;

  const connect = async (clientOptions: IClientOptions) => {
    const client = await mqtt.connectAsync(mqttUrl, {
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...clientOptions,
    });
    clients.push(client);
    return client;
  };

  return {
    platform,
    dataDir,
    mqttUrl,
    httpUrl: `http://127.0.0.1:${platform.httpPort}`,
    async addDevice(id, deviceOptions = {}) {
      if (!villageReady) {
        platform.registry.createCommune({ id: 'test-commune', name: 'Xã Thử' });
        platform.registry.createVillage({ id: 'test-village', communeId: 'test-commune', name: 'Thôn Thử' });
        villageReady = true;
      }
      platform.registry.createCluster({
        id,
        villageId: 'test-village',
        name: `Cụm ${id}`,
        location: { lat: 21.3, lon: 105.5 },
        heartbeatTimeoutS: deviceOptions.heartbeatTimeoutS ?? null,
      });
      if (deviceOptions.heartbeatTimeoutS)
        platform.presence.setTimeoutOverride(id, deviceOptions.heartbeatTimeoutS);
      return (await platform.registry.issueSecret(id)).secret;
    },
    connect,
    connectDevice: (id, secret, clientOptions = {}) =>
      connect({ clientId: id, username: id, password: secret, ...clientOptions }),
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await platform.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the first message on a topic matching the predicate. */
export function nextMessage(
  client: MqttClient,
  predicate: (topic: string, payload: Buffer) => boolean = () => true,
): Promise<{ topic: string; payload: Buffer }> {
  return new Promise((resolve) => {
    const onMessage = (topic: string, payload: Buffer) => {
      if (!predicate(topic, payload)) return;
      client.off('message', onMessage);
      resolve({ topic, payload });
    };
    client.on('message', onMessage);
  });
}

export function heartbeat(seq: number, overrides: Record<string, unknown> = {}, ts = Date.now()) {
  return JSON.stringify({
    ts,
    seq,
    uptimeS: seq * 30,
    rssiDbm: -71,
    net: '4g',
    volume: 70,
    power: true,
    playing: false,
    speakers: [
      { idx: 1, ok: true },
      { idx: 2, ok: true },
    ],
    tempC: 36.5,
    supplyV: 12.6,
    ...overrides,
  });
}

// biome-ignore lint/suspicious/noExplicitAny: assertions walk response bodies of many shapes
export type Json = any;

/** GET (or another method) against the platform's real HTTP port, returning status and JSON body. */
export async function api(
  baseUrl: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await response.text();
  let body: Json = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (metrics, HTML): the raw text is the body.
  }
  return { status: response.status, body, headers: response.headers };
}
