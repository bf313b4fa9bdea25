import { sql } from 'kysely';
import type { Db } from './database.js';
import type { StateTransaction } from './sql/state-database.js';

/**
 * The tables of a job addressed to clusters, as firmware rollouts and readiness drills are: one row
 * per job, whose `commune_ids` column holds the JSON array of the communes its clusters are in, and
 * one progress row per cluster, keyed by the job and `cluster_id` and kept in `position` order. A
 * restart picks a job up from these rows.
 */
export interface ClusterProgressTables {
  jobs: string;
  /** The jobs' column they are listed by, newest first. */
  listedBy: string;
  clusters: string;
  /** The per-cluster table's column naming the job. */
  jobColumn: string;
  /** The `outcome` of a cluster still under way. */
  underWay: string;
}

/** A job's rows and its clusters' rows, read and written as their tables' columns. */
export class ClusterProgress<JobRow, ClusterRow> {
  constructor(
    private readonly db: Db,
    private readonly tables: ClusterProgressTables,
  ) {}

  /** Inserts a job and its clusters' rows within `trx` (all or none); each row's keys are its columns. */
  async insert(
    trx: StateTransaction,
    job: Record<string, unknown>,
    clusters: readonly Record<string, unknown>[],
  ): Promise<void> {
    await insertRows(trx, this.tables.jobs, [job]);
    await insertRows(trx, this.tables.clusters, clusters);
  }

  job(id: string): JobRow | undefined {
    return this.db.prepare(`SELECT * FROM ${this.tables.jobs} WHERE id = ?`).get(id) as JobRow | undefined;
  }

  /** Newest first; with `communes`, the jobs reaching one of them; with `communeId`, those reaching it. */
  list(
    page: { limit: number; offset: number },
    filter: { communes: readonly string[] | null; communeId?: string },
  ): { rows: JobRow[]; total: number } {
    const { jobs, listedBy } = this.tables;
    const clauses: string[] = [];
    const params: Record<string, unknown> = {};
    if (filter.communes) {
      clauses.push(
        'EXISTS (SELECT 1 FROM json_each(commune_ids) AS c WHERE c.value IN (SELECT value FROM json_each(@communes)))',
      );
      params.communes = JSON.stringify(filter.communes);
    }
    if (filter.communeId) {
      clauses.push('EXISTS (SELECT 1 FROM json_each(commune_ids) AS c WHERE c.value = @communeId)');
      params.communeId = filter.communeId;
    }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.db
      .prepare(`SELECT * FROM ${jobs} ${where} ORDER BY ${listedBy} DESC, id LIMIT @limit OFFSET @offset`)
      .all({ ...params, ...page }) as JobRow[];
    const { total } = this.db.prepare(`SELECT COUNT(*) AS total FROM ${jobs} ${where}`).get(params) as {
      total: number;
    };
    return { rows, total };
  }

  /** A job's clusters, in their order. */
  clusters(jobId: string): ClusterRow[] {
    const { clusters, jobColumn } = this.tables;
    return this.db
      .prepare(`SELECT * FROM ${clusters} WHERE ${jobColumn} = ? ORDER BY position`)
      .all(jobId) as ClusterRow[];
  }

  /** The clusters still under way, across jobs. */
  underWay(): ClusterRow[] {
    const { clusters, underWay } = this.tables;
    return this.db.prepare(`SELECT * FROM ${clusters} WHERE outcome = ?`).all(underWay) as ClusterRow[];
  }
}

/** Rows per INSERT: well within both engines' limits on bound parameters. */
const ROWS_PER_INSERT = 200;

/** `INSERT INTO table (a, b) VALUES (…), (…)` for rows whose keys are the table's columns. */
async function insertRows(
  trx: StateTransaction,
  table: string,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  const [first] = rows;
  if (!first) return;
  const columns = Object.keys(first);
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const part = rows.slice(i, i + ROWS_PER_INSERT);
    await sql`INSERT INTO ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) VALUES ${sql.join(
      part.map((row) => sql`(${sql.join(columns.map((c) => row[c] ?? null))})`),
    )}`.execute(trx);
  }
}
