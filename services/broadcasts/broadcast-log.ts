import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import { ShippedLog, type ShippedTable } from '../storage/sql/shipped-log.js';
import type { StateDatabase } from '../storage/sql/state-database.js';

/** The broadcast log's tables as shipped to PostgreSQL (parents first). */
export const BROADCAST_LOG_TABLES: readonly ShippedTable[] = [
  {
    name: 'broadcasts',
    key: ['id'],
    columns: [
      'id',
      'kind',
      'schedule_id',
      'occurrence_at',
      'name',
      'level',
      'content',
      'volume',
      'repeat',
      'start_at',
      'end_at',
      'expires_at',
      'status',
      'created_by',
      'created_at',
      'stopped_at',
      'stopped_by',
      'recording_media_id',
      'approved_by',
      'review_state',
      'reviewed_by',
      'bulletin_id',
    ],
    // A broadcast finished or stopped stays so, whatever an instance that still had it active ships.
    settled: { column: 'status', open: 'active' },
  },
  {
    name: 'deliveries',
    key: ['broadcast_id', 'cluster_id'],
    columns: [
      'broadcast_id',
      'cluster_id',
      'command_id',
      'state',
      'reason',
      'attempts',
      'play_attempt',
      'next_attempt_at',
      'sent_at',
      'accepted_at',
      'started_at',
      'finished_at',
      'speakers',
      'items',
      'updated_at',
    ],
    // Written by the dispatcher's holder only; one that crashed ships its last changes when it
    // starts again, and they must not undo what the next holder recorded since.
    version: 'updated_at',
  },
  {
    name: 'broadcast_communes',
    key: ['broadcast_id', 'commune_id'],
    columns: ['broadcast_id', 'commune_id'],
  },
  {
    name: 'relay_switches',
    key: ['broadcast_id', 'at', 'reason'],
    columns: ['broadcast_id', 'at', 'reason', 'fallback', 'to_broadcast_id'],
    unique: false,
  },
  {
    // An emergency's review after it aired; the schedules' steps are copied by schedule-copy.ts.
    name: 'approval_steps',
    key: ['subject_type', 'subject_id', 'step', 'at'],
    columns: ['subject_type', 'subject_id', 'step', 'actor', 'comment', 'at'],
    unique: false,
    only: { column: 'subject_type', value: 'broadcast' },
  },
  {
    // The dispatcher's last pass: a new holder catches up on the occurrences due since.
    name: 'service_state',
    key: ['key'],
    columns: ['key', 'value', 'updated_at'],
  },
];

export const broadcastLog = (db: Db, state: StateDatabase, logger: Logger) =>
  new ShippedLog(
    db,
    state,
    logger.child({ component: 'broadcast-log' }),
    'broadcast_log',
    BROADCAST_LOG_TABLES,
  );
