import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * Readiness drills, each cluster's verdict and each commune's weekly drill as each instance copies
 * them from PostgreSQL (services/storage/sql/table-copy.ts): the drill loop and the weekly
 * scheduler read them synchronously from this instance's SQLite file. A drill is copied with all
 * its clusters' verdicts whenever one of them is recorded.
 */

export const DRILLS_CHANNEL = 'readiness_drills_changed';

export const DRILL_TABLES: readonly CopiedTable[] = [
  {
    name: 'readiness_schedules',
    key: 'commune_id',
    columns: [
      'commune_id',
      'enabled',
      'weekday',
      'hour',
      'minute',
      'tone',
      'last_run_at',
      'last_drill_id',
      'updated_by',
      'updated_at',
    ],
  },
  {
    name: 'readiness_drills',
    key: 'id',
    columns: [
      'id',
      'origin',
      'tone',
      'targets',
      'commune_ids',
      'state',
      'started_at',
      'deadline_at',
      'finished_at',
      'created_by',
    ],
    children: [
      {
        name: 'readiness_results',
        foreignKey: 'drill_id',
        columns: [
          'drill_id',
          'cluster_id',
          'position',
          'commune_id',
          'village_id',
          'command_id',
          'outcome',
          'reasons',
          'checks',
          'tested_at',
        ],
      },
    ],
  },
];

export const drillsCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, DRILLS_CHANNEL, DRILL_TABLES);
