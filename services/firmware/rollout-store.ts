import type { Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { RolloutCreate, RolloutOutcome, RolloutStage, RolloutState } from '../../contracts/firmware.js';
import type { Command } from '../../devices/index.js';
import { ClusterProgress } from '../storage/cluster-progress.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { FirmwareRolloutClustersTable } from '../storage/sql/schema.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { rolloutsCopy } from './firmware-copy.js';

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

type ClusterRow = Selectable<FirmwareRolloutClustersTable>;

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

/**
 * Rollouts and each cluster's progress, as rows: a restart picks a rollout up where it was. Written
 * through the query layer (one instance at a time: the holder of the `firmware-rollouts` lease, and
 * the one recording a new rollout); read from the SQLite file, which with DATABASE_URL holds this
 * instance's copy (firmware-copy.ts).
 */
export class RolloutStore {
  private readonly progress: ClusterProgress<RolloutRow, ClusterRow>;
  private readonly copy: TableCopy;

  constructor(
    private readonly db: Db,
    private readonly state: StateDatabase,
    logger: Logger,
  ) {
    this.copy = rolloutsCopy(db, state, logger.child({ component: 'rollout-store' }));
    this.progress = new ClusterProgress(db, {
      jobs: 'firmware_rollouts',
      listedBy: 'created_at',
      clusters: 'firmware_rollout_clusters',
      jobColumn: 'rollout_id',
      underWay: 'in-progress',
    });
  }

  /** Copies PostgreSQL's rollouts here and follows other instances' changes; nothing on SQLite. */
  async start(onCopied: (touch: TableTouch) => void = () => undefined): Promise<void> {
    await this.copy.start(onCopied);
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  /** One write in one transaction, announced to the other instances, then copied here. */
  private async write(
    rolloutId: string,
    change: TableTouch['change'],
    work: (trx: StateTransaction) => Promise<void>,
  ): Promise<void> {
    const touch: TableTouch = { table: 'firmware_rollouts', id: rolloutId, change };
    await translateConstraintAsync(
      {
        duplicateId: 'a rollout with this id already exists',
        reference: 'the rollout refers to a firmware image that does not exist',
      },
      () =>
        this.state.transaction(async (trx) => {
          await work(trx);
          await this.copy.announce(trx, touch);
        }),
    );
    await this.copy.copy(touch);
  }

  async insert(rollout: RolloutRecord, clusters: readonly RolloutClusterRecord[]): Promise<void> {
    await this.write(rollout.id, 'created', (trx) =>
      this.progress.insert(
        trx,
        {
          id: rollout.id,
          image_id: rollout.imageId,
          version: rollout.version,
          selection: JSON.stringify(rollout.selection),
          commune_ids: JSON.stringify(rollout.communeIds),
          batch_size: rollout.batchSize,
          failure_threshold: rollout.failureThreshold,
          cluster_timeout_s: rollout.clusterTimeoutS,
          state: rollout.state,
          halt_reason: rollout.haltReason,
          created_by: rollout.createdBy,
          created_at: rollout.createdAt,
          finished_at: rollout.finishedAt,
        },
        clusters.map((c) => ({
          rollout_id: c.rolloutId,
          cluster_id: c.clusterId,
          position: c.position,
          batch: c.batch,
          commune_id: c.communeId,
          village_id: c.villageId,
          from_version: c.fromVersion,
          reported_version: c.reportedVersion,
          stage: c.stage,
          outcome: c.outcome,
          error: c.error,
          // Sent nothing yet: the command and its times come with the cluster's batch.
          command_id: null,
          command: null,
          started_at: null,
          deadline_at: null,
          updated_at: c.updatedAt,
        })),
      ),
    );
  }

  /** Copies the rollout here when it is not: another instance may have just recorded it. */
  async present(id: string): Promise<void> {
    if (this.copy.remote && !this.progress.job(id)) await this.copy.copy({ table: 'firmware_rollouts', id });
  }

  get(id: string): RolloutRecord | null {
    const row = this.progress.job(id);
    return row ? toRollout(row) : null;
  }

  /** Newest first; with `communes`, only rollouts that reach one of them. */
  list(
    page: { limit: number; offset: number },
    communes: readonly string[] | null,
  ): { items: RolloutRecord[]; total: number } {
    const { rows, total } = this.progress.list(page, { communes });
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
    return this.progress.clusters(rolloutId).map(toCluster);
  }

  cluster(rolloutId: string, clusterId: string): RolloutClusterRecord | null {
    const row = this.db
      .prepare('SELECT * FROM firmware_rollout_clusters WHERE rollout_id = ? AND cluster_id = ?')
      .get(rolloutId, clusterId) as ClusterRow | undefined;
    return row ? toCluster(row) : null;
  }

  /** Every cluster sent an image and not yet finished, across rollouts. */
  inFlight(): RolloutClusterRecord[] {
    return this.progress.underWay().map(toCluster);
  }

  async updateCluster(rolloutId: string, clusterId: string, patch: ClusterPatch, now: number): Promise<void> {
    const set: Record<string, unknown> = { updated_at: now };
    for (const [key, value] of Object.entries(patch) as [keyof ClusterPatch, unknown][])
      if (value !== undefined) set[COLUMNS[key]] = key === 'command' ? JSON.stringify(value) : value;
    await this.write(rolloutId, 'updated', async (trx) => {
      await trx
        .updateTable('firmware_rollout_clusters')
        .set(set)
        .where('rollout_id', '=', rolloutId)
        .where('cluster_id', '=', clusterId)
        .execute();
    });
  }

  async setState(
    id: string,
    state: RolloutState,
    haltReason: string | null,
    finishedAt: number | null,
  ): Promise<void> {
    await this.write(id, 'updated', async (trx) => {
      await trx
        .updateTable('firmware_rollouts')
        .set({ state, halt_reason: haltReason, finished_at: finishedAt })
        .where('id', '=', id)
        .execute();
    });
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
