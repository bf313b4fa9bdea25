import type { RolloutCreate, RolloutOutcome, RolloutStage, RolloutState } from '../../contracts/firmware.js';
import type { Command } from '../../devices/index.js';
import type { Db } from '../storage/database.js';

export interface RolloutRecord {
  id: string;
  imageId: string;
  version: string;
  selection: Pick<RolloutCreate, 'targets' | 'communeId' | 'percentage'>;
  communeIds: string[];
  batchSize: number;
  failureThreshold: number;
  clusterTimeoutS: number;
  state: RolloutState;
  haltReason: string | null;
  createdBy: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface RolloutClusterRecord {
  rolloutId: string;
  clusterId: string;
  position: number;
  batch: number;
  communeId: string;
  villageId: string;
  fromVersion: string | null;
  reportedVersion: string | null;
  stage: RolloutStage;
  outcome: RolloutOutcome;
  error: string | null;
  commandId: string | null;
  command: Command | null;
  startedAt: number | null;
  deadlineAt: number | null;
  updatedAt: number;
}

export type ClusterPatch = Partial<
  Pick<
    RolloutClusterRecord,
    'reportedVersion' | 'stage' | 'outcome' | 'error' | 'commandId' | 'command' | 'startedAt' | 'deadlineAt'
  >
>;

interface RolloutRow {
  id: string;
  image_id: string;
  version: string;
  selection: string;
  commune_ids: string;
  batch_size: number;
  failure_threshold: number;
  cluster_timeout_s: number;
  state: string;
  halt_reason: string | null;
  created_by: string | null;
  created_at: number;
  finished_at: number | null;
}

interface ClusterRow {
  rollout_id: string;
  cluster_id: string;
  position: number;
  batch: number;
  commune_id: string;
  village_id: string;
  from_version: string | null;
  reported_version: string | null;
  stage: string;
  outcome: string;
  error: string | null;
  command_id: string | null;
  command: string | null;
  started_at: number | null;
  deadline_at: number | null;
  updated_at: number;
}

const COLUMNS: Record<keyof ClusterPatch, string> = {
  reportedVersion: 'reported_version',
  stage: 'stage',
  outcome: 'outcome',
  error: 'error',
  commandId: 'command_id',
  command: 'command',
  startedAt: 'started_at',
  deadlineAt: 'deadline_at',
};

/** Rollouts and each cluster's progress, as rows: a restart picks a rollout up where it was. */
export class RolloutStore {
  constructor(private readonly db: Db) {}

  insert(rollout: RolloutRecord, clusters: readonly RolloutClusterRecord[]): void {
    const insertRollout = this.db.prepare(
      `INSERT INTO firmware_rollouts (id, image_id, version, selection, commune_ids, batch_size, failure_threshold,
         cluster_timeout_s, state, halt_reason, created_by, created_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertCluster = this.db.prepare(
      `INSERT INTO firmware_rollout_clusters (rollout_id, cluster_id, position, batch, commune_id, village_id,
         from_version, reported_version, stage, outcome, error, command_id, command, started_at, deadline_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, ?)`,
    );
    this.db.transaction(() => {
      insertRollout.run(
        rollout.id,
        rollout.imageId,
        rollout.version,
        JSON.stringify(rollout.selection),
        JSON.stringify(rollout.communeIds),
        rollout.batchSize,
        rollout.failureThreshold,
        rollout.clusterTimeoutS,
        rollout.state,
        rollout.haltReason,
        rollout.createdBy,
        rollout.createdAt,
        rollout.finishedAt,
      );
      for (const c of clusters) {
        insertCluster.run(
          c.rolloutId,
          c.clusterId,
          c.position,
          c.batch,
          c.communeId,
          c.villageId,
          c.fromVersion,
          c.reportedVersion,
          c.stage,
          c.outcome,
          c.error,
          c.updatedAt,
        );
      }
    })();
  }

  get(id: string): RolloutRecord | null {
    const row = this.db.prepare('SELECT * FROM firmware_rollouts WHERE id = ?').get(id) as
      | RolloutRow
      | undefined;
    return row ? toRollout(row) : null;
  }

  /** Newest first; with `communes`, only rollouts that reach one of them. */
  list(
    page: { limit: number; offset: number },
    communes: readonly string[] | null,
  ): { items: RolloutRecord[]; total: number } {
    const where = communes
      ? `WHERE EXISTS (SELECT 1 FROM json_each(commune_ids) AS c
           WHERE c.value IN (SELECT value FROM json_each(@communes)))`
      : '';
    const params = communes ? { communes: JSON.stringify(communes) } : {};
    const rows = this.db
      .prepare(
        `SELECT * FROM firmware_rollouts ${where} ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, ...page }) as RolloutRow[];
    const { total } = this.db
      .prepare(`SELECT COUNT(*) AS total FROM firmware_rollouts ${where}`)
      .get(params) as {
      total: number;
    };
    return { items: rows.map(toRollout), total };
  }

  /** Rollouts still deciding anything: running, or halted with clusters still updating. */
  open(): RolloutRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM firmware_rollouts r WHERE state = 'running' OR EXISTS (
           SELECT 1 FROM firmware_rollout_clusters c WHERE c.rollout_id = r.id AND c.outcome = 'in-progress')`,
      )
      .all() as RolloutRow[];
    return rows.map(toRollout);
  }

  clusters(rolloutId: string): RolloutClusterRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM firmware_rollout_clusters WHERE rollout_id = ? ORDER BY position')
      .all(rolloutId) as ClusterRow[];
    return rows.map(toCluster);
  }

  cluster(rolloutId: string, clusterId: string): RolloutClusterRecord | null {
    const row = this.db
      .prepare('SELECT * FROM firmware_rollout_clusters WHERE rollout_id = ? AND cluster_id = ?')
      .get(rolloutId, clusterId) as ClusterRow | undefined;
    return row ? toCluster(row) : null;
  }

  /** Every cluster sent an image and not yet finished, across rollouts. */
  inFlight(): RolloutClusterRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM firmware_rollout_clusters WHERE outcome = 'in-progress'")
      .all() as ClusterRow[];
    return rows.map(toCluster);
  }

  updateCluster(rolloutId: string, clusterId: string, patch: ClusterPatch, now: number): void {
    const entries = Object.entries(patch).filter(([, value]) => value !== undefined) as [
      keyof ClusterPatch,
      unknown,
    ][];
    const sets = entries.map(([key]) => `${COLUMNS[key]} = ?`);
    const values = entries.map(([key, value]) => (key === 'command' ? JSON.stringify(value) : value));
    this.db
      .prepare(
        `UPDATE firmware_rollout_clusters SET ${[...sets, 'updated_at = ?'].join(', ')}
         WHERE rollout_id = ? AND cluster_id = ?`,
      )
      .run(...values, now, rolloutId, clusterId);
  }

  setState(id: string, state: RolloutState, haltReason: string | null, finishedAt: number | null): void {
    this.db
      .prepare('UPDATE firmware_rollouts SET state = ?, halt_reason = ?, finished_at = ? WHERE id = ?')
      .run(state, haltReason, finishedAt, id);
  }
}

function toRollout(row: RolloutRow): RolloutRecord {
  return {
    id: row.id,
    imageId: row.image_id,
    version: row.version,
    selection: JSON.parse(row.selection) as RolloutRecord['selection'],
    communeIds: JSON.parse(row.commune_ids) as string[],
    batchSize: row.batch_size,
    failureThreshold: row.failure_threshold,
    clusterTimeoutS: row.cluster_timeout_s,
    state: row.state as RolloutState,
    haltReason: row.halt_reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

function toCluster(row: ClusterRow): RolloutClusterRecord {
  return {
    rolloutId: row.rollout_id,
    clusterId: row.cluster_id,
    position: row.position,
    batch: row.batch,
    communeId: row.commune_id,
    villageId: row.village_id,
    fromVersion: row.from_version,
    reportedVersion: row.reported_version,
    stage: row.stage as RolloutStage,
    outcome: row.outcome as RolloutOutcome,
    error: row.error,
    commandId: row.command_id,
    command: row.command === null ? null : (JSON.parse(row.command) as Command),
    startedAt: row.started_at,
    deadlineAt: row.deadline_at,
    updatedAt: row.updated_at,
  };
}
