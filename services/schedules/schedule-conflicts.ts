import type { Level } from '../../contracts/broadcasts.js';
import { LEVEL_RANK } from '../broadcasts/types.js';
import type { Interval } from './schedule-expansion.js';

/** Conflicts are looked for this far ahead; the end of a rule ends the search sooner by itself. */
export const CONFLICT_HORIZON_MS = 366 * 86_400_000;

/** A schedule as conflict detection sees it: where it plays, at which level, and when. */
export interface ConflictSubject {
  /** Null for a schedule not saved yet. */
  id: string | null;
  name: string;
  level: Level;
  clusterIds: readonly string[];
  /** Sorted by start, all of one length (as expansion returns them). */
  occurrences: readonly Interval[];
}

/** One occurrence of the candidate overlapping one occurrence of another schedule on shared clusters. */
export interface Overlap {
  scheduleId: string;
  scheduleName: string;
  level: Level;
  /** The clusters both play on, sorted. */
  clusterIds: string[];
  /** The candidate's occurrence. */
  occurrence: Interval;
  /** The other schedule's occurrence. */
  other: Interval;
}

export interface ConflictReport {
  /** Same level on a shared cluster at the same time: refused. */
  clashes: Overlap[];
  /** Lower-level occurrences the candidate interrupts on the shared clusters (Circular 39). */
  preempts: Overlap[];
  /** Higher-level occurrences that interrupt the candidate on the shared clusters. */
  preemptedBy: Overlap[];
}

/**
 * Sorts every overlap between the candidate and the other schedules by level. A schedule is never
 * compared with itself, so editing one does not clash with its own saved version.
 */
export function findConflicts(
  candidate: ConflictSubject,
  others: readonly ConflictSubject[],
): ConflictReport {
  const report: ConflictReport = { clashes: [], preempts: [], preemptedBy: [] };
  const mine = new Set(candidate.clusterIds);
  for (const other of others) {
    if (other.id === null || other.id === candidate.id) continue;
    const shared = other.clusterIds.filter((id) => mine.has(id)).sort();
    if (shared.length === 0) continue;
    const rank = LEVEL_RANK[candidate.level] - LEVEL_RANK[other.level];
    const bucket = rank === 0 ? report.clashes : rank > 0 ? report.preempts : report.preemptedBy;
    for (const [occurrence, theirs] of overlappingPairs(candidate.occurrences, other.occurrences)) {
      bucket.push({
        scheduleId: other.id,
        scheduleName: other.name,
        level: other.level,
        clusterIds: shared,
        occurrence,
        other: theirs,
      });
    }
  }
  const byTime = (a: Overlap, b: Overlap) =>
    a.occurrence.start - b.occurrence.start ||
    a.other.start - b.other.start ||
    a.scheduleId.localeCompare(b.scheduleId);
  report.clashes.sort(byTime);
  report.preempts.sort(byTime);
  report.preemptedBy.sort(byTime);
  return report;
}

/**
 * Every pair of overlapping intervals, one from each list. Both lists are sorted by start with
 * equal lengths within a list, so their ends are sorted too and one pointer into `b` suffices.
 */
export function overlappingPairs(a: readonly Interval[], b: readonly Interval[]): [Interval, Interval][] {
  const pairs: [Interval, Interval][] = [];
  let low = 0;
  for (const x of a) {
    while (low < b.length && (b[low] as Interval).end <= x.start) low++;
    for (let k = low; k < b.length; k++) {
      const y = b[k] as Interval;
      if (y.start >= x.end) break;
      pairs.push([x, y]);
    }
  }
  return pairs;
}
