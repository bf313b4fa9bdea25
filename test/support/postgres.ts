import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, track } from './server-process.js';

/** Debian's `postgresql` package: its server binaries live in /usr/lib/postgresql/<version>/bin. */
function debianBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? debianBinDir();

export function postgresAvailable(): boolean {
  return POSTGRES_BIN !== null && existsSync(join(POSTGRES_BIN, 'initdb'));
}

/**
 * Why a PostgreSQL suite cannot run here, or null when it can. Locally a missing server skips the
 * suite with this reason; in CI it throws, so a runner without the package fails loudly instead of
 * passing with the PostgreSQL engine untested.
 */
export function postgresSkipReason(): string | null {
  if (postgresAvailable()) return null;
  const reason = 'PostgreSQL is not installed (apt-get install postgresql)';
  if (process.env.CI) throw new Error(`${reason}: CI must run the PostgreSQL suites`);
  return reason;
}

/**
 * initdb refuses to run as root, and so does the server: as root both run as the `postgres`
 * system user Debian's package creates, in a directory that user owns.
 */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

let databases = 0;

/** A database name no other suite in this process uses. */
export function freshDatabaseName(prefix = 'state'): string {
  databases++;
  return `${prefix}_${process.pid}_${databases}`;
}

/**
 * A real PostgreSQL on a loopback port with its own data directory (trust authentication, fsync
 * off: a test server). `stop()` and `start()` again keep the port and the data, so a test can take
 * the server away and bring it back.
 */
export class PostgresServer {
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly user: { uid: number; gid: number } | null,
  ) {}

  static async create(): Promise<PostgresServer> {
    if (!POSTGRES_BIN) throw new Error('PostgreSQL is not installed');
    const user = runAs();
    // The postgres user must reach the directory: root's TMPDIR may be private to root.
    const dir = await mkdtemp(join(user ? '/tmp' : tmpdir(), 'postgres-'));
    if (user) chownSync(dir, user.uid, user.gid);
    const server = new PostgresServer(dir, await freePort(), user);
    try {
      server.run('initdb', [
        '-D',
        server.dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-locale',
      ]);
      await server.start();
    } catch (error) {
      await server.cleanup();
      throw error;
    }
    return server;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private env(): NodeJS.ProcessEnv {
    // Nothing from the developer's environment (PGDATA, PGPORT, a locale initdb cannot find).
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' };
  }

  private run(program: string, args: string[]): void {
    execFileSync(join(POSTGRES_BIN as string, program), args, {
      env: this.env(),
      stdio: 'pipe',
      cwd: this.dir,
      ...(this.user ?? {}),
    });
  }

  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    this.output = '';
    const child = spawn(
      join(POSTGRES_BIN as string, 'postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${this.dir}`,
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=60',
      ],
      { env: this.env(), cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], ...(this.user ?? {}) },
    );
    track(child);
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`postgres not ready within 30 s:\n${this.output}`)),
        30_000,
      );
      const onData = (chunk: Buffer) => {
        this.output = (this.output + chunk.toString()).slice(-8000);
        if (/database system is ready to accept connections/.test(this.output)) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null, signal: string | null) =>
        fail(new Error(`postgres exited (${code ?? signal}) while starting:\n${this.output}`));
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        if (this.child === child) this.child = null;
        reject(error);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
    });
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
  }

  /**
   * SIGINT, PostgreSQL's fast shutdown: open connections are ended (SIGTERM would wait for every
   * client to leave). Resolves once the server has exited.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Runs one statement as the superuser on `database`. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
    database = 'postgres',
  ): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** A new empty database; returns its URL. */
  async createDatabase(name = freshDatabaseName()): Promise<string> {
    await this.query(`CREATE DATABASE "${name}"`);
    return this.url(name);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}
