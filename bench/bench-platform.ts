import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_CAMERA_NETWORKS } from '../devices/onvif-camera/address-policy.js';
import { type Config, loadConfig } from '../services/config.js';
import { Platform } from '../services/platform/platform.js';

export const BENCH_ADMIN_PASSWORD = 'bench-admin-password';
/** The admin account's password hash uses a low scrypt cost: the bench signs in often. */
const ADMIN_PASSWORD_PARAMS = { N: 1024, r: 8, p: 1 };

export interface BenchPlatform {
  platform: Platform;
  dataDir: string;
  mqttUrl: string;
  httpUrl: string;
  /** Signs in as the admin and returns the session cookie (`name=value`). */
  login(): Promise<string>;
  /** Stops the platform and keeps its data dir (for a restart on it). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export interface FleetDevice {
  id: string;
  secret: string;
}

/** Progress for long phases goes to stderr, so stdout holds only the result tables. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** A size list from the environment (`BENCH_X_SIZES=1000,10000`), or the defaults. */
export function sizesFrom(name: string, defaults: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return defaults;
  return raw
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isFinite(n) && n > 0);
}

/** The production platform on ephemeral ports with a temp data dir, as `npm start` builds it. */
export async function startBenchPlatform(
  config: Partial<Config> = {},
  options: { dataDir?: string } = {},
): Promise<BenchPlatform> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sc-bench-'));
  const platform = new Platform({
    config: loadConfig(
      {},
      {
        DATA_DIR: dataDir,
        // The simulated cameras listen on loopback.
        CAMERA_NETWORKS: [...DEFAULT_CAMERA_NETWORKS, '127.0.0.0/8'],
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: 0,
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: 0,
        ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
        LOG_LEVEL: 'silent',
        ...config,
      },
    ),
    logger: pino({ level: 'silent' }),
    passwordParams: ADMIN_PASSWORD_PARAMS,
    announce: () => undefined,
    webRoot: join(dataDir, 'no-console'),
  });
  await platform.start();
  const httpUrl = `http://127.0.0.1:${platform.httpPort}`;
  return {
    platform,
    dataDir,
    mqttUrl: `mqtt://127.0.0.1:${platform.mqttPort}`,
    httpUrl,
    async login() {
      const response = await fetch(`${httpUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: BENCH_ADMIN_PASSWORD }),
      });
      if (response.status !== 200) throw new Error(`admin login answered ${response.status}`);
      return (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
    },
    async stop() {
      await platform.stop();
    },
    async close() {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers `count` clusters in one bench commune (villages of 100) and issues each its own secret
 * through the registry, as the API does.
 */
export async function registerFleet(
  platform: Platform,
  count: number,
  prefix = 'bc',
): Promise<{ devices: FleetDevice[]; issueMs: number }> {
  const registry = platform.registry;
  const communeId = `bench-${prefix}`;
  await registry.createCommune({ id: communeId, name: `Xã Bench ${prefix}` });
  const devices: FleetDevice[] = [];
  for (let i = 0; i < count; i++) {
    const villageId = `${communeId}-v${Math.floor(i / 100)}`;
    if (i % 100 === 0)
      await registry.createVillage({ id: villageId, communeId, name: `Thôn ${Math.floor(i / 100)}` });
    const id = `${prefix}-${String(i).padStart(5, '0')}`;
    await registry.createCluster({
      id,
      villageId,
      name: `Cụm ${id}`,
      location: { lat: 21.3 + i / 1e5, lon: 105.5 },
      heartbeatTimeoutS: null,
    });
    devices.push({ id, secret: '' });
  }
  const t0 = performance.now();
  let next = 0;
  let issued = 0;
  const worker = async () => {
    while (next < devices.length) {
      const device = devices[next++] as FleetDevice;
      device.secret = (await registry.issueSecret(device.id)).secret;
      if (++issued % 1000 === 0) progress(`issued ${issued}/${count} device secrets`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { devices, issueMs: performance.now() - t0 };
}

/** Heap and RSS after a full GC (`--expose-gc`, or switched on at run time when absent). */
export async function measureMemory(): Promise<{
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  gc: boolean;
}> {
  const gc = await gcFunction();
  if (gc) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
    gc();
  }
  const m = process.memoryUsage();
  return {
    rssMb: m.rss / 1_048_576,
    heapUsedMb: m.heapUsed / 1_048_576,
    heapTotalMb: m.heapTotal / 1_048_576,
    externalMb: m.external / 1_048_576,
    gc: gc !== null,
  };
}

let cachedGc: (() => void) | null | undefined;
async function gcFunction(): Promise<(() => void) | null> {
  if (cachedGc !== undefined) return cachedGc;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) {
    cachedGc = exposed;
    return exposed;
  }
  try {
    // Without node --expose-gc: V8 lets the flag be set late; a fresh context then sees gc().
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    cachedGc = runInNewContext('gc') as () => void;
  } catch {
    cachedGc = null;
  }
  return cachedGc;
}
