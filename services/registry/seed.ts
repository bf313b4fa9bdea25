import type { Logger } from 'pino';
import { NotFoundError } from '../errors.js';
import { HUONG_DAO_CLUSTERS, HUONG_DAO_COMMUNE, HUONG_DAO_VILLAGES } from './presets/huong-dao.js';
import type { RegistryStore } from './registry-store.js';

export const SEED_PRESETS = ['huong-dao'] as const;
export type SeedPreset = (typeof SEED_PRESETS)[number];

/**
 * Loads a preset into the registry. Idempotent: records that already exist are left as the
 * operator may have edited them; only missing ones are added.
 */
export function seedPreset(registry: RegistryStore, preset: SeedPreset, logger: Logger): { added: number } {
  let added = 0;
  const exists = (fn: () => unknown) => {
    try {
      fn();
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  };
  if (preset === 'huong-dao') {
    if (!exists(() => registry.getCommune(HUONG_DAO_COMMUNE.id))) {
      registry.createCommune(HUONG_DAO_COMMUNE);
      added++;
    }
    for (const village of HUONG_DAO_VILLAGES) {
      if (!exists(() => registry.getVillage(village.id as string))) {
        registry.createVillage(village);
        added++;
      }
    }
    for (const cluster of HUONG_DAO_CLUSTERS) {
      if (!exists(() => registry.getCluster(cluster.id))) {
        registry.createCluster(cluster);
        added++;
      }
    }
  }
  if (added > 0) logger.info({ preset, added }, 'seeded registry preset');
  return { added };
}
