import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * The media library's rows and the speech cache as each instance copies them from PostgreSQL
 * (services/storage/sql/table-copy.ts): the dispatcher reads an item's length and link on every
 * play, synchronously, from this instance's SQLite file. The files themselves are fetched apart
 * (media-chunks.ts), as soon as the copy hears of a new item.
 */

export const MEDIA_CHANNEL = 'media_changed';
export const SPEECH_CACHE_CHANNEL = 'speech_cache_changed';

export const MEDIA_TABLES: readonly CopiedTable[] = [
  {
    name: 'media',
    key: 'id',
    columns: [
      'id',
      'name',
      'mime',
      'ext',
      'size_bytes',
      'sha256',
      'duration_s',
      'created_at',
      'created_by',
      'commune_id',
    ],
  },
];

export const SPEECH_CACHE_TABLES: readonly CopiedTable[] = [
  { name: 'speech_cache', key: 'key', columns: ['key', 'media_id', 'created_at'] },
];

export const mediaCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, MEDIA_CHANNEL, MEDIA_TABLES);

export const speechCacheCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, SPEECH_CACHE_CHANNEL, SPEECH_CACHE_TABLES);
