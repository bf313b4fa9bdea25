import { randomBytes } from 'node:crypto';
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
import { translateConstraint } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import { isoTime } from '../time.js';
import type { ClusterRecord } from './cluster-record.js';
import {
  generateDeviceSecret,
  hashDeviceSecret,
  isLegacyDeviceHash,
  verifyDeviceSecret,
} from './device-secrets.js';

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

/** SQLite constraint failures become conflicts that say what clashed. */
function constrained<T>(what: string, write: () => T): T {
  return translateConstraint(
    {
      duplicateId: `${what} with this id already exists`,
      duplicate: `${what} with this name already exists here`,
      reference: `${what} is referenced by other records or refers to a missing one`,
    },
    write,
  );
}

const CLUSTER_SELECT = `
  SELECT c.*, v.commune_id, dc.issued_at
  FROM clusters c
  JOIN villages v ON v.id = c.village_id
  LEFT JOIN device_credentials dc ON dc.device_id = c.id`;

/**
 * The commune → village → cluster → speaker registry and device credentials, on SQLite.
 * Time comes from the injected clock function so records are stamped consistently in tests.
 */
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

export class RegistryStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
    private readonly defaultTimezone: string,
    /** Told after every committed change, whoever made it (API, seed, command line). */
    private readonly onChange: (change: RegistryChange) => void = () => undefined,
  ) {}

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

  createCommune(input: CommuneCreate): Commune {
    const id = input.id ?? newId('xa');
    const now = this.now();
    constrained('commune', () =>
      this.db
        .prepare(
          `INSERT INTO communes (id, code, province_id, name, district, province, timezone, approval_required,
             created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          input.code ?? null,
          this.checkedProvince(input.provinceId),
          input.name,
          input.district ?? null,
          input.province ?? null,
          input.timezone ?? this.defaultTimezone,
          input.approvalRequired ? 1 : 0,
          now,
          now,
        ),
    );
    this.changed('commune', id, 'created');
    return this.getCommune(id);
  }

  updateCommune(id: string, patch: CommunePatch): Commune {
    const current = this.getCommune(id);
    this.db
      .prepare(
        `UPDATE communes SET code = ?, province_id = ?, name = ?, district = ?, province = ?, timezone = ?,
           approval_required = ?, updated_at = ?
         WHERE id = ?`,
      )
      .run(
        patch.code === undefined ? current.code : patch.code,
        patch.provinceId === undefined ? current.provinceId : this.checkedProvince(patch.provinceId),
        patch.name ?? current.name,
        patch.district === undefined ? current.district : patch.district,
        patch.province === undefined ? current.province : patch.province,
        patch.timezone ?? current.timezone,
        (patch.approvalRequired ?? current.approvalRequired) ? 1 : 0,
        this.now(),
        id,
      );
    this.changed('commune', id, 'updated');
    return this.getCommune(id);
  }

  deleteCommune(id: string): void {
    this.getCommune(id);
    constrained('commune', () => this.db.prepare('DELETE FROM communes WHERE id = ?').run(id));
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

  createVillage(input: VillageCreate): Village {
    this.getCommune(input.communeId);
    const id = input.id ?? newId('thon');
    const now = this.now();
    constrained('village', () =>
      this.db
        .prepare(
          `INSERT INTO villages (id, commune_id, name, name_is_placeholder, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(id, input.communeId, input.name, input.namePlaceholder ? 1 : 0, now, now),
    );
    this.changed('village', id, 'created');
    return this.getVillage(id);
  }

  updateVillage(id: string, patch: VillagePatch): Village {
    const current = this.getVillage(id);
    constrained('village', () =>
      this.db
        .prepare('UPDATE villages SET name = ?, name_is_placeholder = ?, updated_at = ? WHERE id = ?')
        .run(
          patch.name ?? current.name,
          (patch.namePlaceholder ?? current.namePlaceholder) ? 1 : 0,
          this.now(),
          id,
        ),
    );
    this.changed('village', id, 'updated');
    return this.getVillage(id);
  }

  deleteVillage(id: string): void {
    this.getVillage(id);
    constrained('village', () => this.db.prepare('DELETE FROM villages WHERE id = ?').run(id));
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

  createCluster(input: ClusterCreate): ClusterRecord {
    this.getVillage(input.villageId);
    const now = this.now();
    this.db.transaction(() => {
      constrained('cluster', () =>
        this.db
          .prepare(
            `INSERT INTO clusters (id, village_id, name, address, lat, lon, heartbeat_timeout_s, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            input.id,
            input.villageId,
            input.name,
            input.address ?? null,
            input.location.lat,
            input.location.lon,
            input.heartbeatTimeoutS ?? null,
            now,
            now,
          ),
      );
      this.replaceSpeakers(input.id, input.speakers ?? 2);
    })();
    return this.clusterChanged(input.id, 'created');
  }

  updateCluster(id: string, patch: ClusterPatch): ClusterRecord {
    const current = this.getCluster(id);
    if (patch.villageId) this.getVillage(patch.villageId);
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE clusters SET village_id = ?, name = ?, address = ?, lat = ?, lon = ?, heartbeat_timeout_s = ?,
           updated_at = ? WHERE id = ?`,
        )
        .run(
          patch.villageId ?? current.villageId,
          patch.name ?? current.name,
          patch.address === undefined ? current.address : patch.address,
          patch.location?.lat ?? current.location.lat,
          patch.location?.lon ?? current.location.lon,
          patch.heartbeatTimeoutS === undefined ? current.heartbeatTimeoutS : patch.heartbeatTimeoutS,
          this.now(),
          id,
        );
      if (patch.speakers !== undefined) this.replaceSpeakers(id, patch.speakers);
    })();
    return this.clusterChanged(id, 'updated');
  }

  deleteCluster(id: string): void {
    this.getCluster(id);
    this.db.prepare('DELETE FROM clusters WHERE id = ?').run(id);
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
    this.getCluster(deviceId);
    const secret = generateDeviceSecret();
    const hash = hashDeviceSecret(secret);
    const issuedAt = this.now();
    const existing = this.db.prepare('SELECT 1 FROM device_credentials WHERE device_id = ?').get(deviceId);
    this.db
      .prepare(
        `INSERT INTO device_credentials (device_id, secret_hash, issued_at, rotations) VALUES (?, ?, ?, 0)
         ON CONFLICT (device_id) DO UPDATE SET secret_hash = excluded.secret_hash,
           issued_at = excluded.issued_at, rotations = rotations + 1`,
      )
      .run(deviceId, hash, issuedAt);
    for (const listener of this.secretListeners) listener(deviceId, secret, issuedAt);
    return { secret, issuedAt, rotated: existing !== undefined };
  }

  async verifySecret(deviceId: string, secret: string): Promise<boolean> {
    const row = this.db
      .prepare('SELECT secret_hash FROM device_credentials WHERE device_id = ?')
      .get(deviceId) as { secret_hash: string } | undefined;
    if (!row) return false;
    const ok = await verifyDeviceSecret(secret, row.secret_hash);
    if (ok && isLegacyDeviceHash(row.secret_hash)) {
      // Upgrade a slow hash from an earlier version, unless the secret was rotated meanwhile.
      this.db
        .prepare('UPDATE device_credentials SET secret_hash = ? WHERE device_id = ? AND secret_hash = ?')
        .run(hashDeviceSecret(secret), deviceId, row.secret_hash);
    }
    return ok;
  }

  private replaceSpeakers(clusterId: string, speakers: number | { idx: number; label: string }[]): void {
    // Read again on the next heartbeat: after this transaction, whether it commits or not.
    this.outputMasks = null;
    const list =
      typeof speakers === 'number'
        ? Array.from({ length: speakers }, (_, i) => ({ idx: i + 1, label: `Loa ${i + 1}` }))
        : speakers;
    this.db.prepare('DELETE FROM speakers WHERE cluster_id = ?').run(clusterId);
    const insert = this.db.prepare('INSERT INTO speakers (cluster_id, idx, label) VALUES (?, ?, ?)');
    constrained('speaker', () => {
      for (const speaker of list) insert.run(clusterId, speaker.idx, speaker.label);
    });
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
