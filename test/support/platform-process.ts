import { type ChildProcess, spawn } from 'node:child_process';
import { track } from './server-process.js';

/*
 * The platform as a child process (its built entry point), so a suite or a benchmark can kill it
 * with SIGKILL and start it again on the same data directory and ports. Free of vitest: the
 * crash-recovery benchmark runs it too.
 */

export interface PlatformProcessOptions {
  /** The built entry point (main.js) to run. */
  main: string;
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  adminPassword: string;
  /** More environment for the platform (SEED_PRESET …). */
  env?: Record<string, string>;
  /** How long one start may take until /healthz answers 200. */
  startTimeoutMs: number;
}

/** Keeps this much of the child's latest output, for error messages. */
const OUTPUT_CHARS = 20_000;

export class PlatformProcess {
  readonly baseUrl: string;
  private child: ChildProcess | null = null;
  private latestOutput = '';

  constructor(private readonly options: PlatformProcessOptions) {
    this.baseUrl = `http://127.0.0.1:${options.httpPort}`;
  }

  /** What the running (or last) child wrote to stdout and stderr, its last 20,000 characters. */
  get output(): string {
    return this.latestOutput;
  }

  /** The running (or last) child's process id; the instance id the platform gives itself holds it. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the platform and resolves once /healthz answers 200; rejects if it exits first. */
  async start(): Promise<void> {
    const { options } = this;
    this.latestOutput = '';
    const proc = spawn(process.execPath, [options.main], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        DATA_DIR: options.dataDir,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(options.httpPort),
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: String(options.mqttPort),
        ADMIN_PASSWORD: options.adminPassword,
        LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(proc);
    const keep = (chunk: Buffer) => {
      this.latestOutput = (this.latestOutput + chunk.toString()).slice(-OUTPUT_CHARS);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.child = proc;
    const deadline = Date.now() + options.startTimeoutMs;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`platform exited ${proc.exitCode}:\n${this.output}`);
      try {
        if ((await fetch(`${this.baseUrl}/healthz`)).status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`platform did not start:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGKILL, as a power cut or the OOM killer would; resolves once the child has exited. */
  async kill(): Promise<void> {
    const proc = this.child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }
}
