import { rmSync } from 'node:fs';
import { join } from 'node:path';

/** Vitest's global setup runs in the process whose pid names the run's shared build. */
export function teardown(): void {
  rmSync(join(import.meta.dirname, '..', '..', '.test-build', `platform-${process.pid}`), {
    recursive: true,
    force: true,
  });
}
