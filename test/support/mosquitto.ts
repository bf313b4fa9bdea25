import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnUntilReady, stopProcess } from './server-process.js';

/** Debian's `mosquitto` package (2.0): the external broker CI runs the platform against. */
export const MOSQUITTO = process.env.MOSQUITTO_PATH ?? '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = process.env.MOSQUITTO_PASSWD_PATH ?? '/usr/bin/mosquitto_passwd';

/**
 * Why a Mosquitto suite cannot run here, or null when it can: skipped locally, thrown in CI so a
 * runner without the package fails instead of passing with the external-broker path untested.
 */
export function mosquittoSkipReason(): string | null {
  if (existsSync(MOSQUITTO) && existsSync(MOSQUITTO_PASSWD)) return null;
  const reason = `${MOSQUITTO} or ${MOSQUITTO_PASSWD} is not installed (apt-get install mosquitto)`;
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

/** A real Mosquitto on loopback with a password file and the ACL above, in a temp dir. */
export class Mosquitto {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  /** `users` maps MQTT usernames to passwords; the first becomes the ACL's platform user. */
  static async start(options: { platformUser: string; users: Record<string, string> }): Promise<Mosquitto> {
    const dir = await mkdtemp(join(tmpdir(), 'mosquitto-'));
    try {
      const passwords = join(dir, 'passwd');
      let first = true;
      for (const [user, password] of Object.entries(options.users)) {
        await run(MOSQUITTO_PASSWD, [...(first ? ['-c'] : []), '-b', passwords, user, password]);
        first = false;
      }
      await writeFile(join(dir, 'acl'), mosquittoAcl(options.platformUser));
      const port = await freePort();
      const config = join(dir, 'mosquitto.conf');
      await writeFile(
        config,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous false',
          `password_file ${passwords}`,
          `acl_file ${join(dir, 'acl')}`,
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
      const { child } = await spawnUntilReady('mosquitto', MOSQUITTO, ['-c', config], / running/);
      return new Mosquitto(dir, port, child);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async cleanup(): Promise<void> {
    await stopProcess(this.child);
    await rm(this.dir, { recursive: true, force: true });
  }
}
