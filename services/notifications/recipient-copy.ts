import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * Each commune's recipients (village heads among them), routing rules and settings (quiet hours,
 * digest window) as each instance copies them from PostgreSQL (services/storage/sql/table-copy.ts):
 * every alarm, outage and reach gap is routed from this instance's SQLite file. The notification
 * log (notification-log.ts) is written for every notice and stays in SQLite.
 */

export const RECIPIENTS_CHANNEL = 'notification_recipients_changed';

export const RECIPIENT_TABLES: readonly CopiedTable[] = [
  {
    name: 'notification_contacts',
    key: 'id',
    columns: [
      'id',
      'commune_id',
      'name',
      'email',
      'telegram_chat_id',
      'zalo_user_id',
      'village_head',
      'village_id',
      'quiet_start',
      'quiet_end',
      'enabled',
      'created_at',
      'updated_at',
    ],
    version: 'updated_at',
  },
  {
    name: 'notification_rules',
    key: 'id',
    columns: [
      'id',
      'commune_id',
      'name',
      'kinds',
      'min_severity',
      'contact_ids',
      'village_heads',
      'channels',
      'enabled',
      'created_at',
      'updated_at',
    ],
    version: 'updated_at',
  },
  {
    name: 'notification_settings',
    key: 'commune_id',
    columns: [
      'commune_id',
      'quiet_start',
      'quiet_end',
      'critical_bypasses_quiet',
      'digest_window_min',
      'updated_by',
      'updated_at',
    ],
    version: 'updated_at',
  },
];

export const recipientCopy = (db: Db, state: ConstructorParameters<typeof TableCopy>[1], logger: Logger) =>
  new TableCopy(db, state, logger, RECIPIENTS_CHANNEL, RECIPIENT_TABLES);
