import { DELIVERY_STATES, type DeliveryState, type Level } from '../../contracts/broadcasts.js';
import { FAULT_STATES } from '../../contracts/reports.js';
import type { BroadcastKind, BroadcastStatus } from '../broadcasts/broadcast-store.js';
import { communeConditions } from '../registry/registry-store.js';
import type { Db } from '../storage/database.js';

/** The period and the communes a report covers; `communeIds` null is every commune. */
export interface SummaryScope {
  from: number;
  to: number;
  communeIds: readonly string[] | null;
  /**
   * The scope's clusters, for a small scope: each broadcast's deliveries are then looked up by
   * cluster in its primary key rather than read in full (a commune's report on a province's
   * platform reads its 20 clusters' deliveries, not the province's 6,000).
   */
  clusterIds?: readonly string[] | undefined;
  /**
   * Only the broadcasts that started within [from, to) (still overlapping the period): a part of
   * the period the daily rollup does not hold.
   */
  starts?: { from: number; to: number } | undefined;
}

/** What the deliveries of a set of broadcasts add up to. */
export interface DeliveryTotals {
  targeted: number;
  done: number;
  heard: number;
  byState: Record<DeliveryState, number>;
  /** Per broadcast, the longest play of one of its clusters, summed: the time it was on air. */
  airedMs: number;
  /** Every delivery's playing time summed. */
  clusterAiredMs: number;
  speakerFaults: number;
}

/** A commune's broadcasts of one level and origin, with their deliveries to its clusters. */
export interface CommuneLevelRow extends DeliveryTotals {
  communeId: string;
  level: Level;
  fromProvince: boolean;
  bulletins: number;
}

/** One broadcast's deliveries to the clusters of one commune. */
export interface BroadcastCommuneRow extends DeliveryTotals {
  communeId: string;
  broadcastId: string;
  level: Level;
  fromProvince: boolean;
}

export interface BroadcastRow {
  id: string;
  name: string;
  kind: BroadcastKind;
  level: Level;
  bulletinId: string | null;
  startAt: number;
  endAt: number;
  status: BroadcastStatus;
  communes: number;
  targeted: number;
  done: number;
  heard: number;
  airedMs: number;
}

/** Deliveries not heard for a fault, by outcome and reason. */
export interface FaultCount {
  state: (typeof FAULT_STATES)[number];
  reason: string | null;
  count: number;
}

const OPEN_STATES: readonly DeliveryState[] = ['scheduled', 'sent', 'accepted', 'playing'];

/** The column of each delivery state's count (states hold '-', which SQL names cannot). */
const stateColumn = (index: number) => `st${index}`;
/** Over rows of (state, n): the deliveries in each state. */
const STATE_SUMS = DELIVERY_STATES.map(
  (state, i) => `SUM(CASE WHEN state = '${state}' THEN n ELSE 0 END) AS ${stateColumn(i)}`,
);
const STATE_TOTALS = DELIVERY_STATES.map((_, i) => `SUM(${stateColumn(i)}) AS ${stateColumn(i)}`);

/** A delivery's playing time; 0 until it has both a reported start and a finish. */
const PLAYED_MS =
  'CASE WHEN d.started_at IS NOT NULL AND d.finished_at > d.started_at THEN d.finished_at - d.started_at ELSE 0 END';
/** As the broadcast log's `heard`: the cluster reported sound, or played to the end (a start report lost). */
const HEARD = "(d.started_at IS NOT NULL OR d.state = 'done')";
/**
 * A speaker reported a fault while it played. The column is the store's JSON.stringify of
 * `{idx, ok, fault}` objects, so `"ok":false` is exactly how a fault is written; a substring test
 * costs far less than parsing 600,000 rows' JSON for a province's month.
 */
const SPEAKER_FAULT = `(instr(COALESCE(d.speakers, ''), '"ok":false') > 0)`;

/**
 * The report's aggregations, read-only over the broadcast log's tables (broadcasts, deliveries)
 * and the registry's (clusters, villages): each a GROUP BY in SQLite, so a province's month
 * (300 communes, 6,000 clusters, ~600,000 deliveries) never comes into memory row by row.
 *
 * A broadcast is in the period as in the broadcast log (`start_at < to AND end_at >= from`), and in
 * a commune when one of its deliveries went to a cluster the registry places there now.
 */
export class SummaryQueries {
  constructor(private readonly db: Db) {}

  /**
   * Per commune, level and origin: bulletins and their deliveries. Three steps: deliveries per
   * broadcast, commune and outcome (one pass over the period's deliveries, grouped once — cheaper
   * than ten conditional sums per row), then per broadcast and commune (its longest play), then per
   * commune, level and origin.
   */
  byCommune(scope: SummaryScope): CommuneLevelRow[] {
    const { where, params } = this.filter(scope);
    const rows = this.db
      .prepare(
        `SELECT communeId, level, fromProvince, COUNT(*) AS bulletins, SUM(targeted) AS targeted,
           SUM(heard) AS heard, SUM(longestMs) AS airedMs, SUM(playedMs) AS clusterAiredMs,
           SUM(speakerFaults) AS speakerFaults, ${STATE_TOTALS.join(', ')}
         FROM (${perBroadcastCommune(where)})
         GROUP BY communeId, level, fromProvince`,
      )
      .all(params) as (Record<string, number> & { communeId: string; level: Level })[];
    return rows.map((r) => ({
      communeId: r.communeId,
      level: r.level,
      fromProvince: r.fromProvince === 1,
      bulletins: r.bulletins ?? 0,
      ...totalsOf(r),
    }));
  }

  /** Per broadcast and commune, its deliveries there: what the daily rollup keeps, summed as byCommune does. */
  byBroadcastAndCommune(scope: SummaryScope): BroadcastCommuneRow[] {
    const { where, params } = this.filter(scope);
    const rows = this.db
      .prepare(
        `SELECT communeId, id, level, fromProvince, targeted, heard, longestMs AS airedMs,
           playedMs AS clusterAiredMs, speakerFaults, ${DELIVERY_STATES.map((_, i) => stateColumn(i)).join(', ')}
         FROM (${perBroadcastCommune(where)})`,
      )
      .all(params) as (Record<string, number> & { communeId: string; id: string; level: Level })[];
    return rows.map((r) => ({
      communeId: r.communeId,
      broadcastId: r.id,
      level: r.level,
      fromProvince: r.fromProvince === 1,
      ...totalsOf(r),
    }));
  }

  /** Whether a broadcast that started in [from, to) is still under way or has a delivery not yet final. */
  anyOpen(from: number, to: number): boolean {
    const open = OPEN_STATES.map((s) => `'${s}'`).join(', ');
    return (
      this.db
        .prepare(
          `SELECT 1 FROM broadcasts b WHERE b.start_at >= ? AND b.start_at < ?
             AND (b.status = 'active' OR EXISTS (
               SELECT 1 FROM deliveries d WHERE d.broadcast_id = b.id AND d.state IN (${open})))
           LIMIT 1`,
        )
        .get(from, to) !== undefined
    );
  }

  /** Broadcasts of the scope, each once, per level and origin. */
  bulletinsOfScope(scope: SummaryScope): { level: Level; fromProvince: boolean; bulletins: number }[] {
    const { inRange, inCommunes, params } = this.filter(scope);
    const rows = this.db
      .prepare(
        `SELECT b.level AS level, b.bulletin_id IS NOT NULL AS fromProvince, COUNT(*) AS bulletins
         FROM broadcasts b
         WHERE ${inRange} AND ${REACHES_SCOPE.replace('%COMMUNES%', inCommunes)}
         GROUP BY b.level, fromProvince`,
      )
      .all(params) as { level: Level; fromProvince: number; bulletins: number }[];
    return rows.map((r) => ({ level: r.level, fromProvince: r.fromProvince === 1, bulletins: r.bulletins }));
  }

  /**
   * One page of the scope's broadcasts by start, each with its deliveries to the scope's clusters:
   * the page is chosen first, so only its broadcasts' deliveries are added up.
   */
  broadcasts(scope: SummaryScope, page: { limit: number; offset: number }): BroadcastRow[] {
    const { where, inRange, inCommunes, params } = this.filter(scope);
    return this.db
      .prepare(
        `WITH page AS (
           SELECT b.id FROM broadcasts b
           WHERE ${inRange} AND ${REACHES_SCOPE.replace('%COMMUNES%', inCommunes)}
           ORDER BY b.start_at, b.id
           LIMIT @limit OFFSET @offset
         )
         SELECT b.id, b.name, b.kind, b.level, b.bulletin_id AS bulletinId, b.start_at AS startAt,
           b.end_at AS endAt, b.status, COUNT(DISTINCT v.commune_id) AS communes, COUNT(*) AS targeted,
           SUM(d.state = 'done') AS done, SUM(${HEARD}) AS heard, MAX(${PLAYED_MS}) AS airedMs
         FROM page
           CROSS JOIN broadcasts b ON b.id = page.id
           CROSS JOIN deliveries d ON d.broadcast_id = b.id
           JOIN clusters c ON c.id = d.cluster_id
           JOIN villages v ON v.id = c.village_id
         ${where}
         GROUP BY b.id
         ORDER BY b.start_at, b.id`,
      )
      .all({ ...params, ...page }) as BroadcastRow[];
  }

  /** Deliveries not heard for a fault, by outcome and reason, most frequent first. */
  failures(scope: SummaryScope, limit: number): FaultCount[] {
    const { where, params } = this.filter(scope);
    const states = FAULT_STATES.map((s) => `'${s}'`).join(', ');
    return this.db
      .prepare(
        `SELECT d.state AS state, d.reason AS reason, COUNT(*) AS count
         ${FROM_PERIOD} ${where} AND d.state IN (${states})
         GROUP BY d.state, d.reason
         ORDER BY count DESC, d.state, d.reason
         LIMIT @limit`,
      )
      .all({ ...params, limit }) as FaultCount[];
  }

  /** The same per commune, every reason: what the daily rollup keeps. */
  failuresByCommune(scope: SummaryScope): (FaultCount & { communeId: string })[] {
    const { where, params } = this.filter(scope);
    const states = FAULT_STATES.map((s) => `'${s}'`).join(', ');
    return this.db
      .prepare(
        `SELECT v.commune_id AS communeId, d.state AS state, d.reason AS reason, COUNT(*) AS count
         ${FROM_PERIOD} ${where} AND d.state IN (${states})
         GROUP BY v.commune_id, d.state, d.reason`,
      )
      .all(params) as (FaultCount & { communeId: string })[];
  }

  /**
   * The WHERE of the joined tables, and its two halves: which broadcasts (on `b`: the period, and
   * for a small scope the communes it reached) and which deliveries (on `d`, `v`: the communes).
   */
  private filter(scope: SummaryScope): {
    where: string;
    inRange: string;
    inCommunes: string;
    params: Record<string, unknown>;
  } {
    const communes = communeConditions(
      'v.commune_id',
      scope.communeIds === null ? {} : { communeIds: scope.communeIds },
    );
    // As the broadcast log selects: a broadcast overlapping the period.
    const onBroadcast = ['b.start_at < @to AND b.end_at >= @from'];
    if (scope.starts) onBroadcast.push('b.start_at >= @startFrom AND b.start_at < @startTo');
    // A small scope's broadcasts are found by commune in an index (broadcast_communes, as the log
    // reads a commune's), not among every commune's broadcasts of the period.
    if (scope.clusterIds && scope.communeIds !== null)
      onBroadcast.push(
        'b.id IN (SELECT broadcast_id FROM broadcast_communes WHERE commune_id IN (SELECT value FROM json_each(@communeIds)))',
      );
    const onDelivery = [...communes.clauses];
    if (scope.clusterIds) onDelivery.unshift('d.cluster_id IN (SELECT value FROM json_each(@clusterIds))');
    const inRange = onBroadcast.join(' AND ');
    const inCommunes = onDelivery.length > 0 ? onDelivery.join(' AND ') : '1';
    return {
      where: `WHERE ${inRange} AND ${inCommunes}`,
      inRange,
      inCommunes,
      params: {
        from: scope.from,
        to: scope.to,
        ...communes.params,
        ...(scope.clusterIds ? { clusterIds: JSON.stringify(scope.clusterIds) } : {}),
        ...(scope.starts ? { startFrom: scope.starts.from, startTo: scope.starts.to } : {}),
      },
    };
  }
}

/** A broadcast (`b`) with a delivery to a cluster of the scope's communes (`%COMMUNES%`, on `v`). */
const REACHES_SCOPE = `EXISTS (SELECT 1 FROM deliveries d JOIN clusters c ON c.id = d.cluster_id
  JOIN villages v ON v.id = c.village_id WHERE d.broadcast_id = b.id AND %COMMUNES%)`;

/**
 * The broadcasts' deliveries, with the commune of each cluster, read from the period's broadcasts
 * outward. SQLite has no statistics here (no ANALYZE) and would otherwise scan every delivery ever
 * made (or, for the faults, every failed delivery by its state index); CROSS JOIN keeps broadcasts
 * the outer loop (https://sqlite.org/optoverview.html#manual_control_of_query_plans_using_cross_join),
 * so a month's report reads that month's deliveries only.
 */
const FROM_PERIOD = `FROM broadcasts b
  CROSS JOIN deliveries d ON d.broadcast_id = b.id
  JOIN clusters c ON c.id = d.cluster_id
  JOIN villages v ON v.id = c.village_id`;

/**
 * Per broadcast and commune (of the WHERE's deliveries): deliveries per outcome, heard, the longest
 * play and every play summed, speaker faults. Deliveries are first grouped per broadcast, commune
 * and outcome (one pass over the period's deliveries, grouped once — cheaper than ten conditional
 * sums per row).
 */
function perBroadcastCommune(where: string): string {
  return `SELECT communeId, id, level, fromProvince, SUM(n) AS targeted, SUM(heard) AS heard,
      MAX(longestMs) AS longestMs, SUM(playedMs) AS playedMs, SUM(speakerFaults) AS speakerFaults,
      ${STATE_SUMS.join(', ')}
    FROM (
      SELECT v.commune_id AS communeId, b.id AS id, b.level AS level,
        b.bulletin_id IS NOT NULL AS fromProvince, d.state AS state, COUNT(*) AS n,
        SUM(${HEARD}) AS heard, MAX(${PLAYED_MS}) AS longestMs, SUM(${PLAYED_MS}) AS playedMs,
        SUM(${SPEAKER_FAULT}) AS speakerFaults
      ${FROM_PERIOD} ${where}
      GROUP BY b.id, v.commune_id, d.state
    )
    GROUP BY id, communeId`;
}

function totalsOf(row: Record<string, number>): DeliveryTotals {
  const byState = Object.fromEntries(
    DELIVERY_STATES.map((state, i) => [state, row[stateColumn(i)] ?? 0]),
  ) as Record<DeliveryState, number>;
  return {
    targeted: row.targeted ?? 0,
    done: byState.done,
    heard: row.heard ?? 0,
    byState,
    airedMs: row.airedMs ?? 0,
    clusterAiredMs: row.clusterAiredMs ?? 0,
    speakerFaults: row.speakerFaults ?? 0,
  };
}
