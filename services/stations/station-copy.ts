import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * The stations as each instance copies them from PostgreSQL (services/storage/sql/table-copy.ts):
 * relays and schedules read a station on this instance's SQLite file. The relay switches (one row
 * per switch, referring to broadcasts) stay in SQLite with the broadcasts.
 */

export const STATIONS_CHANNEL = 'stations_changed';

export const STATION_TABLES: readonly CopiedTable[] = [
  {
    name: 'stations',
    key: 'id',
    columns: [
      'id',
      'name',
      'url',
      'kind',
      'fallback',
      'health',
      'health_detail',
      'checked_at',
      'created_at',
      'updated_at',
    ],
    version: 'updated_at',
  },
];

export const stationCopy = (db: Db, state: ConstructorParameters<typeof TableCopy>[1], logger: Logger) =>
  new TableCopy(db, state, logger, STATIONS_CHANNEL, STATION_TABLES);
