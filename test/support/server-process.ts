import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/* Real servers (influxd, redis-server, mosquitto) started by test suites on loopback ports. */

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const running = new Set<ChildProcess>();
// A test runner that dies mid-suite must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills the server with the test runner if nobody stopped it first. */
export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * Spawns a server and resolves once a line of its output says it is ready; rejects with the output
 * when it exits first or stays silent past the timeout.
 */
export async function spawnUntilReady(
  name: string,
  command: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<{ child: ChildProcess; output: () => string }> {
  let output = '';
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${name} not ready within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
      if (ready.test(output)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`${name} exited (${code ?? signal}) while starting:\n${output}`));
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
  return { child, output: () => output };
}

/** SIGTERM, as a service manager would stop it; resolves once the process has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
