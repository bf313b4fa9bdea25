import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { postgresState, type StateDatabase, sqliteState } from '../../services/storage/sql/state-database.js';
import { ManualClock } from './manual-clock.js';
import { PostgresServer, postgresSkipReason } from './postgres.js';

/*
 * The engines the query layer runs on, for contract suites that run every case on each: the
 * platform's SQLite file, and a real PostgreSQL (Debian's package, started on a loopback port with
 * a database per test). Use with describe.each(engines) and engineTest.
 */

const silent = pino({ level: 'silent' });

/** One engine's state database, reopened as a restarted platform would. */
export interface Opened {
  state: StateDatabase;
  /** The registry's SQLite file: provinces and communes, whichever engine holds the accounts. */
  places: Db;
  /** Closes and opens the state database again (a restart); migrations run again. */
  reopen(): Promise<StateDatabase>;
  /** A second writer: another instance's pool on PostgreSQL, the same connection on SQLite. */
  second(): Promise<StateDatabase>;
  close(): Promise<void>;
}

export interface Engine {
  name: string;
  skip: string | null;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  open(dir: string, places: Db): Promise<Opened>;
}

let postgres: PostgresServer | null = null;

export const engines: Engine[] = [
  {
    name: 'SQLite',
    skip: null,
    async open(dir, places) {
      // The platform's own file: the registry and the converted stores share it and its connection.
      const opened: Opened = {
        state: sqliteState(places),
        places,
        async reopen() {
          opened.places.close();
          opened.places = openDatabase(join(dir, 'smart-commune.sqlite'), silent);
          opened.state = sqliteState(opened.places);
          return opened.state;
        },
        second: async () => opened.state,
        async close() {
          if (opened.places.open) opened.places.close();
        },
      };
      return opened;
    },
  },
  {
    name: 'PostgreSQL',
    skip: postgresSkipReason(),
    async setup() {
      postgres = await PostgresServer.create();
    },
    async teardown() {
      await postgres?.cleanup();
      postgres = null;
    },
    async open(_dir, places) {
      const url = await (postgres as PostgresServer).createDatabase();
      const pools: StateDatabase[] = [];
      const connect = async () => {
        const state = await postgresState({ url, logger: silent, poolMax: 4 });
        pools.push(state);
        return state;
      };
      const opened: Opened = {
        state: await connect(),
        places,
        async reopen() {
          await opened.state.close();
          pools.splice(pools.indexOf(opened.state), 1);
          opened.state = await connect();
          return opened.state;
        },
        second: connect,
        async close() {
          await Promise.all(pools.map((p) => p.close()));
          places.close();
        },
      };
      return opened;
    },
  },
];

/** The communes a contract test finds in the SQLite file: [id, name, province]. */
export const TEST_COMMUNES = [
  ['huong-dao', 'Xã Hướng Đạo', 'phu-tho'],
  ['hop-thinh', 'Xã Hợp Thịnh', 'phu-tho'],
  ['tan-thanh', 'Xã Tân Thành', 'ca-mau'],
] as const;

/** What each test of a contract suite runs on, fresh for every test. */
export interface EngineTest {
  dir: string;
  opened: Opened;
  clock: ManualClock;
  /** Stores a test started: stopped after it, last first (their LISTEN connections go first). */
  readonly started: { stop(): Promise<void> }[];
  /** Other SQLite files a test opened (other instances'): closed after it. */
  readonly files: Db[];
}

/**
 * Registers a contract suite's hooks on one engine: the engine started for the suite, and for each
 * test a temp directory, the platform's SQLite file with `communes` in it, the engine opened on it
 * and a manual clock at `now`; after each test what it started is stopped and everything removed.
 */
export function engineTest(
  engine: Engine,
  options: { prefix: string; now: number; communes?: readonly (readonly [string, string, string])[] },
): EngineTest {
  const test: EngineTest = {
    dir: '',
    opened: undefined as unknown as Opened,
    clock: new ManualClock(options.now),
    started: [],
    files: [],
  };
  beforeAll(async () => {
    await engine.setup?.();
  }, 60_000);
  afterAll(async () => {
    await engine.teardown?.();
  });
  beforeEach(async () => {
    test.dir = mkdtempSync(join(tmpdir(), options.prefix));
    const places = openDatabase(join(test.dir, 'smart-commune.sqlite'), silent);
    const commune = places.prepare(
      'INSERT INTO communes (id, name, timezone, created_at, updated_at, province_id) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const [id, name, provinceId] of options.communes ?? [])
      commune.run(id, name, 'Asia/Ho_Chi_Minh', options.now, options.now, provinceId);
    test.opened = await engine.open(test.dir, places);
    test.clock = new ManualClock(options.now);
  });
  afterEach(async () => {
    for (const store of test.started.splice(0).reverse()) await store.stop();
    for (const file of test.files.splice(0)) if (file.open) file.close();
    await test.opened.close();
    rmSync(test.dir, { recursive: true, force: true });
  });
  return test;
}
