import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../../services/config.js';
import { Platform } from '../../services/platform/platform.js';
import {
  type ApiInit,
  type ApiResponse,
  api,
  TEST_ADMIN_PASSWORD,
  TEST_PASSWORD_PARAMS,
} from './platform-harness.js';
import { freePort, spawnUntilReady, stopProcess } from './server-process.js';

/** Debian's `mosquitto` package (2.0): the external broker CI runs the platform against. */
export const MOSQUITTO = process.env.MOSQUITTO_PATH ?? '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = process.env.MOSQUITTO_PASSWD_PATH ?? '/usr/bin/mosquitto_passwd';
/** The package ships the dynamic security plugin and mosquitto_ctrl too. */
export const DYNSEC_PLUGIN =
  process.env.MOSQUITTO_DYNSEC_PLUGIN_PATH ?? '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
export const MOSQUITTO_CTRL = process.env.MOSQUITTO_CTRL_PATH ?? '/usr/bin/mosquitto_ctrl';

/**
 * Why a Mosquitto suite cannot run here, or null when it can: skipped locally, thrown in CI so a
 * runner without the package fails instead of passing with the external-broker path untested.
 * `dynsec`: the suite needs the dynamic security plugin instead of a password file.
 */
export function mosquittoSkipReason(options: { dynsec?: boolean } = {}): string | null {
  const needed = options.dynsec ? [MOSQUITTO, DYNSEC_PLUGIN, MOSQUITTO_CTRL] : [MOSQUITTO, MOSQUITTO_PASSWD];
  const missing = needed.filter((path) => !existsSync(path));
  if (missing.length === 0) return null;
  const reason = `${missing.join(', ')} not installed (apt-get install mosquitto)`;
  if (process.env.CI) throw new Error(`${reason}: CI must run the Mosquitto suites`);
  return reason;
}

/**
 * The ACL docs/scale-out.md recommends, mirroring broker/acl.ts: the platform user reads and writes
 * the protocol root; a device writes only its own state, heartbeat, ack and event topics and reads
 * only its own command topic. `%u` is the MQTT username, which is the device id.
 */
export function mosquittoAcl(platformUser: string): string {
  return [
    `user ${platformUser}`,
    'topic readwrite sc/v1/#',
    '',
    'pattern write sc/v1/%u/state',
    'pattern write sc/v1/%u/heartbeat',
    'pattern write sc/v1/%u/ack',
    'pattern write sc/v1/%u/event',
    'pattern read sc/v1/%u/cmd',
    '',
  ].join('\n');
}

const run = promisify(execFile);

/**
 * Who may connect: a password file with `users` (MQTT usernames to passwords) and the ACL above
 * for `platformUser`; or, with `dynsec`, no password file but the dynamic security plugin, its
 * configuration made by `mosquitto_ctrl dynsec init` with `dynsec` as the plugin's admin client.
 */
export type MosquittoAccounts =
  | { platformUser: string; users: Record<string, string> }
  | { dynsec: { username: string; password: string } };

/** A real Mosquitto on loopback in a temp dir, its accounts as {@link MosquittoAccounts} says. */
export class Mosquitto {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private child: ChildProcess | null,
  ) {}

  static async start(accounts: MosquittoAccounts): Promise<Mosquitto> {
    const dir = await mkdtemp(join(tmpdir(), 'mosquitto-'));
    try {
      const port = await freePort();
      const config = join(dir, 'mosquitto.conf');
      await writeFile(
        config,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous false',
          ...(await accountLines(dir, accounts)),
          'persistence false',
          // Started as root (CI containers), Mosquitto would switch to a `mosquitto` user that
          // cannot read the private temp dir; as any other user this line has no effect.
          'user root',
          'log_dest stderr',
          'log_type error',
          'log_type warning',
          'log_type notice',
          // The "running" line the helper waits for is logged at this level.
          'log_type information',
          '',
        ].join('\n'),
      );
      const mosquitto = new Mosquitto(dir, port, null);
      await mosquitto.restart();
      return mosquitto;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Stops the broker, keeping its port and its files (the plugin's saved state) for restart(). */
  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child);
    this.child = null;
  }

  /** Starts it (again after stop()), on the same port with the same files. */
  async restart(): Promise<void> {
    await this.stop();
    const config = join(this.dir, 'mosquitto.conf');
    const { child } = await spawnUntilReady('mosquitto', MOSQUITTO, ['-c', config], / running/);
    this.child = child;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The configuration lines for the accounts, writing the files they name into `dir`. */
async function accountLines(dir: string, accounts: MosquittoAccounts): Promise<string[]> {
  if ('dynsec' in accounts) {
    const file = join(dir, 'dynamic-security.json');
    const { username, password } = accounts.dynsec;
    await run(MOSQUITTO_CTRL, ['dynsec', 'init', file, username, password]);
    return [`plugin ${DYNSEC_PLUGIN}`, `plugin_opt_config_file ${file}`];
  }
  const passwords = join(dir, 'passwd');
  let first = true;
  for (const [user, password] of Object.entries(accounts.users)) {
    await run(MOSQUITTO_PASSWD, [...(first ? ['-c'] : []), '-b', passwords, user, password]);
    first = false;
  }
  await writeFile(join(dir, 'acl'), mosquittoAcl(accounts.platformUser));
  return [`password_file ${passwords}`, `acl_file ${join(dir, 'acl')}`];
}

export interface PlatformOnMosquitto {
  platform: Platform;
  dataDir: string;
  httpUrl: string;
  /** Calls the API signed in as the first admin. */
  call(path: string, init?: ApiInit): Promise<ApiResponse>;
  /** Stops the platform and removes its data directory. */
  close(): Promise<void>;
}

/**
 * A real platform on this Mosquitto (MQTT_URL) as its internal client `credential`, with a fresh
 * SQLite file in a temp dir; `dynsec` sets MQTT_DYNSEC, so the platform manages the plugin.
 */
export async function startPlatformOn(
  mosquitto: Mosquitto,
  options: { credential: { username: string; password: string }; dynsec?: boolean },
): Promise<PlatformOnMosquitto> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sc-mosquitto-'));
  const platform = new Platform({
    config: loadConfig(
      {},
      {
        ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: 0,
        MQTT_URL: mosquitto.url,
        ...(options.dynsec ? { MQTT_DYNSEC: true } : {}),
        MQTT_INTERNAL_USERNAME: options.credential.username,
        MQTT_INTERNAL_PASSWORD: options.credential.password,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
      },
    ),
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    passwordParams: TEST_PASSWORD_PARAMS,
    announce: () => undefined,
    webRoot: join(dataDir, 'no-console'),
  });
  try {
    await platform.start();
  } catch (error) {
    await platform.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const httpUrl = `http://127.0.0.1:${platform.httpPort}`;
  const login = await api(httpUrl, '/api/v1/auth/login', {
    method: 'POST',
    body: { username: 'admin', password: TEST_ADMIN_PASSWORD },
  });
  const cookie = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] as string };
  return {
    platform,
    dataDir,
    httpUrl,
    call: (path, init = {}) => api(httpUrl, path, { ...init, headers: { ...cookie, ...init.headers } }),
    async close() {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
