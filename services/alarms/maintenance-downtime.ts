import type { DeviceAvailability } from '../history/telemetry-store.js';
import type { Db } from '../storage/database.js';

/** A device's availability with the downtime inside its maintenance windows counted apart. */
export interface SplitAvailability extends DeviceAvailability {
  /** Offline while under a maintenance window: planned work, not counted against uptime. */
  maintenanceMs: number;
}

/** Half-open spans [start, end), ascending and disjoint. */
export type Spans = readonly (readonly [number, number])[];

/** Merges spans that overlap or touch, after cutting them to [from, to). */
export function mergeSpans(spans: Iterable<readonly [number, number]>, from: number, to: number): Spans {
  const cut = [...spans]
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of cut) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * Per device, the time its maintenance windows covered within [from, to): a window names its
 * devices (a village's were listed when it was made). Windows ended early keep the time they ran
 * (DELETE /maintenance ends a started window, it does not erase it).
 */
export function maintenanceSpans(
  db: Db,
  range: { from: number; to: number },
  communeIds: readonly string[] | null,
): Map<string, Spans> {
  const rows = db
    .prepare(
      `SELECT device_ids, starts_at, ends_at FROM maintenance_windows
       WHERE starts_at < @to AND ends_at > @from
         AND (@communes IS NULL OR commune_id IN (SELECT value FROM json_each(@communes)))`,
    )
    .all({
      from: range.from,
      to: range.to,
      communes: communeIds === null ? null : JSON.stringify(communeIds),
    }) as { device_ids: string; starts_at: number; ends_at: number }[];
  const raw = new Map<string, [number, number][]>();
  for (const row of rows)
    for (const deviceId of JSON.parse(row.device_ids) as string[])
      raw.set(deviceId, [...(raw.get(deviceId) ?? []), [row.starts_at, row.ends_at]]);
  return new Map([...raw].map(([deviceId, spans]) => [deviceId, mergeSpans(spans, range.from, range.to)]));
}

/**
 * Splits each device's offline time into downtime and maintenance: the offline time inside its
 * maintenance spans is asked of the history store span by span (devices sharing a span in one
 * query) and moved from `offlineMs` to `maintenanceMs`. Online and unknown time stay as they were,
 * so online + offline + maintenance + unknown is still the whole period.
 */
export async function splitMaintenance(
  results: readonly DeviceAvailability[],
  spans: ReadonlyMap<string, Spans>,
  availability: (query: { devices: string[]; from: number; to: number }) => Promise<DeviceAvailability[]>,
): Promise<SplitAvailability[]> {
  const bySpan = new Map<string, { from: number; to: number; devices: string[] }>();
  for (const r of results)
    for (const [from, to] of spans.get(r.device) ?? []) {
      const key = `${from}-${to}`;
      const group = bySpan.get(key) ?? { from, to, devices: [] };
      group.devices.push(r.device);
      bySpan.set(key, group);
    }
  const maintenance = new Map<string, number>();
  for (const group of bySpan.values())
    for (const part of await availability(group)) {
      maintenance.set(part.device, (maintenance.get(part.device) ?? 0) + part.offlineMs);
    }
  return results.map((r) => {
    // Never more than the offline time of the whole period (the history's rounding at the edges).
    const maintenanceMs = Math.min(maintenance.get(r.device) ?? 0, r.offlineMs);
    return { ...r, offlineMs: r.offlineMs - maintenanceMs, maintenanceMs };
  });
}
