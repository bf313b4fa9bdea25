import type { Targets } from '../../contracts/broadcasts.js';
import { NotFoundError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';

/**
 * The targets a broadcast really addresses: every commune the caller may address when none are
 * named, and for a caller limited to one commune only clusters of that commune (another
 * commune's cluster answers 404, as if it did not exist).
 */
export function scopedTargets(
  deps: { registry: RegistryStore; resolveTargets(targets: Targets): string[] },
  communeLimit: string | null | undefined,
  targets: Targets | undefined,
): Targets {
  const chosen =
    targets ??
    ({
      communeIds: communeLimit
        ? [communeLimit]
        : deps.registry.listCommunes({ limit: 10_000, offset: 0 }).items.map((c) => c.id),
      villageIds: [],
      clusterIds: [],
      groupIds: [],
    } satisfies Targets);
  if (communeLimit) {
    for (const id of deps.resolveTargets(chosen)) {
      if (deps.registry.getCluster(id).communeId !== communeLimit) throw new NotFoundError('cluster', id);
    }
  }
  return chosen;
}
