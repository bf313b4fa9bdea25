import type { AlarmKind, AlarmRule, AlarmState, Severity } from '../../contracts/alarms.js';
import { ALARM_KINDS } from '../../contracts/alarms.js';
import type { Db } from '../storage/database.js';

/** The platform's rule for each kind of alarm, until a commune sets its own. */
export const DEFAULT_RULES: Record<AlarmKind, Omit<AlarmRule, 'kind' | 'custom'>> = {
  'cluster-offline': { enabled: true, severity: 'critical', threshold: null, forS: 300 },
  'weak-signal': { enabled: true, severity: 'warning', threshold: -100, forS: 600 },
  overheating: { enabled: true, severity: 'warning', threshold: 70, forS: 300 },
  'low-supply': { enabled: true, severity: 'warning', threshold: 11, forS: 300 },
  'speaker-fault': { enabled: true, severity: 'warning', threshold: null, forS: 120 },
  'rejected-messages': { enabled: true, severity: 'info', threshold: 20, forS: 0 },
  'camera-offline': { enabled: true, severity: 'critical', threshold: null, forS: 300 },
  'camera-auth-failed': { enabled: true, severity: 'warning', threshold: null, forS: 0 },
  'not-delivered': { enabled: true, severity: 'warning', threshold: null, forS: 0 },
};

export interface AlarmRecord {
  id: string;
  kind: AlarmKind;
  severity: Severity;
  state: AlarmState;
  deviceId: string;
  deviceKind: 'cluster' | 'camera';
  communeId: string;
  villageId: string | null;
  detail: string;
  incidentId: string | null;
  held: boolean;
  openedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  note: string | null;
  clearedAt: number | null;
}

export interface IncidentRecord {
  id: string;
  kind: 'village-outage';
  communeId: string;
  villageId: string;
  openedAt: number;
  clearedAt: number | null;
  devices: { deviceId: string; deviceKind: 'cluster' | 'camera'; back: boolean }[];
}

export interface MaintenanceRecord {
  id: string;
  communeId: string;
  villageId: string | null;
  deviceIds: string[];
  startsAt: number;
  endsAt: number;
  reason: string;
  createdBy: string | null;
  createdAt: number;
}

interface AlarmRow {
  id: string;
  kind: AlarmKind;
  severity: Severity;
  state: AlarmState;
  device_id: string;
  device_kind: 'cluster' | 'camera';
  commune_id: string;
  village_id: string | null;
  detail: string;
  incident_id: string | null;
  held: number;
  opened_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  note: string | null;
  cleared_at: number | null;
}

const toAlarm = (r: AlarmRow): AlarmRecord => ({
  id: r.id,
  kind: r.kind,
  severity: r.severity,
  state: r.state,
  deviceId: r.device_id,
  deviceKind: r.device_kind,
  communeId: r.commune_id,
  villageId: r.village_id,
  detail: r.detail,
  incidentId: r.incident_id,
  held: r.held === 1,
  openedAt: r.opened_at,
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
  note: r.note,
  clearedAt: r.cleared_at,
});

/** Alarms, their rules, village outages and maintenance windows (migration 0021). */
export class AlarmStore {
  constructor(private readonly db: Db) {}

  /** The rules in force in a commune: its own where it set them, the defaults elsewhere. */
  rules(communeId: string): AlarmRule[] {
    const own = new Map(
      (
        this.db.prepare('SELECT * FROM alarm_rules WHERE commune_id = ?').all(communeId) as {
          kind: AlarmKind;
          enabled: number;
          severity: Severity;
          threshold: number | null;
          for_s: number;
        }[]
      ).map((r) => [r.kind, r]),
    );
    return ALARM_KINDS.map((kind) => {
      const row = own.get(kind);
      return row
        ? {
            kind,
            enabled: row.enabled === 1,
            severity: row.severity,
            threshold: row.threshold,
            forS: row.for_s,
            custom: true,
          }
        : { kind, ...DEFAULT_RULES[kind], custom: false };
    });
  }

  setRule(communeId: string, rule: AlarmRule, by: string | null, now: number): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO alarm_rules (commune_id, kind, enabled, severity, threshold, for_s, updated_by, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(communeId, rule.kind, rule.enabled ? 1 : 0, rule.severity, rule.threshold, rule.forS, by, now);
  }

  insert(alarm: AlarmRecord): void {
    this.db
      .prepare(
        `INSERT INTO alarms (id, kind, severity, state, device_id, device_kind, commune_id, village_id, detail,
           incident_id, held, opened_at) VALUES (@id, @kind, @severity, @state, @deviceId, @deviceKind, @communeId,
           @villageId, @detail, @incidentId, @held, @openedAt)`,
      )
      .run({ ...alarm, held: alarm.held ? 1 : 0 });
  }

  get(id: string): AlarmRecord | null {
    const row = this.db.prepare('SELECT * FROM alarms WHERE id = ?').get(id) as AlarmRow | undefined;
    return row ? toAlarm(row) : null;
  }

  /** The alarm of this kind on this device that is not cleared yet, if any: an alarm opens once. */
  active(deviceId: string, kind: AlarmKind): AlarmRecord | null {
    const row = this.db
      .prepare("SELECT * FROM alarms WHERE device_id = ? AND kind = ? AND state <> 'cleared'")
      .get(deviceId, kind) as AlarmRow | undefined;
    return row ? toAlarm(row) : null;
  }

  /** Every alarm not yet cleared (to restore the engine's view after a restart). */
  allActive(): AlarmRecord[] {
    return (this.db.prepare("SELECT * FROM alarms WHERE state <> 'cleared'").all() as AlarmRow[]).map(
      toAlarm,
    );
  }

  list(
    filter: {
      communeIds?: readonly string[] | undefined;
      deviceId?: string | undefined;
      states?: readonly AlarmState[] | undefined;
    },
    page: { limit: number; offset: number },
  ): { items: AlarmRecord[]; total: number } {
    const clauses: string[] = [];
    if (filter.communeIds) clauses.push('commune_id IN (SELECT value FROM json_each(@communes))');
    if (filter.deviceId) clauses.push('device_id = @deviceId');
    if (filter.states) clauses.push('state IN (SELECT value FROM json_each(@states))');
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const params = {
      communes: filter.communeIds ? JSON.stringify(filter.communeIds) : null,
      deviceId: filter.deviceId ?? null,
      states: filter.states ? JSON.stringify(filter.states) : null,
    };
    // Open first, then by severity and age: what needs someone comes first.
    const rows = this.db
      .prepare(
        `SELECT * FROM alarms ${where}
         ORDER BY state = 'cleared', CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
           opened_at DESC, id LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, ...page }) as AlarmRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM alarms ${where}`).get(params) as { n: number };
    return { items: rows.map(toAlarm), total: n };
  }

  acknowledge(id: string, by: string, note: string, at: number): boolean {
    return (
      this.db
        .prepare(
          "UPDATE alarms SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, note = ? WHERE id = ? AND state = 'open'",
        )
        .run(at, by, note, id).changes > 0
    );
  }

  clear(id: string, at: number, detail?: string): void {
    this.db
      .prepare(
        "UPDATE alarms SET state = 'cleared', cleared_at = ?, detail = COALESCE(?, detail) WHERE id = ? AND state <> 'cleared'",
      )
      .run(at, detail ?? null, id);
  }

  attach(alarmIds: readonly string[], incidentId: string): void {
    this.db
      .prepare('UPDATE alarms SET incident_id = ? WHERE id IN (SELECT value FROM json_each(?))')
      .run(incidentId, JSON.stringify(alarmIds));
  }

  putIncident(incident: IncidentRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO incidents (id, kind, commune_id, village_id, opened_at, cleared_at, devices)
         VALUES (@id, @kind, @communeId, @villageId, @openedAt, @clearedAt, @devices)`,
      )
      .run({ ...incident, devices: JSON.stringify(incident.devices) });
  }

  incidents(
    filter: { communeIds?: readonly string[] | undefined; openOnly?: boolean },
    page: { limit: number; offset: number },
  ): { items: IncidentRecord[]; total: number } {
    const clauses: string[] = [];
    if (filter.communeIds) clauses.push('commune_id IN (SELECT value FROM json_each(@communes))');
    if (filter.openOnly) clauses.push('cleared_at IS NULL');
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const params = { communes: filter.communeIds ? JSON.stringify(filter.communeIds) : null };
    const rows = this.db
      .prepare(`SELECT * FROM incidents ${where} ORDER BY opened_at DESC, id LIMIT @limit OFFSET @offset`)
      .all({ ...params, ...page }) as (Omit<
      IncidentRecord,
      'devices' | 'communeId' | 'villageId' | 'openedAt' | 'clearedAt'
    > & {
      commune_id: string;
      village_id: string;
      opened_at: number;
      cleared_at: number | null;
      devices: string;
    })[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM incidents ${where}`).get(params) as {
      n: number;
    };
    return {
      total: n,
      items: rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        communeId: r.commune_id,
        villageId: r.village_id,
        openedAt: r.opened_at,
        clearedAt: r.cleared_at,
        devices: JSON.parse(r.devices) as IncidentRecord['devices'],
      })),
    };
  }

  openIncidents(): IncidentRecord[] {
    return this.incidents({ openOnly: true }, { limit: 10_000, offset: 0 }).items;
  }

  addMaintenance(window: MaintenanceRecord): void {
    this.db
      .prepare(
        `INSERT INTO maintenance_windows (id, commune_id, village_id, device_ids, starts_at, ends_at, reason, created_by,
           created_at) VALUES (@id, @communeId, @villageId, @deviceIds, @startsAt, @endsAt, @reason, @createdBy, @createdAt)`,
      )
      .run({ ...window, deviceIds: JSON.stringify(window.deviceIds) });
  }

  /**
   * Ends a window now: one not started yet is removed; one under way keeps the time it ran, which
   * availability reports count as maintenance.
   */
  endMaintenance(id: string, now: number): boolean {
    const removed = this.db
      .prepare('DELETE FROM maintenance_windows WHERE id = ? AND starts_at >= ?')
      .run(id, now);
    if (removed.changes > 0) return true;
    return (
      this.db
        .prepare('UPDATE maintenance_windows SET ends_at = ? WHERE id = ? AND ends_at > ?')
        .run(now, id, now).changes > 0
    );
  }

  /** Windows that have not ended by `now`, optionally of some communes. */
  maintenance(now: number, communeIds?: readonly string[]): MaintenanceRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM maintenance_windows WHERE ends_at > ?
           AND (? IS NULL OR commune_id IN (SELECT value FROM json_each(?))) ORDER BY starts_at`,
      )
      .all(now, communeIds ? 1 : null, communeIds ? JSON.stringify(communeIds) : null) as {
      id: string;
      commune_id: string;
      village_id: string | null;
      device_ids: string;
      starts_at: number;
      ends_at: number;
      reason: string;
      created_by: string | null;
      created_at: number;
    }[];
    return rows.map((r) => ({
      id: r.id,
      communeId: r.commune_id,
      villageId: r.village_id,
      deviceIds: JSON.parse(r.device_ids) as string[],
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      reason: r.reason,
      createdBy: r.created_by,
      createdAt: r.created_at,
    }));
  }
}
