import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import { type CopiedTable, TableCopy } from '../storage/sql/table-copy.js';

/*
 * The registry's tables as each instance copies them from PostgreSQL (services/storage/sql/
 * table-copy.ts): the broker checks a device and the dispatcher resolves its targets on every
 * message from this instance's SQLite file, where the logs written there (shipped-log.ts) also find
 * the communes, villages and clusters they refer to. Provinces are not copied: both engines' migrations insert
 * the same 34 and nothing changes them.
 */

export const REGISTRY_CHANNEL = 'registry_changed';

export const REGISTRY_TABLES: readonly CopiedTable[] = [
  {
    name: 'communes',
    key: 'id',
    columns: [
      'id',
      'code',
      'province_id',
      'name',
      'district',
      'province',
      'timezone',
      'approval_required',
      'created_at',
      'updated_at',
    ],
    version: 'updated_at',
  },
  {
    name: 'villages',
    key: 'id',
    columns: ['id', 'commune_id', 'name', 'name_is_placeholder', 'created_at', 'updated_at'],
    parent: { column: 'commune_id', table: 'communes' },
    version: 'updated_at',
  },
  {
    name: 'clusters',
    key: 'id',
    columns: [
      'id',
      'village_id',
      'name',
      'address',
      'lat',
      'lon',
      'heartbeat_timeout_s',
      'created_at',
      'updated_at',
    ],
    parent: { column: 'village_id', table: 'villages' },
    children: [
      { name: 'speakers', foreignKey: 'cluster_id', columns: ['cluster_id', 'idx', 'label'] },
      {
        name: 'device_credentials',
        foreignKey: 'device_id',
        columns: ['device_id', 'secret_hash', 'issued_at', 'rotations'],
      },
    ],
    version: 'updated_at',
  },
];

export const registryCopy = (db: Db, state: ConstructorParameters<typeof TableCopy>[1], logger: Logger) =>
  new TableCopy(db, state, logger, REGISTRY_CHANNEL, REGISTRY_TABLES);
