import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteIdent, quoteString } from '../../services/history/influxql.js';
import { freePort, stopProcess, track } from './server-process.js';

/** Debian's `influxdb` package (1.6): the server CI tests the 1.x backend against. */
export const INFLUXD = process.env.INFLUXD_PATH ?? '/usr/bin/influxd';

export function influxdAvailable(): boolean {
  return existsSync(INFLUXD);
}

/**
 * Why an InfluxDB suite cannot run here, or null when it can. Locally a missing influxd skips
 * the suite with this reason; in CI it throws, so a runner without the package fails loudly
 * instead of passing with the InfluxDB backend untested.
 */
export function influxdSkipReason(): string | null {
  if (influxdAvailable()) return null;
  const reason = `${INFLUXD} is not installed (apt-get install influxdb)`;
  if (process.env.CI) throw new Error(`${reason}: CI must run the InfluxDB suites`);
  return reason;
}

let databases = 0;

/** A database name no other test in this process uses. */
export function freshDatabase(prefix = 'test'): string {
  databases++;
  return `${prefix}_${process.pid}_${databases}`;
}

/**
 * A real `influxd run` on loopback with its own data directory. `stop()` and `start()` again
 * keep the ports and the data, so a test can take the server away and bring it back.
 */
export class Influxd {
  private child: ChildProcess | null = null;
  private output = '';
  private adminCreated = false;

  private constructor(
    readonly dir: string,
    readonly httpPort: number,
    private readonly rpcPort: number,
    /** With auth on: the admin the helpers below authenticate as. */
    readonly admin: { user: string; password: string } | null,
  ) {}

  /**
   * Prepares ports and a data directory; starts the server unless `start: false`. With `auth`,
   * HTTP authentication is on and an admin user with that password exists.
   */
  static async create(options: { start?: boolean; auth?: { user: string; password: string } } = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'influxd-'));
    const server = new Influxd(dir, await freePort(), await freePort(), options.auth ?? null);
    if (options.start !== false) await server.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    this.output = '';
    const child = spawn(INFLUXD, ['run', '-config', '/dev/null'], {
      // Only these settings: nothing from the developer's environment or /etc/influxdb.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        INFLUXDB_REPORTING_DISABLED: 'true',
        INFLUXDB_BIND_ADDRESS: `127.0.0.1:${this.rpcPort}`,
        INFLUXDB_META_DIR: join(this.dir, 'meta'),
        INFLUXDB_DATA_DIR: join(this.dir, 'data'),
        INFLUXDB_DATA_WAL_DIR: join(this.dir, 'wal'),
        INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${this.httpPort}`,
        INFLUXDB_MONITOR_STORE_ENABLED: 'false',
        INFLUXDB_HTTP_LOG_ENABLED: 'false',
        INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
        INFLUXDB_HTTP_AUTH_ENABLED: this.admin ? 'true' : 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-8000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
    track(child);
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        reject(new Error(`influxd exited (${code ?? signal}) while starting:\n${this.output}`));
      });
    });
    // Only a start that fails early needs the rejection; a later stop() is expected.
    exited.catch(() => undefined);
    try {
      await Promise.race([this.waitForPing(15_000), exited]);
      // With no user yet, 1.x lets anyone create the first admin; later starts keep it.
      if (this.admin && !this.adminCreated) {
        const { user, password } = this.admin;
        await this.query(
          '',
          `CREATE USER ${quoteIdent(user)} WITH PASSWORD ${quoteString(password)} WITH ALL PRIVILEGES`,
        );
        this.adminCreated = true;
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** SIGTERM, as a service manager would stop it; resolves once the process has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    await stopProcess(child);
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Runs InfluxQL (POST, so statements that change the server work too); throws on any error. */
  async query(db: string, q: string): Promise<InfluxResult[]> {
    const response = await fetch(`${this.url}/query?${new URLSearchParams({ db, epoch: 'ms' })}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.authorization() },
      body: new URLSearchParams({ q }).toString(),
    });
    const body = (await response.json()) as { results?: InfluxResult[]; error?: string };
    const failed = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!response.ok || failed) throw new Error(`influxd refused ${q}: ${failed ?? response.status}`);
    return body.results ?? [];
  }

  async createDatabase(db: string): Promise<void> {
    await this.query(db, `CREATE DATABASE ${quoteIdent(db)}`);
  }

  /** Writes raw line protocol (precision ms), bypassing the store; returns the response. */
  writeLines(db: string, lines: readonly string[]): Promise<Response> {
    return fetch(`${this.url}/write?${new URLSearchParams({ db, precision: 'ms' })}`, {
      method: 'POST',
      headers: this.authorization(),
      body: lines.join('\n'),
    });
  }

  private authorization(): Record<string, string> {
    if (!this.admin) return {};
    const credentials = Buffer.from(`${this.admin.user}:${this.admin.password}`).toString('base64');
    return { authorization: `Basic ${credentials}` };
  }

  /** The values of a one-statement query's first column after time, across all series. */
  async column(db: string, q: string): Promise<unknown[]> {
    const [result] = await this.query(db, q);
    return (result?.series ?? []).flatMap((s) => (s.values ?? []).map((row) => row[1]));
  }

  // Waiting on an external process is the one place a poll is the only option.
  private async waitForPing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.child) throw new Error(`influxd is not running:\n${this.output}`);
      try {
        const response = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
        if (response.status === 204) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline)
        throw new Error(`influxd did not answer /ping within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export interface InfluxResult {
  statement_id?: number;
  series?: { name?: string; tags?: Record<string, string>; columns: string[]; values?: unknown[][] }[];
  error?: string;
}
