import { join } from 'node:path';
import { keyPath, loadSharedKey } from '../crypto/key-file.js';
import type { Feature } from '../platform/feature.js';
import { isoTimeOrNull } from '../time.js';
import { DATABASE_FILE } from './backup.js';
import { type Db, openDatabase } from './database.js';
import { DiskGuard } from './disk-guard.js';
import { InstanceSharingCheck } from './sql/instance-sharing.js';
import { openState, type StateDatabase } from './sql/state-database.js';

declare module '../platform/feature.js' {
  interface Provides {
    /**
     * The SQLite state database, the data disk's guard (space, the emergency reserve), and the
     * query layer over whichever engine holds the converted stores (SQLite, or DATABASE_URL's
     * PostgreSQL).
     */
    storage: {
      db: Db;
      disk: DiskGuard;
      state: StateDatabase;
      /** A key file of KEYS_DIR (generated once), the same on every instance of one PostgreSQL. */
      key(name: string): Promise<Buffer>;
    };
  }
}

/**
 * The state database in DATA_DIR and the guard of the disk it lives on, and with DATABASE_URL the
 * PostgreSQL pool that holds every store's state (the SQLite file then holds this instance's copy).
 */
export function storageFeature(): Feature<'storage'> {
  let disk: DiskGuard | null = null;
  let db: Db | null = null;
  let state: StateDatabase | null = null;
  let sharing: InstanceSharingCheck | null = null;
  return {
    name: 'storage',
    dependsOn: [],
    async start({ config, clock, logger }) {
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
      state = await openState(config, db, logger);
      if (config.DATABASE_URL) {
        sharing = new InstanceSharingCheck({
          url: config.DATABASE_URL,
          coordinated: Boolean(config.REDIS_URL),
          logger: logger.child({ component: 'instances' }),
        });
        sharing.start();
      }
      const opened = state;
      return { db, disk, state, key: (name) => loadSharedKey(opened, keyPath(config, name), name) };
    },
    async stop() {
      await sharing?.stop();
      sharing = null;
      await state?.close();
      state = null;
      db?.close();
      db = null;
      disk?.stop();
      disk = null;
    },
    health() {
      if (!disk) return {};
      // Looked at again for whoever asks (at most every two seconds), besides once a minute.
      sharing?.refresh();
      const { lastErrorAt, ...rest } = disk.status();
      return {
        disk: { ...rest, lastErrorAt: isoTimeOrNull(lastErrorAt) },
        problems: { databaseSharedWithoutRedis: sharing?.uncoordinated ?? false },
      };
    },
  };
}
