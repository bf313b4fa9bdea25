import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnUntilReady, stopProcess } from './server-process.js';

/** Debian's `redis-server` package (7.0): the Redis CI tests the clustered broker against. */
export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

/**
 * Why a Redis suite cannot run here, or null when it can. Locally a missing redis-server skips the
 * suite with this reason; in CI it throws, so a runner without the package fails loudly instead of
 * passing with the clustered broker untested.
 */
export function redisSkipReason(): string | null {
  if (existsSync(REDIS_SERVER)) return null;
  const reason = `${REDIS_SERVER} is not installed (apt-get install redis-server)`;
  if (process.env.CI) throw new Error(`${reason}: CI must run the Redis suites`);
  return reason;
}

/** A real `redis-server` on loopback, without snapshots or an append-only file, in a temp dir. */
export class RedisServer {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'redis-'));
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    args.push('--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes');
    try {
      const { child } = await spawnUntilReady(
        'redis-server',
        REDIS_SERVER,
        args,
        /Ready to accept connections/,
      );
      return new RedisServer(dir, port, child);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, as in a partition. */
  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  thaw(): void {
    this.child.kill('SIGCONT');
  }

  async cleanup(): Promise<void> {
    await stopProcess(this.child);
    await rm(this.dir, { recursive: true, force: true });
  }
}
