import type { DrillOutcome } from '../../contracts/readiness.js';
import type { SelftestResult } from '../../devices/index.js';

/**
 * What a drill makes of each cluster, as pure functions: ready only when every check passed; the
 * reasons name each failed check the way a technician reads them ("speaker 2: open-circuit").
 */
export function verdictOf(result: SelftestResult | undefined): { outcome: DrillOutcome; reasons: string[] } {
  if (!result) return { outcome: 'not-tested', reasons: ['answered without a selftest result'] };
  const reasons: string[] = [];
  const check = (name: string, c: SelftestResult['download']) => {
    if (c.ok || c.error === 'not-run') return;
    reasons.push(`${name}: ${c.error ?? 'failed'}${c.message ? ` (${c.message})` : ''}`);
  };
  check('download', result.download);
  check('decode', result.decode);
  if (!result.amplifier.ok) reasons.push(`amplifier: ${result.amplifier.fault ?? 'fault'}`);
  for (const line of result.speakers)
    if (!line.ok) reasons.push(`speaker ${line.idx}: ${line.fault ?? 'no answer'}`);
  return { outcome: reasons.length === 0 ? 'ready' : 'not-ready', reasons };
}

/** A refusal or failure instead of a result (docs/protocol.md 7, `selftest`). */
export function verdictOfRefusal(
  status: 'rejected' | 'failed',
  error: string | undefined,
): {
  outcome: DrillOutcome;
  reasons: string[];
} {
  if (status === 'failed')
    return { outcome: 'not-ready', reasons: [`selftest failed: ${error ?? 'no reason given'}`] };
  switch (error) {
    case 'busy':
      return { outcome: 'not-tested', reasons: ['busy: a bulletin was playing or firmware installing'] };
    case 'unsupported':
      return { outcome: 'not-tested', reasons: ['its firmware has no selftest'] };
    default:
      return { outcome: 'not-tested', reasons: [`refused: ${error ?? 'no reason given'}`] };
  }
}

export interface Counts {
  clusters: number;
  ready: number;
  notReady: number;
  notTested: number;
  testing: number;
}

export function countOutcomes(outcomes: readonly DrillOutcome[]): Counts {
  const n = (o: DrillOutcome) => outcomes.filter((x) => x === o).length;
  return {
    clusters: outcomes.length,
    ready: n('ready'),
    notReady: n('not-ready'),
    notTested: n('not-tested'),
    testing: n('testing'),
  };
}

/** Per village, in the order villages first appear: how many of its clusters are ready. */
export function villageCounts(
  clusters: readonly { villageId: string; outcome: DrillOutcome }[],
  villageName: (id: string) => string,
): ({ villageId: string; name: string } & Counts)[] {
  const byVillage = new Map<string, DrillOutcome[]>();
  for (const c of clusters) byVillage.set(c.villageId, [...(byVillage.get(c.villageId) ?? []), c.outcome]);
  return [...byVillage].map(([villageId, outcomes]) => ({
    villageId,
    name: villageName(villageId),
    ...countOutcomes(outcomes),
  }));
}
