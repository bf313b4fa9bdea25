import type { RolloutOutcome, RolloutState } from '../../contracts/firmware.js';

/**
 * The rules of a staged rollout, as pure functions: which clusters, in which batches, when it halts
 * and what a cluster's reports make of it. The service applies them; the tests call them directly.
 */

/** A share of a commune's clusters: rounded up, lowest ids first, so a rerun picks the same ones. */
export function pickShare(clusterIds: readonly string[], percentage: number): string[] {
  const sorted = [...clusterIds].sort();
  return sorted.slice(0, Math.ceil((sorted.length * percentage) / 100 - 1e-9));
}

/** The batch of the cluster at `position` (0-based) in the rollout's order. */
export function batchOf(position: number, batchSize: number): number {
  return Math.floor(position / batchSize);
}

/** Failures that count against the threshold: an install rolled back is a failed update too. */
export function isFailure(outcome: RolloutOutcome): boolean {
  return outcome === 'failed' || outcome === 'rolled-back';
}

/**
 * Whether failures passed the threshold: more than `thresholdPercent` of all the rollout's clusters
 * (10 % of 18 clusters allows one failure; the second halts it). Integer arithmetic, so exactly 10 %
 * of 20 (two failures) does not halt.
 */
export function overThreshold(failures: number, total: number, thresholdPercent: number): boolean {
  return failures * 100 > total * thresholdPercent + 1e-9;
}

export type NextStep =
  | { kind: 'wait' }
  | { kind: 'start-batch'; batch: number }
  | { kind: 'complete' }
  | { kind: 'halt'; reason: string };

/**
 * What a rollout does now, from its clusters as they stand: halt once failures pass the threshold
 * (clusters already updating finish, no new batch starts); otherwise wait for the batch under way,
 * then start the lowest batch not started, until none is left.
 */
export function nextStep(
  clusters: readonly { batch: number; outcome: RolloutOutcome }[],
  state: RolloutState,
  thresholdPercent: number,
): NextStep {
  if (state !== 'running') return { kind: 'wait' };
  const failures = clusters.filter((c) => isFailure(c.outcome)).length;
  if (overThreshold(failures, clusters.length, thresholdPercent)) {
    const share = Math.round((failures * 1000) / clusters.length) / 10;
    return {
      kind: 'halt',
      reason: `${failures} of ${clusters.length} clusters failed (${share} %), more than the ${thresholdPercent} % allowed`,
    };
  }
  if (clusters.some((c) => c.outcome === 'in-progress')) return { kind: 'wait' };
  const waiting = clusters.filter((c) => c.outcome === 'not-started').map((c) => c.batch);
  return waiting.length === 0 ? { kind: 'complete' } : { kind: 'start-batch', batch: Math.min(...waiting) };
}

/** What a cluster's final ack makes of its update (docs/protocol.md 7, `firmware`). */
export function outcomeOfAck(
  ack: { status: 'done' | 'failed' | 'rejected'; error?: string },
  seen: { rolledBack: boolean; runsNewVersion: boolean },
): { outcome: RolloutOutcome; error: string | null } | null {
  switch (ack.status) {
    case 'done':
      // Done but still reporting the old version: wait for its state (the deadline decides).
      return seen.runsNewVersion ? { outcome: 'updated', error: null } : null;
    case 'failed':
      return {
        outcome: seen.rolledBack || ack.error === 'install-failed' ? 'rolled-back' : 'failed',
        error: ack.error ?? 'failed',
      };
    case 'rejected':
      return { outcome: 'failed', error: `refused: ${ack.error ?? 'no reason given'}` };
  }
}
