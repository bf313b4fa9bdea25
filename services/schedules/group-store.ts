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
import { translateConstraint } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import { isoTime } from '../time.js';

interface GroupRow {
  id: string;
  commune_id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface GroupStoreOptions {
  db: Db;
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

  create(input: GroupCreate): Group {
    const { db, registry, now } = this.options;
    registry.getCommune(input.communeId);
    const members = this.checkMembers(input.communeId, input.clusterIds);
    const id = input.id ?? `nhom-${randomBytes(4).toString('hex')}`;
    const at = now();
    db.transaction(() => {
      uniquely(() =>
        db
          .prepare(
            'INSERT INTO cluster_groups (id, commune_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(id, input.communeId, input.name, at, at),
      );
      this.replaceMembers(id, members);
    })();
    this.options.onChange?.({ id, change: 'created' });
    return this.get(id);
  }

  update(id: string, patch: GroupPatch): Group {
    const { db, now } = this.options;
    const current = this.get(id);
    const members =
      patch.clusterIds === undefined ? null : this.checkMembers(current.communeId, patch.clusterIds);
    db.transaction(() => {
      uniquely(() =>
        db
          .prepare('UPDATE cluster_groups SET name = ?, updated_at = ? WHERE id = ?')
          .run(patch.name ?? current.name, now(), id),
      );
      if (members) this.replaceMembers(id, members);
    })();
    this.options.onChange?.({ id, change: 'updated' });
    return this.get(id);
  }

  delete(id: string): void {
    const group = this.get(id);
    const users = this.options.usedBy(id);
    if (users.length > 0) {
      throw new ConflictError(`group "${group.name}" is a target of schedules: ${users.join(', ')}`, {
        schedules: users,
      });
    }
    this.options.db.prepare('DELETE FROM cluster_groups WHERE id = ?').run(id);
    this.options.onChange?.({ id, change: 'deleted' });
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

  private replaceMembers(id: string, clusterIds: string[]): void {
    const { db } = this.options;
    db.prepare('DELETE FROM cluster_group_members WHERE group_id = ?').run(id);
    const insert = db.prepare('INSERT INTO cluster_group_members (group_id, cluster_id) VALUES (?, ?)');
    for (const clusterId of clusterIds) insert.run(id, clusterId);
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
function uniquely<T>(write: () => T): T {
  return translateConstraint(
    {
      duplicateId: 'a group with this id already exists',
      duplicate: 'a group with this name already exists in the commune',
    },
    write,
  );
}
