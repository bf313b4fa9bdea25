import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * Webhooks and their outbox as each instance copies them from PostgreSQL (services/storage/sql/
 * table-copy.ts). The webhook-dispatcher lease's holder writes every delivery and attempt, but
 * every instance answers GET /webhooks (pending count, last delivery), its deliveries and
 * /healthz from them; the outbox is bounded per webhook (500 waiting, 100 finished), so a copy
 * stays small and those reads stay synchronous.
 */

export const WEBHOOKS_CHANNEL = 'webhooks_changed';

export const WEBHOOK_TABLES: readonly CopiedTable[] = [
  {
    name: 'webhooks',
    key: 'id',
    columns: [
      'id',
      'url',
      'events',
      'description',
      'province_id',
      'secret',
      'previous_secret',
      'previous_until',
      'created_by',
      'created_at',
      'secret_rotated_at',
    ],
  },
  {
    name: 'webhook_deliveries',
    key: 'id',
    columns: [
      'id',
      'webhook_id',
      'body',
      'types',
      'event_count',
      'state',
      'attempts',
      'next_attempt_at',
      'created_at',
      'finished_at',
    ],
    parent: { column: 'webhook_id', table: 'webhooks' },
    children: [
      {
        name: 'webhook_attempts',
        foreignKey: 'delivery_id',
        columns: ['delivery_id', 'n', 'at', 'status', 'error', 'duration_ms'],
      },
    ],
  },
];

export const webhookCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, WEBHOOKS_CHANNEL, WEBHOOK_TABLES);
