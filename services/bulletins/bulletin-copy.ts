import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * Bulletins and their receipts as each instance copies them from PostgreSQL (services/storage/sql/
 * table-copy.ts): the inbox, the province's overview and the reports read them from this
 * instance's SQLite file beside the broadcasts they became. A receipt is keyed by its bulletin and
 * commune, so the receipts go with their bulletin: a change of one copies the bulletin's receipts.
 * Bulletins have no updated_at: a full copy (after a lost LISTEN connection) tells of new and gone
 * bulletins, not of receipts changed meanwhile.
 */

export const BULLETINS_CHANNEL = 'bulletins_changed';

export const BULLETIN_TABLES: readonly CopiedTable[] = [
  {
    name: 'provincial_bulletins',
    key: 'id',
    columns: [
      'id',
      'province_id',
      'name',
      'level',
      'content',
      'volume',
      'start_at',
      'duration_s',
      'expires_at',
      'created_by',
      'created_at',
    ],
    children: [
      {
        name: 'bulletin_receipts',
        foreignKey: 'bulletin_id',
        columns: [
          'bulletin_id',
          'commune_id',
          'state',
          'schedule_id',
          'broadcast_id',
          'clash',
          'decided_by',
          'decided_at',
          'reason',
          'updated_at',
        ],
      },
    ],
  },
];

export const bulletinCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, BULLETINS_CHANNEL, BULLETIN_TABLES);
