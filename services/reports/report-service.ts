import type { Logger } from 'pino';
import type { Level } from '../../contracts/broadcasts.js';
import { DELIVERY_STATES, type DeliveryState } from '../../contracts/broadcasts.js';
import {
  FAULT_STATES,
  type SummaryCommune,
  type SummaryFigures,
  type SummaryReport,
} from '../../contracts/reports.js';
import type { Clock } from '../../devices/index.js';
import { type Spans, type SplitAvailability, splitMaintenance } from '../alarms/maintenance-downtime.js';
import { uptimePercent } from '../history/availability.js';
import { type TelemetryStore, TelemetryUnavailableError } from '../history/telemetry-store.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { isoTime } from '../time.js';
import type { ReportRollup } from './report-rollup.js';
import type { DeliveryTotals, FaultCount, SummaryQueries } from './summary-queries.js';

/** Who the report is for: resolved from the query and the caller's communes by the routes. */
export interface ReportScope {
  kind: SummaryReport['scope']['kind'];
  id: string | null;
  name: string;
  /** The communes it covers; null for every commune. */
  communeIds: readonly string[] | null;
  /** The zone its dates are written in: the commune's, else the platform's default. */
  timeZone: string;
}

export interface ReportServiceDeps {
  queries: SummaryQueries;
  /** The days already added up (per commune and day); the rest of a period is read from the log. */
  rollup: ReportRollup;
  registry: RegistryStore;
  telemetry: TelemetryStore;
  /** Per cluster, the spans its maintenance windows covered in the period (their downtime is reported apart). */
  maintenanceSpans(
    range: { from: number; to: number },
    communeIds: readonly string[] | null,
  ): Map<string, Spans>;
  /** Writes the delivery changes the broadcast store still holds in memory: the report reads the tables. */
  flushDeliveries(): void;
  clock: Clock;
  logger: Logger;
}

/** Reports kept in memory at most, and for how long (a period still going on; one long over). */
const REPORTS_KEPT = 64;
const REPORT_FRESH_MS = 30_000;
const REPORT_PAST_MS = 600_000;

/** Failure reasons listed at most. */
const MAX_FAILURE_ROWS = 50;
/** Up to this many clusters, deliveries are looked up cluster by cluster (see SummaryScope.clusterIds). */
const SMALL_SCOPE_CLUSTERS = 200;

const LEVELS: readonly Level[] = ['emergency', 'priority', 'normal'];

const percent = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 10_000) / 100;

function emptyTotals(): DeliveryTotals {
  return {
    targeted: 0,
    done: 0,
    heard: 0,
    byState: Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>,
    airedMs: 0,
    clusterAiredMs: 0,
    speakerFaults: 0,
  };
}

function addTotals(into: DeliveryTotals, from: DeliveryTotals): void {
  into.targeted += from.targeted;
  into.done += from.done;
  into.heard += from.heard;
  into.airedMs += from.airedMs;
  into.clusterAiredMs += from.clusterAiredMs;
  into.speakerFaults += from.speakerFaults;
  for (const state of DELIVERY_STATES) into.byState[state] += from.byState[state];
}

function emptyBulletins(): SummaryFigures['bulletins'] {
  const byLevel = Object.fromEntries(
    LEVELS.map((level) => [level, { province: 0, commune: 0, total: 0 }]),
  ) as SummaryFigures['bulletins']['byLevel'];
  return { total: 0, byLevel };
}

function countBulletin(
  into: SummaryFigures['bulletins'],
  level: Level,
  fromProvince: boolean,
  count: number,
): void {
  const row = into.byLevel[level];
  if (fromProvince) row.province += count;
  else row.commune += count;
  row.total += count;
  into.total += count;
}

interface AvailabilitySum {
  clusters: number;
  onlineMs: number;
  offlineMs: number;
  unknownMs: number;
  maintenanceMs: number;
  withOutage: number;
}

function figures(
  bulletins: SummaryFigures['bulletins'],
  totals: DeliveryTotals,
  availability: AvailabilitySum | null,
): SummaryFigures {
  return {
    bulletins,
    airedS: totals.airedMs / 1000,
    clusterAiredS: totals.clusterAiredMs / 1000,
    deliveries: {
      targeted: totals.targeted,
      done: totals.done,
      heard: totals.heard,
      deliveryPct: percent(totals.done, totals.targeted),
      heardPct: percent(totals.heard, totals.targeted),
      byState: totals.byState,
    },
    availability: availability && {
      clusters: availability.clusters,
      uptimePct: uptimePercent(availability),
      onlineS: availability.onlineMs / 1000,
      offlineS: availability.offlineMs / 1000,
      maintenanceS: availability.maintenanceMs / 1000,
      unknownS: availability.unknownMs / 1000,
      clustersWithOutage: availability.withOutage,
    },
    faults: {
      failedDeliveries: FAULT_STATES.reduce((sum, state) => sum + totals.byState[state], 0),
      speakerFaultDeliveries: totals.speakerFaults,
      clustersWithOutage: availability ? availability.withOutage : null,
    },
  };
}

/**
 * The report a commune (or a province) sends upward (Circular 39): bulletins by level and origin,
 * hours aired, the delivery rate per bulletin, the clusters' availability and the faults, per
 * commune and for the whole scope. Aggregated in SQL (SummaryQueries); availability comes from the
 * history store, and a history store that does not answer leaves only those figures out.
 */
export class ReportService {
  private readonly logger: Logger;
  /** Reports recently made, by scope, period and page: a province's month is asked for again and again. */
  private readonly cache = new Map<string, { until: number; report: Promise<SummaryReport> }>();

  /** The daily rollup of the broadcast log the reports read. */
  get rollup(): ReportRollup {
    return this.deps.rollup;
  }

  constructor(private readonly deps: ReportServiceDeps) {
    this.logger = deps.logger.child({ component: 'reports' });
  }

  /**
   * The report, made again at most every REPORT_FRESH_MS for a period that is still going on, and
   * kept REPORT_PAST_MS for one that ended an hour ago or more (its broadcasts are all final).
   */
  summary(
    scope: ReportScope,
    range: { from: number; to: number },
    page: { limit: number; offset: number },
  ): Promise<SummaryReport> {
    const now = this.deps.clock.now();
    const key = JSON.stringify([scope, range, page]);
    const kept = this.cache.get(key);
    if (kept && kept.until > now) return kept.report;
    for (const [k, entry] of this.cache) if (entry.until <= now) this.cache.delete(k);
    while (this.cache.size >= REPORTS_KEPT) this.cache.delete(this.cache.keys().next().value as string);
    const report = this.make(scope, range, page);
    const until = now + (range.to <= now - 3_600_000 ? REPORT_PAST_MS : REPORT_FRESH_MS);
    this.cache.set(key, { until, report });
    report.catch(() => this.cache.delete(key));
    return report;
  }

  private async make(
    scope: ReportScope,
    range: { from: number; to: number },
    page: { limit: number; offset: number },
  ): Promise<SummaryReport> {
    const { registry, queries } = this.deps;
    // What the dispatcher changed this turn is on disk before the tables are read.
    this.deps.flushDeliveries();
    const inScope = scope.communeIds === null ? null : new Set(scope.communeIds);
    const communes = registry
      .listCommunes({ limit: Number.MAX_SAFE_INTEGER, offset: 0 })
      .items.filter((c) => inScope === null || inScope.has(c.id));
    const clusters = registry.clusterPlacements().filter((c) => inScope === null || inScope.has(c.communeId));
    const query = {
      ...range,
      communeIds: scope.communeIds,
      clusterIds:
        inScope !== null && clusters.length <= SMALL_SCOPE_CLUSTERS ? clusters.map((c) => c.id) : undefined,
    };

    const { rollup } = this.deps;
    // Whole days already added up come from the rollup; the rest of the period from the log, as
    // windows of the broadcasts' start. One snapshot, so a day built meanwhile is not counted twice.
    const { plan, byCommune, bulletinsOfScope, faults } = rollup.snapshot(() => {
      const plan = rollup.plan(range);
      const parts = plan.raw.map((starts) => ({ ...query, starts }));
      return {
        plan,
        byCommune: [
          ...rollup.byCommune(plan.days, scope.communeIds),
          ...parts.flatMap((part) => queries.byCommune(part)),
        ],
        bulletinsOfScope: [
          ...rollup.bulletinsOfScope(plan.days, scope.communeIds),
          ...parts.flatMap((part) => queries.bulletinsOfScope(part)),
        ],
        faults: [
          ...rollup.failures(plan.days, scope.communeIds),
          ...parts.flatMap((part) => queries.failures(part, -1)),
        ],
      };
    });
    if (plan.missing.length > 0) rollup.fill(plan.missing);

    const perCommune = new Map(
      communes.map((c) => [c.id, { bulletins: emptyBulletins(), totals: emptyTotals() }]),
    );
    for (const row of byCommune) {
      const commune = perCommune.get(row.communeId);
      if (!commune) continue;
      countBulletin(commune.bulletins, row.level, row.fromProvince, row.bulletins);
      addTotals(commune.totals, row);
    }
    const scopeBulletins = emptyBulletins();
    for (const row of bulletinsOfScope)
      countBulletin(scopeBulletins, row.level, row.fromProvince, row.bulletins);
    const scopeTotals = emptyTotals();
    for (const { totals } of perCommune.values()) addTotals(scopeTotals, totals);

    const { byCommune: availability, error: availabilityError } = await this.availability(
      clusters,
      range,
      scope.communeIds,
    );
    const scopeAvailability = availability && sumAvailability([...availability.values()]);

    const rows: SummaryCommune[] = communes.map((c) => {
      const own = perCommune.get(c.id) ?? { bulletins: emptyBulletins(), totals: emptyTotals() };
      return {
        id: c.id,
        name: c.name,
        code: c.code,
        provinceId: c.provinceId,
        province: c.province,
        ...figures(
          own.bulletins,
          own.totals,
          availability ? (availability.get(c.id) ?? sumAvailability([])) : null,
        ),
      };
    });
    const broadcasts = queries.broadcasts(query, page).map((b) => ({
      id: b.id,
      name: b.name,
      kind: b.kind,
      level: b.level,
      origin: b.bulletinId ? ('province' as const) : ('commune' as const),
      bulletinId: b.bulletinId,
      startAt: isoTime(b.startAt),
      endAt: isoTime(b.endAt),
      status: b.status,
      communes: b.communes,
      targeted: b.targeted,
      done: b.done,
      heard: b.heard,
      deliveryPct: percent(b.done, b.targeted),
      airedS: b.airedMs / 1000,
    }));
    return {
      from: isoTime(range.from),
      to: isoTime(range.to),
      generatedAt: isoTime(this.deps.clock.now()),
      timeZone: scope.timeZone,
      scope: { kind: scope.kind, id: scope.id, name: scope.name },
      total: { ...figures(scopeBulletins, scopeTotals, scopeAvailability), communes: rows.length },
      communes: rows,
      failures: topFailures(faults, MAX_FAILURE_ROWS),
      broadcasts: { items: broadcasts, total: scopeBulletins.total, ...page },
      availabilityError,
    };
  }

  /** Per commune, its clusters' availability over the period so far; null with the reason when history is down. */
  private async availability(
    clusters: readonly { id: string; communeId: string }[],
    range: { from: number; to: number },
    communeIds: readonly string[] | null,
  ): Promise<{ byCommune: Map<string, AvailabilitySum> | null; error: string | null }> {
    // Time after now is neither up nor down yet.
    const until = Math.min(range.to, this.deps.clock.now());
    let results: SplitAvailability[];
    if (until <= range.from) {
      results = clusters.map((c) => ({
        device: c.id,
        onlineMs: 0,
        offlineMs: 0,
        unknownMs: 0,
        maintenanceMs: 0,
      }));
    } else {
      try {
        const { telemetry } = this.deps;
        const whole = await telemetry.availability({
          devices: clusters.map((c) => c.id),
          from: range.from,
          to: until,
        });
        // Downtime inside a maintenance window is planned work: reported apart, not against uptime.
        results = await splitMaintenance(
          whole,
          this.deps.maintenanceSpans({ from: range.from, to: until }, communeIds),
          (query) => telemetry.availability(query),
        );
      } catch (error) {
        if (!(error instanceof TelemetryUnavailableError)) throw error;
        // The rest of the report stands; the answer says why these figures are missing.
        this.logger.warn({ err: error }, 'summary report without availability: the history store failed');
        return { byCommune: null, error: error.message };
      }
    }
    const byDevice = new Map(results.map((r) => [r.device, r]));
    const members = new Map<string, SplitAvailability[]>();
    for (const c of clusters) {
      const own = members.get(c.communeId) ?? [];
      own.push(
        byDevice.get(c.id) ?? {
          device: c.id,
          onlineMs: 0,
          offlineMs: 0,
          unknownMs: until - range.from,
          maintenanceMs: 0,
        },
      );
      members.set(c.communeId, own);
    }
    return {
      byCommune: new Map([...members].map(([communeId, list]) => [communeId, sumAvailability(list)])),
      error: null,
    };
  }
}

/** Fault counts of several parts of a period merged, most frequent first (as SummaryQueries.failures orders them). */
function topFailures(parts: readonly FaultCount[], limit: number): FaultCount[] {
  const merged = new Map<string, FaultCount>();
  for (const part of parts) {
    const key = JSON.stringify([part.state, part.reason]);
    const seen = merged.get(key);
    if (seen) seen.count += part.count;
    else merged.set(key, { ...part });
  }
  const byText = (a: string | null, b: string | null) =>
    a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
  return [...merged.values()]
    .sort((a, b) => b.count - a.count || byText(a.state, b.state) || byText(a.reason, b.reason))
    .slice(0, limit);
}

function sumAvailability(parts: readonly (SplitAvailability | AvailabilitySum)[]): AvailabilitySum {
  const sum: AvailabilitySum = {
    clusters: 0,
    onlineMs: 0,
    offlineMs: 0,
    unknownMs: 0,
    maintenanceMs: 0,
    withOutage: 0,
  };
  for (const p of parts) {
    sum.onlineMs += p.onlineMs;
    sum.offlineMs += p.offlineMs;
    sum.unknownMs += p.unknownMs;
    sum.maintenanceMs += p.maintenanceMs;
    if ('clusters' in p) {
      sum.clusters += p.clusters;
      sum.withOutage += p.withOutage;
    } else {
      sum.clusters += 1;
      if (p.offlineMs > 0) sum.withOutage += 1;
    }
  }
  return sum;
}
