import type { Targets } from '../../contracts/broadcasts.js';
import { NotFoundError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';

/**
 * The targets a broadcast really addresses: every commune the caller may address when none are
 * named, and for a caller limited to communes (one, a list, a province) only their clusters
 * (another commune's cluster answers 404, as if it did not exist).
 */
export function scopedTargets(
  deps: { registry: RegistryStore; resolveTargets(targets: Targets): string[] },
  communes: readonly string[] | null | undefined,
  targets: Targets | undefined,
): Targets {
  const chosen =
    targets ??
    ({
      communeIds: communes
        ? [...communes]
        : deps.registry.listCommunes({ limit: 10_000, offset: 0 }).items.map((c) => c.id),
      villageIds: [],
      clusterIds: [],
      groupIds: [],
    } satisfies Targets);
  if (communes) {
    const placements = new Map(deps.registry.clusterPlacements().map((c) => [c.id, c.communeId]));
    for (const id of deps.resolveTargets(chosen)) {
      if (!communes.includes(placements.get(id) ?? '')) throw new NotFoundError('cluster', id);
    }
  }
  return chosen;
}
