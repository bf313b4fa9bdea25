import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GeneratorReply, GeneratorRequest } from './load-generator.js';

/** The parent's handle on a forked load generator (compiled `dist/bench/load-generator.js`). */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private readonly waiting: { type: GeneratorReply['type']; resolve: (r: GeneratorReply) => void }[] = [];

  constructor() {
    this.child = fork(join(dirname(fileURLToPath(import.meta.url)), 'load-generator.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [
        '--max-old-space-size=8192',
        // BENCH_GENERATOR_PROF=<dir> writes a CPU profile of the load generator, to tell its costs
        // from the platform's.
        ...(process.env.BENCH_GENERATOR_PROF
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_GENERATOR_PROF}`]
          : []),
      ],
    });
    this.child.on('message', (message: GeneratorReply) => {
      const index = this.waiting.findIndex((w) => w.type === message.type);
      if (index >= 0) this.waiting.splice(index, 1)[0]?.resolve(message);
    });
    this.child.on('exit', (code) => {
      if (code && code !== 0) process.stderr.write(`[bench] load generator exited with ${code}\n`);
    });
  }

  request<T extends GeneratorReply['type']>(
    request: GeneratorRequest,
    expect: T,
  ): Promise<Extract<GeneratorReply, { type: T }>> {
    return new Promise((resolve) => {
      this.waiting.push({ type: expect, resolve: resolve as (r: GeneratorReply) => void });
      this.child.send(request);
    });
  }

  async close(): Promise<void> {
    if (!this.child.connected) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await Promise.race([this.request({ type: 'close' }, 'closed'), exited]);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (this.child.exitCode === null) this.child.kill();
  }
}
