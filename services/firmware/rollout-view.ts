import type { Rollout } from '../../contracts/firmware.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import type { RolloutClusterRecord, RolloutRecord } from './rollout-store.js';

/** A rollout as the API shows it: counts and clusters of the communes the caller may see. */
export function rolloutView(
  rollout: RolloutRecord,
  all: readonly RolloutClusterRecord[],
  communes: readonly string[] | null,
): Rollout {
  const clusters = communes ? all.filter((c) => communes.includes(c.communeId)) : all;
  const count = (outcome: RolloutClusterRecord['outcome']) =>
    clusters.filter((c) => c.outcome === outcome).length;
  return {
    id: rollout.id,
    firmwareId: rollout.imageId,
    version: rollout.version,
    state: rollout.state,
    haltReason: rollout.haltReason,
    selection: rollout.selection,
    batchSize: rollout.batchSize,
    failureThreshold: rollout.failureThreshold,
    clusterTimeoutS: rollout.clusterTimeoutS,
    batches: all.length === 0 ? 0 : Math.max(...all.map((c) => c.batch)) + 1,
    counts: {
      total: clusters.length,
      notStarted: count('not-started'),
      inProgress: count('in-progress'),
      updated: count('updated'),
      failed: count('failed'),
      rolledBack: count('rolled-back'),
      skipped: count('skipped'),
    },
    createdBy: rollout.createdBy,
    createdAt: isoTime(rollout.createdAt),
    finishedAt: isoTimeOrNull(rollout.finishedAt),
    clusters: clusters.map((c) => ({
      clusterId: c.clusterId,
      communeId: c.communeId,
      villageId: c.villageId,
      batch: c.batch,
      fromVersion: c.fromVersion,
      reportedVersion: c.reportedVersion,
      stage: c.stage,
      outcome: c.outcome,
      error: c.error,
      commandId: c.commandId,
      startedAt: isoTimeOrNull(c.startedAt),
      updatedAt: isoTime(c.updatedAt),
    })),
  };
}
