import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { camerasBench } from './cameras.js';
import { connectionsBench } from './connections.js';
import { consoleBench } from './console.js';
import { fanoutBench } from './fanout.js';
import { historyBench } from './history.js';
import { ingestBench } from './ingest.js';
import { type BenchResult, report } from './report.js';

/** `npm run bench [scenario…]`: runs the named scenarios (default all) and records their results. */
const SCENARIOS: Record<string, () => Promise<BenchResult>> = {
  history: historyBench,
  ingest: ingestBench,
  fanout: fanoutBench,
  connections: connectionsBench,
  cameras: camerasBench,
  console: consoleBench,
};

// Compiled to dist/bench/: results go to the source tree's bench/ folder.
const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');
const wanted = process.argv.slice(2);
for (const name of wanted.length > 0 ? wanted : Object.keys(SCENARIOS)) {
  const scenario = SCENARIOS[name];
  if (!scenario) {
    process.stderr.write(`unknown scenario "${name}"; choose from ${Object.keys(SCENARIOS).join(', ')}\n`);
    process.exit(2);
  }
  report(benchDir, await scenario());
}
