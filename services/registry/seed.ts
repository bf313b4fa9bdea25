import type { Logger } from 'pino';
import { ConflictError, NotFoundError } from '../errors.js';
import { HUONG_DAO_CLUSTERS, HUONG_DAO_COMMUNE, HUONG_DAO_VILLAGES } from './presets/huong-dao.js';
import { PILOT_CLUSTERS, PILOT_COMMUNES, PILOT_VILLAGES } from './presets/phu-tho-pilots.js';
import type { RegistryStore } from './registry-store.js';

/** huong-dao: the reference commune; phu-tho-pilots: it and three illustrative pilot communes. */
export const SEED_PRESETS = ['huong-dao', 'phu-tho-pilots'] as const;
export type SeedPreset = (typeof SEED_PRESETS)[number];

/**
 * Loads a preset into the registry. Idempotent: records that already exist are left as the
 * operator may have edited them; only missing ones are added. Instances starting together on one
 * PostgreSQL may both add a record: the second finds it taken and leaves it.
 */
export async function seedPreset(
  registry: RegistryStore,
  preset: SeedPreset,
  logger: Logger,
): Promise<{ added: number }> {
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
  const addUnlessTaken = async (create: () => Promise<unknown>) => {
    try {
      await create();
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  };
  const communes = [HUONG_DAO_COMMUNE, ...(preset === 'phu-tho-pilots' ? PILOT_COMMUNES : [])];
  const villages = [...HUONG_DAO_VILLAGES, ...(preset === 'phu-tho-pilots' ? PILOT_VILLAGES : [])];
  const clusters = [...HUONG_DAO_CLUSTERS, ...(preset === 'phu-tho-pilots' ? PILOT_CLUSTERS : [])];
  for (const commune of communes) {
    if (!exists(() => registry.getCommune(commune.id as string))) {
      if (await addUnlessTaken(() => registry.createCommune(commune))) added++;
    }
  }
  for (const village of villages) {
    if (!exists(() => registry.getVillage(village.id as string))) {
      if (await addUnlessTaken(() => registry.createVillage(village))) added++;
    }
  }
  for (const cluster of clusters) {
    if (!exists(() => registry.getCluster(cluster.id))) {
      if (await addUnlessTaken(() => registry.createCluster(cluster))) added++;
    }
  }
  if (added > 0) logger.info({ preset, added }, 'seeded registry preset');
  return { added };
}
