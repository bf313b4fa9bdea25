import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type Logger, pino } from 'pino';
import type { LoginThrottleOptions } from '../../broker/login-throttle.js';
import type { Role } from '../../contracts/accounts.js';
import type { Clock } from '../../devices/index.js';
import { DEFAULT_CAMERA_NETWORKS } from '../../devices/onvif-camera/address-policy.js';
import { type Config, loadConfig } from '../../services/config.js';
import type { DemoSimulators } from '../../services/demo/demo-routes.js';
import { Platform } from '../../services/platform/platform.js';
import { heartbeatPayload } from './heartbeat.js';

export const TEST_ADMIN_PASSWORD = 'admin-password-for-tests';
/**
 * Password hashing in tests runs scrypt for real at a low cost (N=2^10). The cost is recorded in
 * each hash, exactly as production's higher one is.
 */
export const TEST_PASSWORD_PARAMS = { N: 1024, r: 8, p: 1 };

export type As = Role | 'anonymous' | { headers: Record<string, string> };

export interface TestPlatform {
  platform: Platform;
  dataDir: string;
  mqttUrl: string;
  httpUrl: string;
  /** Calls the API signed in as the given role (default admin), through a real session cookie. */
  api(path: string, init?: ApiInit & { as?: As }): Promise<ApiResponse>;
  /** Signs in (creating the account on first use) and returns the session cookie header. */
  /** A signed-in account of one role; limited to one commune, several, or a province when asked. */
  headersFor(role: Role, options?: AccountScopeOptions): Promise<Record<string, string>>;
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
/** Where a test account may act: one commune, several, or a province. */
export interface AccountScopeOptions {
  communeId?: string;
  communeIds?: string[];
  provinceId?: string;
}

export async function startTestPlatform(
  options: {
    clock?: Clock;
    config?: Partial<Config>;
    loginThrottle?: LoginThrottleOptions;
    /** The platform's logger (default silent, or TEST_LOG_LEVEL). */
    logger?: Logger;
    dataDir?: string;
    /** Receives the generated first-admin password message instead of stdout. */
    announce?: (message: string) => void;
    /** The built console to serve; default none, so suites do not depend on a local build. */
    webRoot?: string;
    demo?: boolean;
    /** Demo mode's simulated devices, for the fault-injection routes. */
    simulators?: DemoSimulators;
    /** Runs on the constructed platform before it starts (to listen ahead of its services). */
    beforeStart?: (platform: Platform) => void;
  } = {},
): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sc-test-'));
  const config = loadConfig(
    {},
    {
      ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 0,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: 0,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      // A small reserve: hundreds of platforms start in a run (the disk-full suite sets its own).
      DISK_RESERVE_MB: 1,
      // The simulated cameras listen on loopback.
      CAMERA_NETWORKS: [...DEFAULT_CAMERA_NETWORKS, '127.0.0.0/8', '::1'],
      ...options.config,
    },
  );
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const platform = new Platform({
    config,
    logger,
    passwordParams: TEST_PASSWORD_PARAMS,
    announce: options.announce ?? (() => undefined),
    ...(options.clock ? { clock: options.clock } : {}),
    // A folder without index.html serves no console: the API behaves the same on every checkout.
    webRoot: options.webRoot ?? join(dataDir, 'no-console'),
    ...(options.demo ? { demo: true } : {}),
    ...(options.simulators ? { simulators: options.simulators } : {}),
    ...(options.loginThrottle ? { loginThrottle: options.loginThrottle } : {}),
  });
  options.beforeStart?.(platform);
  await platform.start();
  const clients: MqttClient[] = [];
  // With MQTT_URL the devices' broker is that external one.
  const mqttUrl = config.MQTT_URL ?? `mqtt://127.0.0.1:${platform.mqttPort}`;
  const httpUrl = `${platform.httpScheme}://127.0.0.1:${platform.httpPort}`;
  let villageReady = false;
  const sessions = new Map<string, Record<string, string>>();

  const signIn = async (username: string, password: string) => {
    const response = await api(httpUrl, '/api/v1/auth/login', {
      method: 'POST',
      body: { username, password },
    });
    if (response.status !== 200) throw new Error(`sign-in as ${username} failed: ${response.status}`);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
    return { cookie };
  };
  const headersFor = async (role: Role, roleOptions: AccountScopeOptions = {}) => {
    const scope =
      roleOptions.communeId ??
      (roleOptions.provinceId ? `tinh-${roleOptions.provinceId}` : roleOptions.communeIds?.join('.'));
    const key = `${role}:${scope ?? ''}`;
    const cached = sessions.get(key);
    if (cached) return cached;
    let headers: Record<string, string>;
    if (role === 'admin' && !scope) {
      headers = await signIn('admin', TEST_ADMIN_PASSWORD);
    } else {
      const username = `${role}-${scope ?? 'all'}`;
      const password = `${username}-password`;
      // A platform restarted on the same data directory already has the account.
      const existing = (await platform.auth.listUsers({ limit: 1_000, offset: 0 })).items.find(
        (u) => u.username === username,
      );
      if (existing) {
        await platform.auth.resetPassword(existing.id, password);
      } else {
        await platform.auth.createUser({
          username,
          displayName: `Thử ${role}`,
          password,
          roles: [role],
          ...(roleOptions.communeIds ? { communeIds: roleOptions.communeIds } : {}),
          ...(roleOptions.provinceId ? { provinceId: roleOptions.provinceId } : {}),
          ...(roleOptions.communeIds ? {} : { communeId: roleOptions.communeId ?? null }),
        });
      }
      headers = await signIn(username, password);
    }
    sessions.set(key, headers);
    return headers;
  };

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
    httpUrl,
    headersFor,
    async api(path, init = {}) {
      const { as = 'admin', ...rest } = init;
      const headers = as === 'anonymous' ? {} : typeof as === 'object' ? as.headers : await headersFor(as);
      return api(httpUrl, path, { ...rest, headers: { ...headers, ...rest.headers } });
    },
    async addDevice(id, deviceOptions = {}) {
      if (!villageReady) {
        await platform.registry.createCommune({ id: 'test-commune', name: 'Xã Thử' });
        await platform.registry.createVillage({
          id: 'test-village',
          communeId: 'test-commune',
          name: 'Thôn Thử',
        });
        villageReady = true;
      }
      await platform.registry.createCluster({
        id,
        villageId: 'test-village',
        name: `Cụm ${id}`,
        location: { lat: 21.3, lon: 105.5 },
        heartbeatTimeoutS: deviceOptions.heartbeatTimeoutS ?? null,
      });
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

/** A healthy heartbeat with sequence number `seq`, `seq` × 30 s after boot. */
export function heartbeat(seq: number, overrides: Record<string, unknown> = {}, ts = Date.now()) {
  return heartbeatPayload({ ts, seq, uptimeS: seq * 30 }, overrides);
}

// biome-ignore lint/suspicious/noExplicitAny: assertions walk response bodies of many shapes
export type Json = any;

export interface ApiInit {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}
export interface ApiResponse {
  status: number;
  body: Json;
  headers: Headers;
}

/** A request against the platform's real HTTP port, returning status, JSON body and headers. */
export async function api(baseUrl: string, path: string, init: ApiInit = {}): Promise<ApiResponse> {
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
