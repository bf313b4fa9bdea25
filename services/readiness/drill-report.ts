import type { DrillReport } from '../../contracts/readiness.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import type { DrillRecord, DrillResultRecord } from './drill-store.js';
import { countOutcomes, villageCounts } from './readiness-verdict.js';

/** A drill as the API reports it: per cluster and per village, for the communes the caller may see. */
export function drillReport(
  drill: DrillRecord,
  all: readonly DrillResultRecord[],
  communes: readonly string[] | null,
  names: { cluster(id: string): string; village(id: string): string },
): DrillReport {
  const results = communes ? all.filter((r) => communes.includes(r.communeId)) : all;
  return {
    id: drill.id,
    origin: drill.origin,
    tone: drill.tone,
    state: drill.state,
    communeIds: communes ? drill.communeIds.filter((c) => communes.includes(c)) : drill.communeIds,
    startedAt: isoTime(drill.startedAt),
    deadlineAt: isoTime(drill.deadlineAt),
    finishedAt: isoTimeOrNull(drill.finishedAt),
    createdBy: drill.createdBy,
    summary: countOutcomes(results.map((r) => r.outcome)),
    villages: villageCounts(results, names.village),
    clusters: results.map((r) => ({
      clusterId: r.clusterId,
      name: names.cluster(r.clusterId),
      villageId: r.villageId,
      outcome: r.outcome,
      reasons: r.reasons,
      checks: r.checks,
      commandId: r.commandId,
      testedAt: isoTimeOrNull(r.testedAt),
    })),
  };
}
