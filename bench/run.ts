import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { camerasBench } from './cameras.js';
import { connectionsBench } from './connections.js';
import { consoleBench } from './console.js';
import { crashRecoveryBench } from './crash-recovery.js';
import { fanoutBench } from './fanout.js';
import { fanoutPostgresBench } from './fanout-postgres.js';
import { historyBench } from './history.js';
import { ingestBench } from './ingest.js';
import { liveBench } from './live.js';
import { provinceBench } from './province.js';
import { reconnectBench } from './reconnect.js';
import { type BenchResult, report } from './report.js';

/** `npm run bench [scenario…]`: runs the named scenarios (default all) and records their results. */
const SCENARIOS: Record<string, () => Promise<BenchResult>> = {
  history: historyBench,
  ingest: ingestBench,
  fanout: fanoutBench,
  'fanout-postgres': fanoutPostgresBench,
  connections: connectionsBench,
  reconnect: reconnectBench,
  cameras: camerasBench,
  console: consoleBench,
  'crash-recovery': crashRecoveryBench,
  live: liveBench,
  province: provinceBench,
};

// Compiled to dist/bench/: results go to the source tree's bench/ folder.
const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(SCENARIOS);
const unknown = names.filter((name) => !SCENARIOS[name]);
if (unknown.length > 0) {
  process.stderr.write(
    `unknown scenario "${unknown[0]}"; choose from ${Object.keys(SCENARIOS).join(', ')}\n`,
  );
  process.exit(2);
}
if (names.length === 1) {
  report(benchDir, await (SCENARIOS[names[0] as string] as () => Promise<BenchResult>)());
} else {
  // Each scenario in a process of its own: one scenario's heap, JIT state and memory the allocator
  // has not yet returned would otherwise weigh on the next one's figures.
  const failed: string[] = [];
  for (const name of names) {
    const run = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], {
      stdio: 'inherit',
    });
    if (run.status !== 0) failed.push(name);
  }
  if (failed.length > 0) {
    process.stderr.write(`scenarios that failed: ${failed.join(', ')}\n`);
    process.exit(1);
  }
}
