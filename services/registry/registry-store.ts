import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type {
  ClusterCreate,
  ClusterPatch,
  Commune,
  CommuneCreate,
  CommunePatch,
  Province,
  Village,
  VillageCreate,
  VillagePatch,
} from '../../contracts/registry.js';
import { NotFoundError } from '../errors.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { isoTime } from '../time.js';
import type { ClusterRecord } from './cluster-record.js';
import {
  generateDeviceSecret,
  hashDeviceSecret,
  isLegacyDeviceHash,
  verifyDeviceSecret,
} from './device-secrets.js';
import { registryCopy } from './registry-copy.js';

/**
 * Which communes' records a list holds: one asked for, and those a limited account may see
 * (both apply); neither means every commune.
 */
export interface CommuneFilter {
  communeId?: string | undefined;
  communeIds?: readonly string[] | undefined;
}

/** SQL conditions on a commune column for a filter, with their named parameters. */
export function communeConditions(
  column: string,
  filter: CommuneFilter,
): { clauses: string[]; params: { communeId?: string; communeIds?: string } } {
  const clauses: string[] = [];
  const params: { communeId?: string; communeIds?: string } = {};
  if (filter.communeId) {
    clauses.push(`${column} = @communeId`);
    params.communeId = filter.communeId;
  }
  if (filter.communeIds) {
    clauses.push(`${column} IN (SELECT value FROM json_each(@communeIds))`);
    params.communeIds = JSON.stringify(filter.communeIds);
  }
  return { clauses, params };
}

export interface Page {
  limit: number;
  offset: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

interface CommuneRow {
  id: string;
  name: string;
  district: string | null;
  province: string | null;
  timezone: string;
  approval_required: number;
  code: string | null;
  province_id: string | null;
  province_name: string | null;
  created_at: number;
  updated_at: number;
}

interface VillageRow {
  id: string;
  commune_id: string;
  name: string;
  name_is_placeholder: number;
  created_at: number;
  updated_at: number;
}

interface ClusterRow {
  id: string;
  village_id: string;
  commune_id: string;
  name: string;
  address: string | null;
  lat: number;
  lon: number;
  heartbeat_timeout_s: number | null;
  issued_at: number | null;
  created_at: number;
  updated_at: number;
}

const newId = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Communes with their province's name, when they name one. */
const COMMUNE_SELECT = `
  SELECT c.*, p.name AS province_name FROM communes c LEFT JOIN provinces p ON p.id = c.province_id`;

function toCommune(row: CommuneRow): Commune {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    provinceId: row.province_id,
    district: row.district,
    province: row.province_name ?? row.province,
    timezone: row.timezone,
    approvalRequired: row.approval_required === 1,
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

function toVillage(row: VillageRow): Village {
  return {
    id: row.id,
    communeId: row.commune_id,
    name: row.name,
    namePlaceholder: row.name_is_placeholder === 1,
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

/** Constraint failures (either engine's) become conflicts that say what clashed. */
function constrained<T>(what: string, write: () => Promise<T>): Promise<T> {
  return translateConstraintAsync(
    {
      duplicateId: `${what} with this id already exists`,
      duplicate: `${what} with this name already exists here`,
      reference: `${what} is referenced by other records or refers to a missing one`,
    },
    write,
  );
}

const speakerList = (speakers: number | { idx: number; label: string }[]) =>
  typeof speakers === 'number'
    ? Array.from({ length: speakers }, (_, i) => ({ idx: i + 1, label: `Loa ${i + 1}` }))
    : speakers;

const CLUSTER_SELECT = `
  SELECT c.*, v.commune_id, dc.issued_at
  FROM clusters c
  JOIN villages v ON v.id = c.village_id
  LEFT JOIN device_credentials dc ON dc.device_id = c.id`;

/** A committed change to the registry, and the clusters whose placement or settings it touches. */
export interface RegistryChange {
  entity: 'commune' | 'village' | 'cluster';
  id: string;
  change: 'created' | 'updated' | 'deleted';
  clusterIds: string[];
  /** A created or updated cluster's heartbeat timeout override. */
  heartbeatTimeoutS?: number | null;
}

/** How long the outputs of every cluster are kept in memory before they are read again. */
const OUTPUT_MASKS_TTL_MS = 60_000;

export interface RegistryStoreOptions {
  /** The platform's SQLite file: the registry itself, or its read copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL. */
  state: StateDatabase;
  now: () => number;
  defaultTimezone: string;
  logger: Logger;
  /** Told after every committed change, whoever made it (API, seed, command line, another instance). */
  onChange?: (change: RegistryChange) => void;
}

/**
 * The commune → village → cluster → speaker registry and device credentials. Reads are answered
 * from the platform's SQLite file at once (the broker and the dispatcher read it on every message);
 * writes go through the query layer, to that file or to PostgreSQL, whose changes every instance
 * copies into its file (registry-copy.ts). Time comes from the injected clock function so records
 * are stamped consistently in tests.
 */
export class RegistryStore {
  private readonly db: Db;
  private readonly state: StateDatabase;
  private readonly now: () => number;
  private readonly defaultTimezone: string;
  private readonly onChange: (change: RegistryChange) => void;
  private readonly copy: TableCopy;

  constructor(options: RegistryStoreOptions) {
    this.db = options.db;
    this.state = options.state;
    this.now = options.now;
    this.defaultTimezone = options.defaultTimezone;
    this.onChange = options.onChange ?? (() => undefined);
    this.copy = registryCopy(options.db, options.state, options.logger);
  }

  /**
   * With PostgreSQL: fills this instance's copy, then follows the other instances' changes, which
   * are told to onChange as if made here. Nothing to do on SQLite alone.
   */
  async start(): Promise<void> {
    await this.copy.start((touch) => this.heard(touch));
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  /** Another instance's change, now in this instance's copy. */
  private heard(touch: TableTouch): void {
    this.outputMasks = null;
    if (touch.quiet) return;
    const { id, change } = touch;
    if (touch.table === 'clusters') {
      if (change === 'deleted') this.onChange({ entity: 'cluster', id, change, clusterIds: [id] });
      else if (this.findCluster(id)) this.clusterChanged(id, change);
    } else if (touch.table === 'villages') this.changed('village', id, change);
    else if (touch.table === 'communes') this.changed('commune', id, change);
  }

  /**
   * One write in one transaction of the query layer, announced to the other instances when it
   * commits, then copied here (with PostgreSQL) before anyone reads it.
   */
  private async write(
    what: string,
    touch: TableTouch,
    work: (trx: StateTransaction) => Promise<unknown>,
  ): Promise<void> {
    await constrained(what, () =>
      this.state.transaction(async (trx) => {
        await work(trx);
        await this.copy.announce(trx, touch);
      }),
    );
    await this.copy.copy(touch);
  }

  /**
   * A record a write depends on: read here, and with PostgreSQL looked up there once more before it
   * is called missing, since another instance may have written it a moment ago.
   */
  private async present<T>(entity: 'commune' | 'village' | 'cluster', id: string, read: () => T): Promise<T> {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof NotFoundError) || !this.copy.remote) throw error;
      await this.copy.copy({ table: `${entity}s`, id });
      return read();
    }
  }

  /**
   * With PostgreSQL, refuses a delete the records in this instance's file still hold on to (ON
   * DELETE RESTRICT), before PostgreSQL deletes it: the delete is tried here and rolled back.
   */
  private refusedHere(what: string, table: 'communes' | 'villages' | 'clusters', id: string): Promise<void> {
    if (!this.copy.remote) return Promise.resolve();
    return constrained(what, async () => {
      const trial = this.db.transaction(() => {
        this.db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id);
        throw new TrialRollback();
      });
      try {
        trial();
      } catch (error) {
        if (!(error instanceof TrialRollback)) throw error;
      }
    });
  }

  /** The clusters a change of this record moves or renames (their placement tags change). */
  private clustersUnder(entity: 'commune' | 'village', id: string): string[] {
    const sql =
      entity === 'village'
        ? 'SELECT id FROM clusters WHERE village_id = ?'
        : 'SELECT c.id FROM clusters c JOIN villages v ON v.id = c.village_id WHERE v.commune_id = ?';
    return this.db.prepare(sql).pluck().all(id) as string[];
  }

  private changed(entity: 'commune' | 'village', id: string, change: RegistryChange['change']): void {
    this.onChange({ entity, id, change, clusterIds: this.clustersUnder(entity, id) });
  }

  /** A cluster created or changed: its record, read once, is both the answer and the news. */
  private clusterChanged(id: string, change: 'created' | 'updated'): ClusterRecord {
    const cluster = this.getCluster(id);
    this.onChange({
      entity: 'cluster',
      id,
      change,
      clusterIds: [id],
      heartbeatTimeoutS: cluster.heartbeatTimeoutS,
    });
    return cluster;
  }

  private outputMasks: Map<string, number> | null = null;
  private outputMasksAt = 0;

  // Communes

  listCommunes(page: Page): Paged<Commune> {
    const rows = this.db
      .prepare(`${COMMUNE_SELECT} ORDER BY natural_key(c.name), c.id LIMIT ? OFFSET ?`)
      .all(page.limit, page.offset) as CommuneRow[];
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM communes').get() as { n: number };
    return { items: rows.map(toCommune), total: n, ...page };
  }

  // Provinces

  /** The 34 provinces, by code, with how many communes each has here. */
  listProvinces(): Province[] {
    return this.db
      .prepare(
        `SELECT p.id, p.code, p.name, COUNT(c.id) AS communes FROM provinces p
         LEFT JOIN communes c ON c.province_id = p.id GROUP BY p.id ORDER BY p.code`,
      )
      .all() as Province[];
  }

  getProvince(id: string): Province {
    const found = this.listProvinces().find((p) => p.id === id);
    if (!found) throw new NotFoundError('province', id);
    return found;
  }

  /** How many villages each commune has. */
  villageCounts(): Map<string, number> {
    const rows = this.db
      .prepare('SELECT commune_id AS communeId, COUNT(*) AS n FROM villages GROUP BY commune_id')
      .all() as { communeId: string; n: number }[];
    return new Map(rows.map((r) => [r.communeId, r.n]));
  }

  /** The ids of a province's communes. */
  communesOfProvince(provinceId: string): string[] {
    return (
      this.db.prepare('SELECT id FROM communes WHERE province_id = ? ORDER BY id').all(provinceId) as {
        id: string;
      }[]
    ).map((r) => r.id);
  }

  private checkedProvince(id: string | null | undefined): string | null {
    if (id == null) return null;
    const row = this.db.prepare('SELECT 1 FROM provinces WHERE id = ?').get(id);
    if (!row) throw new NotFoundError('province', id);
    return id;
  }

  /** The communes whose announcements must be approved before they air. */
  communesRequiringApproval(): Set<string> {
    const rows = this.db.prepare('SELECT id FROM communes WHERE approval_required = 1').all() as {
      id: string;
    }[];
    return new Set(rows.map((r) => r.id));
  }

  getCommune(id: string): Commune {
    const row = this.db.prepare(`${COMMUNE_SELECT} WHERE c.id = ?`).get(id) as CommuneRow | undefined;
    if (!row) throw new NotFoundError('commune', id);
    return toCommune(row);
  }

  /** The commune holding this official code, if any. */
  communeWithCode(code: string): Commune | null {
    const row = this.db.prepare(`${COMMUNE_SELECT} WHERE c.code = ?`).get(code) as CommuneRow | undefined;
    return row ? toCommune(row) : null;
  }

  async createCommune(input: CommuneCreate): Promise<Commune> {
    const id = input.id ?? newId('xa');
    const now = this.now();
    const provinceId = this.checkedProvince(input.provinceId);
    await this.write('commune', { table: 'communes', id, change: 'created' }, (trx) =>
      trx
        .insertInto('communes')
        .values({
          id,
          code: input.code ?? null,
          province_id: provinceId,
          name: input.name,
          district: input.district ?? null,
          province: input.province ?? null,
          timezone: input.timezone ?? this.defaultTimezone,
          approval_required: input.approvalRequired ? 1 : 0,
          created_at: now,
          updated_at: now,
        })
        .execute(),
    );
    this.changed('commune', id, 'created');
    return this.getCommune(id);
  }

  async updateCommune(id: string, patch: CommunePatch): Promise<Commune> {
    const current = await this.present('commune', id, () => this.getCommune(id));
    const provinceId =
      patch.provinceId === undefined ? current.provinceId : this.checkedProvince(patch.provinceId);
    await this.write('commune', { table: 'communes', id, change: 'updated' }, (trx) =>
      trx
        .updateTable('communes')
        .set({
          code: patch.code === undefined ? current.code : patch.code,
          province_id: provinceId,
          name: patch.name ?? current.name,
          district: patch.district === undefined ? current.district : patch.district,
          province: patch.province === undefined ? current.province : patch.province,
          timezone: patch.timezone ?? current.timezone,
          approval_required: (patch.approvalRequired ?? current.approvalRequired) ? 1 : 0,
          updated_at: this.now(),
        })
        .where('id', '=', id)
        .execute(),
    );
    this.changed('commune', id, 'updated');
    return this.getCommune(id);
  }

  async deleteCommune(id: string): Promise<void> {
    await this.present('commune', id, () => this.getCommune(id));
    await this.refusedHere('commune', 'communes', id);
    await this.write('commune', { table: 'communes', id, change: 'deleted' }, (trx) =>
      trx.deleteFrom('communes').where('id', '=', id).execute(),
    );
    this.changed('commune', id, 'deleted');
  }

  // Villages

  listVillages(filter: CommuneFilter, page: Page): Paged<Village> {
    const communes = communeConditions('commune_id', filter);
    const where = communes.clauses.length ? `WHERE ${communes.clauses.join(' AND ')}` : '';
    const params = { ...communes.params, limit: page.limit, offset: page.offset };
    const rows = this.db
      .prepare(`SELECT * FROM villages ${where} ORDER BY natural_key(name), id LIMIT @limit OFFSET @offset`)
      .all(params) as VillageRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM villages ${where}`).get(params) as { n: number };
    return { items: rows.map(toVillage), total: n, ...page };
  }

  getVillage(id: string): Village {
    const row = this.db.prepare('SELECT * FROM villages WHERE id = ?').get(id) as VillageRow | undefined;
    if (!row) throw new NotFoundError('village', id);
    return toVillage(row);
  }

  async createVillage(input: VillageCreate): Promise<Village> {
    await this.present('commune', input.communeId, () => this.getCommune(input.communeId));
    const id = input.id ?? newId('thon');
    const now = this.now();
    await this.write('village', { table: 'villages', id, change: 'created' }, (trx) =>
      trx
        .insertInto('villages')
        .values({
          id,
          commune_id: input.communeId,
          name: input.name,
          name_is_placeholder: input.namePlaceholder ? 1 : 0,
          created_at: now,
          updated_at: now,
        })
        .execute(),
    );
    this.changed('village', id, 'created');
    return this.getVillage(id);
  }

  async updateVillage(id: string, patch: VillagePatch): Promise<Village> {
    const current = await this.present('village', id, () => this.getVillage(id));
    await this.write('village', { table: 'villages', id, change: 'updated' }, (trx) =>
      trx
        .updateTable('villages')
        .set({
          name: patch.name ?? current.name,
          name_is_placeholder: (patch.namePlaceholder ?? current.namePlaceholder) ? 1 : 0,
          updated_at: this.now(),
        })
        .where('id', '=', id)
        .execute(),
    );
    this.changed('village', id, 'updated');
    return this.getVillage(id);
  }

  async deleteVillage(id: string): Promise<void> {
    await this.present('village', id, () => this.getVillage(id));
    await this.refusedHere('village', 'villages', id);
    await this.write('village', { table: 'villages', id, change: 'deleted' }, (trx) =>
      trx.deleteFrom('villages').where('id', '=', id).execute(),
    );
    this.changed('village', id, 'deleted');
  }

  // Clusters and their speakers

  /** Name and village of each of these clusters (ids not in the registry are left out). */
  clusterLabels(ids: readonly string[]): Map<string, { name: string; villageId: string }> {
    const rows = this.db
      .prepare(
        'SELECT id, name, village_id AS villageId FROM clusters WHERE id IN (SELECT value FROM json_each(?))',
      )
      .all(JSON.stringify(ids)) as { id: string; name: string; villageId: string }[];
    return new Map(rows.map((r) => [r.id, { name: r.name, villageId: r.villageId }]));
  }

  listClusters(
    filter: CommuneFilter & { villageId?: string | undefined; ids?: string[] | undefined },
    page: Page,
  ): Paged<ClusterRecord> {
    const communes = communeConditions('v.commune_id', filter);
    const clauses = [...communes.clauses];
    if (filter.villageId) clauses.push('c.village_id = @villageId');
    if (filter.ids) clauses.push('c.id IN (SELECT value FROM json_each(@ids))');
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const params = {
      ...communes.params,
      villageId: filter.villageId,
      ids: filter.ids ? JSON.stringify(filter.ids) : undefined,
      limit: page.limit,
      offset: page.offset,
    };
    const rows = this.db
      .prepare(`${CLUSTER_SELECT} ${where} ORDER BY c.id LIMIT @limit OFFSET @offset`)
      .all(params) as ClusterRow[];
    const { n } = this.db
      .prepare(`SELECT COUNT(*) AS n FROM clusters c JOIN villages v ON v.id = c.village_id ${where}`)
      .get(params) as { n: number };
    return { items: this.withSpeakers(rows), total: n, ...page };
  }

  /** Every cluster with its village and commune, and nothing else: for resolving broadcast targets. */
  clusterPlacements(): { id: string; villageId: string; communeId: string }[] {
    return this.db
      .prepare(
        'SELECT c.id, c.village_id AS villageId, v.commune_id AS communeId FROM clusters c JOIN villages v ON v.id = c.village_id',
      )
      .all() as { id: string; villageId: string; communeId: string }[];
  }

  /** Every cluster id with its heartbeat timeout override, for presence bookkeeping. */
  clusterTimeouts(): Map<string, number | null> {
    const rows = this.db.prepare('SELECT id, heartbeat_timeout_s FROM clusters').all() as {
      id: string;
      heartbeat_timeout_s: number | null;
    }[];
    return new Map(rows.map((r) => [r.id, r.heartbeat_timeout_s]));
  }

  /**
   * The outputs registered for a cluster as a bit mask (bit n for output n), or null for a device
   * that is not a registered cluster. Read on every heartbeat, so kept in memory: this store's own
   * changes drop it to be read again, and it is read afresh every minute for changes made by
   * another instance on the same database.
   */
  outputMask(clusterId: string): number | null {
    const now = this.now();
    if (!this.outputMasks || now - this.outputMasksAt > OUTPUT_MASKS_TTL_MS || now < this.outputMasksAt) {
      const masks = new Map<string, number>();
      for (const row of this.db.prepare('SELECT cluster_id AS id, idx FROM speakers').iterate() as Iterable<{
        id: string;
        idx: number;
      }>)
        masks.set(row.id, (masks.get(row.id) ?? 0) | (1 << row.idx));
      this.outputMasks = masks;
      this.outputMasksAt = now;
    }
    return this.outputMasks.get(clusterId) ?? null;
  }

  /** The cluster, or null when there is none with this id. */
  findCluster(id: string): ClusterRecord | null {
    const row = this.db.prepare(`${CLUSTER_SELECT} WHERE c.id = ?`).get(id) as ClusterRow | undefined;
    return row ? (this.withSpeakers([row])[0] ?? null) : null;
  }

  getCluster(id: string): ClusterRecord {
    const cluster = this.findCluster(id);
    if (!cluster) throw new NotFoundError('cluster', id);
    return cluster;
  }

  async createCluster(input: ClusterCreate): Promise<ClusterRecord> {
    await this.present('village', input.villageId, () => this.getVillage(input.villageId));
    const now = this.now();
    await this.write('cluster', { table: 'clusters', id: input.id, change: 'created' }, async (trx) => {
      await trx
        .insertInto('clusters')
        .values({
          id: input.id,
          village_id: input.villageId,
          name: input.name,
          address: input.address ?? null,
          lat: input.location.lat,
          lon: input.location.lon,
          heartbeat_timeout_s: input.heartbeatTimeoutS ?? null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await this.replaceSpeakers(trx, input.id, input.speakers ?? 2);
    });
    return this.clusterChanged(input.id, 'created');
  }

  async updateCluster(id: string, patch: ClusterPatch): Promise<ClusterRecord> {
    const current = await this.present('cluster', id, () => this.getCluster(id));
    const villageId = patch.villageId;
    if (villageId) await this.present('village', villageId, () => this.getVillage(villageId));
    await this.write('cluster', { table: 'clusters', id, change: 'updated' }, async (trx) => {
      await trx
        .updateTable('clusters')
        .set({
          village_id: patch.villageId ?? current.villageId,
          name: patch.name ?? current.name,
          address: patch.address === undefined ? current.address : patch.address,
          lat: patch.location?.lat ?? current.location.lat,
          lon: patch.location?.lon ?? current.location.lon,
          heartbeat_timeout_s:
            patch.heartbeatTimeoutS === undefined ? current.heartbeatTimeoutS : patch.heartbeatTimeoutS,
          updated_at: this.now(),
        })
        .where('id', '=', id)
        .execute();
      if (patch.speakers !== undefined) await this.replaceSpeakers(trx, id, patch.speakers);
    });
    return this.clusterChanged(id, 'updated');
  }

  async deleteCluster(id: string): Promise<void> {
    await this.present('cluster', id, () => this.getCluster(id));
    await this.refusedHere('cluster', 'clusters', id);
    await this.write('cluster', { table: 'clusters', id, change: 'deleted' }, (trx) =>
      trx.deleteFrom('clusters').where('id', '=', id).execute(),
    );
    this.outputMasks = null;
    this.onChange({ entity: 'cluster', id, change: 'deleted', clusterIds: [id] });
  }

  // Device credentials

  private readonly secretListeners = new Set<(deviceId: string, secret: string, issuedAt: number) => void>();

  /**
   * Hears each secret this store issues, in plaintext, once it is stored: for an external broker
   * that must be handed the password itself (the store keeps only a hash). Returns the unsubscribe.
   */
  onSecretIssued(listener: (deviceId: string, secret: string, issuedAt: number) => void): () => void {
    this.secretListeners.add(listener);
    return () => this.secretListeners.delete(listener);
  }

  /** Issues a new secret for the device, replacing any earlier one. The secret is returned once only. */
  async issueSecret(deviceId: string): Promise<{ secret: string; issuedAt: number; rotated: boolean }> {
    await this.present('cluster', deviceId, () => this.getCluster(deviceId));
    const secret = generateDeviceSecret();
    const hash = hashDeviceSecret(secret);
    const issuedAt = this.now();
    let rotated = false;
    await this.write(
      'credential',
      { table: 'clusters', id: deviceId, change: 'updated', quiet: true },
      async (trx) => {
        const existing = await trx
          .selectFrom('device_credentials')
          .select('device_id')
          .where('device_id', '=', deviceId)
          .executeTakeFirst();
        rotated = existing !== undefined;
        await trx
          .insertInto('device_credentials')
          .values({ device_id: deviceId, secret_hash: hash, issued_at: issuedAt, rotations: 0 })
          .onConflict((oc) =>
            oc.column('device_id').doUpdateSet({
              secret_hash: (eb) => eb.ref('excluded.secret_hash'),
              issued_at: (eb) => eb.ref('excluded.issued_at'),
              rotations: sql<number>`device_credentials.rotations + 1`,
            }),
          )
          .execute();
      },
    );
    for (const listener of this.secretListeners) listener(deviceId, secret, issuedAt);
    return { secret, issuedAt, rotated };
  }

  async verifySecret(deviceId: string, secret: string): Promise<boolean> {
    const read = () =>
      this.db.prepare('SELECT secret_hash FROM device_credentials WHERE device_id = ?').get(deviceId) as
        | { secret_hash: string }
        | undefined;
    let row = read();
    let ok = row ? await verifyDeviceSecret(secret, row.secret_hash) : false;
    if (!ok && this.copy.remote) {
      // Issued or rotated on another instance a moment ago, perhaps: its news may not have arrived
      // yet. Only a refusal asks PostgreSQL (and the broker throttles repeated refusals).
      await this.copy.copy({ table: 'clusters', id: deviceId });
      const fresh = read();
      if (fresh && fresh.secret_hash !== row?.secret_hash) {
        row = fresh;
        ok = await verifyDeviceSecret(secret, fresh.secret_hash);
      }
    }
    if (!row || !ok) return false;
    if (isLegacyDeviceHash(row.secret_hash)) {
      // Upgrade a slow hash from an earlier version, unless the secret was rotated meanwhile.
      const legacy = row.secret_hash;
      await this.write(
        'credential',
        { table: 'clusters', id: deviceId, change: 'updated', quiet: true },
        (trx) =>
          trx
            .updateTable('device_credentials')
            .set({ secret_hash: hashDeviceSecret(secret) })
            .where('device_id', '=', deviceId)
            .where('secret_hash', '=', legacy)
            .execute(),
      );
    }
    return true;
  }

  private async replaceSpeakers(
    trx: StateTransaction,
    clusterId: string,
    speakers: number | { idx: number; label: string }[],
  ): Promise<void> {
    // Read again on the next heartbeat: after this transaction, whether it commits or not.
    this.outputMasks = null;
    const list = speakerList(speakers);
    await trx.deleteFrom('speakers').where('cluster_id', '=', clusterId).execute();
    if (list.length > 0)
      await trx
        .insertInto('speakers')
        .values(list.map((s) => ({ cluster_id: clusterId, idx: s.idx, label: s.label })))
        .execute();
  }

  private withSpeakers(rows: ClusterRow[]): ClusterRecord[] {
    if (rows.length === 0) return [];
    const speakers = this.db
      .prepare(
        'SELECT cluster_id, idx, label FROM speakers WHERE cluster_id IN (SELECT value FROM json_each(?)) ORDER BY idx',
      )
      .all(JSON.stringify(rows.map((r) => r.id))) as { cluster_id: string; idx: number; label: string }[];
    // Map.groupBy needs Node 21; the platform runs on Node 20.
    const byCluster = new Map<string, { idx: number; label: string }[]>();
    for (const s of speakers) {
      const list = byCluster.get(s.cluster_id) ?? [];
      list.push({ idx: s.idx, label: s.label });
      byCluster.set(s.cluster_id, list);
    }
    return rows.map((row) => ({
      id: row.id,
      villageId: row.village_id,
      communeId: row.commune_id,
      name: row.name,
      address: row.address,
      location: { lat: row.lat, lon: row.lon },
      heartbeatTimeoutS: row.heartbeat_timeout_s,
      speakers: byCluster.get(row.id) ?? [],
      credentialIssuedAt: row.issued_at === null ? null : isoTime(row.issued_at),
      createdAt: isoTime(row.created_at),
      updatedAt: isoTime(row.updated_at),
    }));
  }
}

/** Ends the trial delete of refusedHere, rolling it back. */
class TrialRollback extends Error {}
