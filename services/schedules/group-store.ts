import { randomBytes } from 'node:crypto';
import type { Group, GroupCreate, GroupPatch } from '../../contracts/schedules.js';
import { ConflictError, NotFoundError } from '../errors.js';
import {
  type CommuneFilter,
  communeConditions,
  type Page,
  type Paged,
  type RegistryStore,
} from '../registry/registry-store.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { isoTime } from '../time.js';

interface GroupRow {
  id: string;
  commune_id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface GroupStoreOptions {
  /** The platform's SQLite file: the groups themselves, or their read copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL. */
  state: StateDatabase;
  /** Copies what a write touched into the SQLite file, and tells the other instances of it. */
  copy: TableCopy;
  /** Runs a check and the write it allows without other writes of this instance in between. */
  exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  now: () => number;
  registry: RegistryStore;
  /** Names of the schedules that target a group; a group in use is not deleted. */
  usedBy: (groupId: string) => string[];
  /** Told after every committed change. */
  onChange?: (change: { id: string; change: 'created' | 'updated' | 'deleted' }) => void;
}

/**
 * Named sets of clusters within one commune ("loa trung tâm", "các thôn ven sông"), for schedule
 * targets. Members that are deleted from the registry leave their groups (ON DELETE CASCADE).
 * Read from the SQLite file; written through the query layer (schedule-copy.ts).
 */
export class GroupStore {
  constructor(private readonly options: GroupStoreOptions) {}

  list(filter: CommuneFilter, page: Page): Paged<Group> {
    const { db } = this.options;
    const communes = communeConditions('commune_id', filter);
    const where = communes.clauses.length ? `WHERE ${communes.clauses.join(' AND ')}` : '';
    const params = { ...communes.params, limit: page.limit, offset: page.offset };
    const rows = db
      .prepare(`SELECT * FROM cluster_groups ${where} ORDER BY name, id LIMIT @limit OFFSET @offset`)
      .all(params) as GroupRow[];
    const { n } = db.prepare(`SELECT COUNT(*) AS n FROM cluster_groups ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map((row) => this.toGroup(row)), total: n, ...page };
  }

  /** Every group with its commune and members, for resolving many schedules' targets at once. */
  allMembers(): Map<string, { communeId: string; clusterIds: string[] }> {
    const rows = this.options.db
      .prepare(
        `SELECT g.id AS group_id, g.commune_id, m.cluster_id FROM cluster_groups g
         LEFT JOIN cluster_group_members m ON m.group_id = g.id ORDER BY m.cluster_id`,
      )
      .all() as { group_id: string; commune_id: string; cluster_id: string | null }[];
    const groups = new Map<string, { communeId: string; clusterIds: string[] }>();
    for (const row of rows) {
      const group = groups.get(row.group_id) ?? { communeId: row.commune_id, clusterIds: [] };
      if (row.cluster_id !== null) group.clusterIds.push(row.cluster_id);
      groups.set(row.group_id, group);
    }
    return groups;
  }

  get(id: string): Group {
    const row = this.options.db.prepare('SELECT * FROM cluster_groups WHERE id = ?').get(id) as
      | GroupRow
      | undefined;
    if (!row) throw new NotFoundError('group', id);
    return this.toGroup(row);
  }

  /**
   * A group a write depends on, as it stands: with PostgreSQL read there (and copied here) first,
   * since another instance may have made or changed it a moment ago.
   */
  async present(id: string): Promise<Group> {
    await this.options.copy.copy({ table: 'cluster_groups', id });
    return this.get(id);
  }

  /** One write in one transaction, announced to the other instances, then copied here. */
  private async write(touch: TableTouch, work: (trx: StateTransaction) => Promise<unknown>): Promise<void> {
    const { state, copy } = this.options;
    await uniquely(() =>
      state.transaction(async (trx) => {
        await work(trx);
        await copy.announce(trx, touch);
      }),
    );
    await copy.copy(touch);
  }

  async create(input: GroupCreate): Promise<Group> {
    return this.options.exclusive(async () => {
      const { registry, now } = this.options;
      registry.getCommune(input.communeId);
      const members = this.checkMembers(input.communeId, input.clusterIds);
      const id = input.id ?? `nhom-${randomBytes(4).toString('hex')}`;
      const at = now();
      await this.write({ table: 'cluster_groups', id, change: 'created' }, async (trx) => {
        await trx
          .insertInto('cluster_groups')
          .values({ id, commune_id: input.communeId, name: input.name, created_at: at, updated_at: at })
          .execute();
        await replaceMembers(trx, id, members);
      });
      this.options.onChange?.({ id, change: 'created' });
      return this.get(id);
    });
  }

  async update(id: string, patch: GroupPatch): Promise<Group> {
    return this.options.exclusive(async () => {
      const { now } = this.options;
      const current = await this.present(id);
      const members =
        patch.clusterIds === undefined ? null : this.checkMembers(current.communeId, patch.clusterIds);
      await this.write({ table: 'cluster_groups', id, change: 'updated' }, async (trx) => {
        await trx
          .updateTable('cluster_groups')
          .set({ name: patch.name ?? current.name, updated_at: now() })
          .where('id', '=', id)
          .execute();
        if (members) await replaceMembers(trx, id, members);
      });
      this.options.onChange?.({ id, change: 'updated' });
      return this.get(id);
    });
  }

  async delete(id: string): Promise<void> {
    return this.options.exclusive(async () => {
      const group = await this.present(id);
      const users = this.options.usedBy(id);
      if (users.length > 0) {
        throw new ConflictError(`group "${group.name}" is a target of schedules: ${users.join(', ')}`, {
          schedules: users,
        });
      }
      await this.write({ table: 'cluster_groups', id, change: 'deleted' }, (trx) =>
        trx.deleteFrom('cluster_groups').where('id', '=', id).execute(),
      );
      this.options.onChange?.({ id, change: 'deleted' });
    });
  }

  /** Deduplicated, sorted members, each an existing cluster of the group's commune. */
  private checkMembers(communeId: string, clusterIds: string[]): string[] {
    const unique = [...new Set(clusterIds)].sort();
    if (unique.length === 0) return unique;
    const found = new Map(
      this.options.registry
        .listClusters({ ids: unique }, { limit: unique.length, offset: 0 })
        .items.map((c) => [c.id, c.communeId]),
    );
    for (const clusterId of unique) {
      // Another commune's cluster answers as a missing one: the error names no other commune, so
      // a commune-limited caller learns nothing of records outside it.
      if (found.get(clusterId) !== communeId) throw new NotFoundError('cluster', clusterId);
    }
    return unique;
  }

  private toGroup(row: GroupRow): Group {
    const members = this.options.db
      .prepare('SELECT cluster_id FROM cluster_group_members WHERE group_id = ? ORDER BY cluster_id')
      .all(row.id) as { cluster_id: string }[];
    return {
      id: row.id,
      communeId: row.commune_id,
      name: row.name,
      clusterIds: members.map((m) => m.cluster_id),
      createdAt: isoTime(row.created_at),
      updatedAt: isoTime(row.updated_at),
    };
  }
}

/** A duplicate id or a name already used in the commune is a 409 that says which. */
function uniquely<T>(write: () => Promise<T>): Promise<T> {
  return translateConstraintAsync(
    {
      duplicateId: 'a group with this id already exists',
      duplicate: 'a group with this name already exists in the commune',
      reference: 'a member cluster or the commune is gone',
    },
    write,
  );
}

async function replaceMembers(trx: StateTransaction, id: string, clusterIds: string[]): Promise<void> {
  await trx.deleteFrom('cluster_group_members').where('group_id', '=', id).execute();
  if (clusterIds.length > 0)
    await trx
      .insertInto('cluster_group_members')
      .values(clusterIds.map((cluster_id) => ({ group_id: id, cluster_id })))
      .execute();
}
