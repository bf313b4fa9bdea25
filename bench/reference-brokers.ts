import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { localEmitter } from '../broker/emitter-queue.js';
import type { LoadGenerator } from './generator-client.js';

/**
 * The reference brokers the platform's figures are set against in the same run: a bare Aedes
 * (no authentication, ACL or services) in the bench process, as the platform runs there, and
 * Debian's Mosquitto in its own process.
 */
export const MOSQUITTO = '/usr/sbin/mosquitto';

/** A port free on loopback now (bound once to learn its number, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A bare Aedes on loopback with noDelay TCP, as the platform's broker listens. `queue: 'platform'`
 * gives it the platform's message queue (broker/emitter-queue.ts): stock Aedes overflows its stack
 * draining a burst of about 10,000 waiting messages, so a large fan-out needs it to finish at all.
 */
export async function startBareAedes(
  port: number,
  options: { queue?: 'stock' | 'platform' } = {},
): Promise<{ aedes: Aedes; stop: () => Promise<void> }> {
  const aedes = await Aedes.createBroker(options.queue === 'platform' ? { mq: localEmitter() } : {});
  const server = net.createServer({ noDelay: true }, aedes.handle);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    aedes,
    stop: async () => {
      await new Promise((r) => aedes.close(() => r(undefined)));
      await new Promise((r) => server.close(r));
    },
  };
}

export interface RunningMosquitto {
  stop(): Promise<void>;
  /** CPU time (user + system) the Mosquitto process has used so far, in microseconds. */
  cpuMicros(): number;
  /** Its resident memory now, in MiB. */
  rssMb(): number;
}

/** Debian's Mosquitto on loopback, anonymous, without persistence or logs. */
export async function startMosquitto(port: number): Promise<RunningMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-bench-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  // max_queued_messages: a subscriber reading a whole fan-out's acks must not lose them past the
  // default of 1,000 queued per client.
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nmax_queued_messages 1000000\n`,
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}`)));
  });
  const ready = (async () => {
    for (let i = 0; i < 50; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('mosquitto did not listen');
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  failed.catch(() => undefined);
  const proc = `/proc/${child.pid}`;
  return {
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
    cpuMicros() {
      // /proc/<pid>/stat fields 14 and 15 (utime, stime) in clock ticks, after the `(comm)` field.
      const fields = readFileSync(`${proc}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      const ticks = Number(fields[11]) + Number(fields[12]);
      return (ticks / CLOCK_TICKS_PER_S) * 1e6;
    },
    rssMb() {
      const line = readFileSync(`${proc}/status`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('VmRSS:'));
      return Number(line?.match(/(\d+)/)?.[1] ?? Number.NaN) / 1024;
    },
  };
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on every mainstream build). */
const CLOCK_TICKS_PER_S = 100;

/** Connects the generator's clients to a reference broker (no credentials); throws if any failed. */
export async function connectToReference(
  generator: LoadGenerator,
  port: number,
  ids: string[],
  ackBot: boolean,
  /** Publish a retained online state after connecting, as the platform's clusters do. */
  announce = false,
): Promise<void> {
  const connected = await generator.request(
    {
      type: 'connect',
      url: `mqtt://127.0.0.1:${port}`,
      devices: ids.map((id) => ({ id, secret: '' })),
      concurrency: 64,
      announce,
      ackBot,
    },
    'connected',
  );
  if (connected.failed > 0)
    throw new Error(`${connected.failed} connections failed: ${connected.firstError}`);
}
