import { join } from 'node:path';
import { pino } from 'pino';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { postgresState, type StateDatabase, sqliteState } from '../../services/storage/sql/state-database.js';
import { PostgresServer, postgresSkipReason } from './postgres.js';

/*
 * The engines the query layer runs on, for contract suites that run every case on each: the
 * platform's SQLite file, and a real PostgreSQL (Debian's package, started on a loopback port with
 * a database per test). Use with describe.each(engines), calling setup/teardown in beforeAll/afterAll.
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
