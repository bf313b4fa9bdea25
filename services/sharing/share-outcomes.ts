import type { DeliveryState } from '../../contracts/broadcasts.js';
import type { OutcomeCounts } from '../../contracts/sharing.js';

export type Outcome = 'done' | 'failed' | 'missed' | 'cancelled' | 'pending';

/**
 * The platform's delivery states folded into what a provincial report counts: played to the end,
 * failed, missed (offline or too late), cancelled (stopped, pre-empted by a higher level,
 * expired), or not final yet.
 */
export function outcomeOf(state: DeliveryState): Outcome {
  switch (state) {
    case 'done':
      return 'done';
    case 'failed':
      return 'failed';
    case 'missed':
      return 'missed';
    case 'pre-empted':
    case 'expired':
    case 'stopped':
      return 'cancelled';
    default:
      return 'pending';
  }
}

/** Whether a cluster made sound: it reported the start, or played to the end (a lost start report). */
export function wasHeard(d: { state: DeliveryState; startedAt: number | null }): boolean | null {
  if (d.startedAt !== null || d.state === 'done') return true;
  return outcomeOf(d.state) === 'pending' ? null : false;
}

export function emptyCounts(): OutcomeCounts {
  return { clusters: 0, done: 0, failed: 0, missed: 0, cancelled: 0, pending: 0, heard: 0 };
}

/** Adds one cluster's delivery to the counts. */
export function count(counts: OutcomeCounts, d: { state: DeliveryState; startedAt: number | null }): void {
  counts.clusters++;
  counts[outcomeOf(d.state)]++;
  if (wasHeard(d)) counts.heard++;
}
