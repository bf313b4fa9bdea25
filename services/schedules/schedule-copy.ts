import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * Cluster groups and schedules as each instance copies them from PostgreSQL (services/storage/sql/
 * table-copy.ts): the dispatcher expands schedules and resolves groups from this instance's SQLite
 * file on every wake-up. Approval steps live in a table SQLite shares with broadcasts' steps, so
 * only the schedules' rows are copied, in the order they were taken.
 */

export const SCHEDULES_CHANNEL = 'schedules_changed';

export const SCHEDULE_TABLES: readonly CopiedTable[] = [
  {
    name: 'cluster_groups',
    key: 'id',
    columns: ['id', 'commune_id', 'name', 'created_at', 'updated_at'],
    children: [
      { name: 'cluster_group_members', foreignKey: 'group_id', columns: ['group_id', 'cluster_id'] },
    ],
    version: 'updated_at',
  },
  {
    name: 'schedules',
    key: 'id',
    columns: [
      'id',
      'name',
      'level',
      'content',
      'volume',
      'repeat',
      'timezone',
      'starts_local',
      'duration_s',
      'rrule',
      'exdates',
      'targets',
      'enabled',
      'created_by',
      'created_at',
      'updated_at',
      'lunar',
      'approval_state',
      'approved_by',
      'bulletin_id',
    ],
    children: [
      {
        name: 'approval_steps',
        foreignKey: 'subject_id',
        // No id: SQLite numbers the rows beside the broadcasts' own steps.
        columns: ['subject_type', 'subject_id', 'step', 'actor', 'comment', 'at'],
        where: "subject_type = 'schedule'",
        orderBy: 'at, id',
      },
    ],
    version: 'updated_at',
  },
];

export const scheduleCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, SCHEDULES_CHANNEL, SCHEDULE_TABLES);
