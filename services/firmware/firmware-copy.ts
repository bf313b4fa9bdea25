import type { Logger } from 'pino';
import type { ChunkedFiles } from '../media/media-chunks.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * Firmware images and rollouts as each instance copies them from PostgreSQL (services/storage/sql/
 * table-copy.ts): the rollout loop reads a rollout's clusters on every answer a cluster sends, and
 * the download route an image's checksum, synchronously, from this instance's SQLite file. A
 * rollout is copied with every cluster's progress row whenever one of them changes. Image files
 * are fetched apart (services/media/media-chunks.ts), as soon as the copy hears of a new image.
 */

export const FIRMWARE_IMAGES_CHANNEL = 'firmware_images_changed';
export const FIRMWARE_ROLLOUTS_CHANNEL = 'firmware_rollouts_changed';

export const FIRMWARE_FILES: ChunkedFiles = {
  items: 'firmware_images',
  chunks: 'firmware_chunks',
  key: 'image_id',
  noun: 'firmware image',
};

export const FIRMWARE_IMAGE_TABLES: readonly CopiedTable[] = [
  {
    name: 'firmware_images',
    key: 'id',
    columns: ['id', 'version', 'filename', 'size_bytes', 'sha256', 'notes', 'created_by', 'created_at'],
  },
];

export const ROLLOUT_CLUSTER_COLUMNS = [
  'rollout_id',
  'cluster_id',
  'position',
  'batch',
  'commune_id',
  'village_id',
  'from_version',
  'reported_version',
  'stage',
  'outcome',
  'error',
  'command_id',
  'command',
  'started_at',
  'deadline_at',
  'updated_at',
] as const;

/*
 * No version column: a rollout's row does not change when its clusters do. A full copy rewrites
 * every row all the same; only what it reports as changed is limited to rollouts created or gone.
 * A rollout's image is another copy's row: one heard before its image is copied again a moment
 * later (table-copy.ts), once the image is here.
 */
export const ROLLOUT_TABLES: readonly CopiedTable[] = [
  {
    name: 'firmware_rollouts',
    key: 'id',
    columns: [
      'id',
      'image_id',
      'version',
      'selection',
      'commune_ids',
      'batch_size',
      'failure_threshold',
      'cluster_timeout_s',
      'state',
      'halt_reason',
      'created_by',
      'created_at',
      'finished_at',
    ],
    children: [
      {
        name: 'firmware_rollout_clusters',
        foreignKey: 'rollout_id',
        columns: ROLLOUT_CLUSTER_COLUMNS,
      },
    ],
  },
];

export const firmwareImagesCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, FIRMWARE_IMAGES_CHANNEL, FIRMWARE_IMAGE_TABLES);

export const rolloutsCopy = (db: Db, state: StateDatabase, logger: Logger) =>
  new TableCopy(db, state, logger, FIRMWARE_ROLLOUTS_CHANNEL, ROLLOUT_TABLES);
