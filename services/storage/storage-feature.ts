import { join } from 'node:path';
import type { Feature } from '../platform/feature.js';
import { isoTimeOrNull } from '../time.js';
import { DATABASE_FILE } from './backup.js';
import { type Db, openDatabase } from './database.js';
import { DiskGuard } from './disk-guard.js';

declare module '../platform/feature.js' {
  interface Provides {
    /** The SQLite state database and the data disk's guard (space, the emergency reserve). */
    storage: { db: Db; disk: DiskGuard };
  }
}

/** The state database in DATA_DIR and the guard of the disk it lives on. */
export function storageFeature(): Feature<'storage'> {
  let disk: DiskGuard | null = null;
  let db: Db | null = null;
  return {
    name: 'storage',
    dependsOn: [],
    start({ config, clock, logger }) {
      // Before the database: on a disk already full, the reserve is given up so the platform starts.
      disk = new DiskGuard({
        dir: config.DATA_DIR,
        reserveBytes: config.DISK_RESERVE_MB * 1024 * 1024,
        clock,
        logger,
      });
      disk.start();
      db = openDatabase(join(config.DATA_DIR, DATABASE_FILE), logger);
      disk.check(); // a new DATA_DIR exists only now
      return { db, disk };
    },
    stop() {
      db?.close();
      db = null;
      disk?.stop();
      disk = null;
    },
    health() {
      if (!disk) return {};
      const { lastErrorAt, ...rest } = disk.status();
      return { disk: { ...rest, lastErrorAt: isoTimeOrNull(lastErrorAt) } };
    },
  };
}
