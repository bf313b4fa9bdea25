import type { DeliveryState } from '../../contracts/broadcasts.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { DeliveryRecord } from './broadcast-store.js';
import { FINAL_DELIVERY_STATES } from './types.js';

/** A village with at least one cluster that did not play a broadcast. */
export interface ReachGapVillage {
  villageId: string;
  villageName: string;
  communeId: string;
  /** The village's clusters the broadcast went to. */
  clusters: number;
  heard: number;
  missing: { clusterId: string; state: DeliveryState; reason: string | null }[];
  /** At least one of its clusters played it. */
  reached: boolean;
}

/**
 * Whether a delivery was heard: the cluster reported sound, or played to the end (a start report
 * lost in a crash); false once it ended without; null while it may still play.
 */
export function heardOf(d: Pick<DeliveryRecord, 'startedAt' | 'state'>): boolean | null {
  if (d.startedAt !== null || d.state === 'done') return true;
  return FINAL_DELIVERY_STATES.includes(d.state) ? false : null;
}

/**
 * The reach gap of a broadcast over these deliveries: villages whose clusters did not all play it,
 * worst first (none of their clusters played it), then by name; `final` once no delivery is open.
 */
export function reachGap(
  deliveries: readonly DeliveryRecord[],
  registry: Pick<RegistryStore, 'clusterLabels' | 'getVillage'>,
): { final: boolean; villages: ReachGapVillage[] } {
  const labels = registry.clusterLabels(deliveries.map((d) => d.clusterId));
  const byVillage = new Map<string, DeliveryRecord[]>();
  for (const d of deliveries) {
    const villageId = labels.get(d.clusterId)?.villageId;
    if (!villageId) continue; // a cluster removed since: no village to follow up
    byVillage.set(villageId, [...(byVillage.get(villageId) ?? []), d]);
  }
  const villages = [...byVillage.entries()]
    .map(([villageId, own]) => {
      const village = registry.getVillage(villageId);
      const missing = own.filter((d) => heardOf(d) !== true);
      return {
        villageId,
        villageName: village.name,
        communeId: village.communeId,
        clusters: own.length,
        heard: own.length - missing.length,
        missing: missing.map((d) => ({ clusterId: d.clusterId, state: d.state, reason: d.reason })),
        reached: missing.length < own.length,
      };
    })
    .filter((v) => v.missing.length > 0)
    .sort(
      (a, b) => Number(a.reached) - Number(b.reached) || a.villageName.localeCompare(b.villageName, 'vi'),
    );
  return { final: deliveries.every((d) => FINAL_DELIVERY_STATES.includes(d.state)), villages };
}
