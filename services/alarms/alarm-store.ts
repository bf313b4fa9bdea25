import type { Logger } from 'pino';
import type { AlarmKind, AlarmRule, AlarmState, Severity } from '../../contracts/alarms.js';
import { ALARM_KINDS } from '../../contracts/alarms.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { AlarmRulesCopy, alarmCopy } from './alarm-copy.js';

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

export interface AlarmStoreOptions {
  /** The platform's SQLite file: the store itself, or its read copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL. */
  state: StateDatabase;
  logger: Logger;
  /** Told when another instance changed a commune's rules. */
  onRulesCopied?: (communeId: string) => void;
}

/**
 * Alarms, their rules, village outages and maintenance windows (migration 0021). Reads are answered
 * from the platform's SQLite file; writes go through the query layer, to that file or to
 * PostgreSQL, whose changes every instance copies into its file (alarm-copy.ts).
 */
export class AlarmStore {
  private readonly db: Db;
  private readonly state: StateDatabase;
  private readonly copy: TableCopy;
  private readonly rulesCopy: AlarmRulesCopy;
  private readonly onRulesCopied: (communeId: string) => void;

  constructor(options: AlarmStoreOptions) {
    this.db = options.db;
    this.state = options.state;
    this.copy = alarmCopy(options.db, options.state, options.logger);
    this.rulesCopy = new AlarmRulesCopy(options.db, options.state, options.logger);
    this.onRulesCopied = options.onRulesCopied ?? (() => undefined);
  }

  /** With PostgreSQL: fills this instance's copy, then follows the other instances' changes. */
  async start(): Promise<void> {
    await this.rulesCopy.start((communeId) => this.onRulesCopied(communeId));
    await this.copy.start(() => undefined);
  }

  async stop(): Promise<void> {
    await this.copy.stop();
    await this.rulesCopy.stop();
  }

  /**
   * One write in one transaction of the query layer, announced to the other instances when it
   * commits, then copied here (with PostgreSQL) before anyone reads it. `work` returns what it
   * touched.
   */
  private async write<T>(
    work: (trx: StateTransaction) => Promise<{ touched: TableTouch[]; result: T }>,
  ): Promise<T> {
    const { touched, result } = await translateConstraintAsync(
      {
        duplicateId: 'a record with this id already exists',
        reference: 'the commune named does not exist',
      },
      () =>
        this.state.transaction(async (trx) => {
          const done = await work(trx);
          for (const touch of done.touched) await this.copy.announce(trx, touch);
          return done;
        }),
    );
    for (const touch of touched) await this.copy.copy(touch);
    return result;
  }

  /**
   * An alarm or window a write depends on: read here, and with PostgreSQL copied from there once
   * more before it is called missing, since another instance may have written it a moment ago.
   */
  async present(table: 'alarms' | 'maintenance_windows', id: string): Promise<void> {
    if (!this.copy.remote) return;
    const here = this.db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`).get(id);
    if (!here) await this.copy.copy({ table, id });
  }

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

  async setRule(communeId: string, rule: AlarmRule, by: string | null, now: number): Promise<void> {
    const row = {
      commune_id: communeId,
      kind: rule.kind,
      enabled: rule.enabled ? 1 : 0,
      severity: rule.severity,
      threshold: rule.threshold,
      for_s: rule.forS,
      updated_by: by,
      updated_at: now,
    };
    await translateConstraintAsync({ reference: 'the commune named does not exist' }, () =>
      this.state.transaction(async (trx) => {
        await trx
          .insertInto('alarm_rules')
          .values(row)
          .onConflict((oc) =>
            oc.columns(['commune_id', 'kind']).doUpdateSet({
              enabled: row.enabled,
              severity: row.severity,
              threshold: row.threshold,
              for_s: row.for_s,
              updated_by: row.updated_by,
              updated_at: row.updated_at,
            }),
          )
          .execute();
        await this.rulesCopy.announce(trx, communeId);
      }),
    );
    await this.rulesCopy.copy();
  }

  async insert(alarm: AlarmRecord): Promise<void> {
    await this.write(async (trx) => {
      await trx
        .insertInto('alarms')
        .values({
          id: alarm.id,
          kind: alarm.kind,
          severity: alarm.severity,
          state: alarm.state,
          device_id: alarm.deviceId,
          device_kind: alarm.deviceKind,
          commune_id: alarm.communeId,
          village_id: alarm.villageId,
          detail: alarm.detail,
          incident_id: alarm.incidentId,
          held: alarm.held ? 1 : 0,
          opened_at: alarm.openedAt,
        })
        .execute();
      return { touched: [{ table: 'alarms', id: alarm.id, change: 'created' }], result: undefined };
    });
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

  async acknowledge(id: string, by: string, note: string, at: number): Promise<boolean> {
    return this.write(async (trx) => {
      const done = await trx
        .updateTable('alarms')
        .set({ state: 'acknowledged', acknowledged_at: at, acknowledged_by: by, note })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .executeTakeFirst();
      const changed = Number(done.numUpdatedRows) > 0;
      return {
        touched: changed ? [{ table: 'alarms', id, change: 'updated' }] : [],
        result: changed,
      };
    });
  }

  async clear(id: string, at: number, detail?: string): Promise<void> {
    await this.write(async (trx) => {
      const set =
        detail === undefined
          ? { state: 'cleared', cleared_at: at }
          : { state: 'cleared', cleared_at: at, detail };
      const done = await trx
        .updateTable('alarms')
        .set(set)
        .where('id', '=', id)
        .where('state', '<>', 'cleared')
        .executeTakeFirst();
      return {
        touched: Number(done.numUpdatedRows) > 0 ? [{ table: 'alarms', id, change: 'updated' }] : [],
        result: undefined,
      };
    });
  }

  async attach(alarmIds: readonly string[], incidentId: string): Promise<void> {
    if (alarmIds.length === 0) return;
    await this.write(async (trx) => {
      await trx
        .updateTable('alarms')
        .set({ incident_id: incidentId })
        .where('id', 'in', [...alarmIds])
        .execute();
      return {
        touched: alarmIds.map((id) => ({ table: 'alarms', id, change: 'updated' as const })),
        result: undefined,
      };
    });
  }

  async putIncident(incident: IncidentRecord): Promise<void> {
    const row = {
      id: incident.id,
      kind: incident.kind,
      commune_id: incident.communeId,
      village_id: incident.villageId,
      opened_at: incident.openedAt,
      cleared_at: incident.clearedAt,
      devices: JSON.stringify(incident.devices),
    };
    await this.write(async (trx) => {
      const { id: _, ...rest } = row;
      await trx
        .insertInto('incidents')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet(rest))
        .execute();
      return { touched: [{ table: 'incidents', id: incident.id, change: 'updated' }], result: undefined };
    });
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

  async addMaintenance(window: MaintenanceRecord): Promise<void> {
    await this.write(async (trx) => {
      await trx
        .insertInto('maintenance_windows')
        .values({
          id: window.id,
          commune_id: window.communeId,
          village_id: window.villageId,
          device_ids: JSON.stringify(window.deviceIds),
          starts_at: window.startsAt,
          ends_at: window.endsAt,
          reason: window.reason,
          created_by: window.createdBy,
          created_at: window.createdAt,
        })
        .execute();
      return {
        touched: [{ table: 'maintenance_windows', id: window.id, change: 'created' }],
        result: undefined,
      };
    });
  }

  /**
   * Ends a window now: one not started yet is removed; one under way keeps the time it ran, which
   * availability reports count as maintenance.
   */
  async endMaintenance(id: string, now: number): Promise<boolean> {
    return this.write(async (trx) => {
      const removed = await trx
        .deleteFrom('maintenance_windows')
        .where('id', '=', id)
        .where('starts_at', '>=', now)
        .executeTakeFirst();
      if (Number(removed.numDeletedRows) > 0)
        return { touched: [{ table: 'maintenance_windows', id, change: 'deleted' }], result: true };
      const ended = await trx
        .updateTable('maintenance_windows')
        .set({ ends_at: now })
        .where('id', '=', id)
        .where('ends_at', '>', now)
        .executeTakeFirst();
      const changed = Number(ended.numUpdatedRows) > 0;
      return {
        touched: changed ? [{ table: 'maintenance_windows', id, change: 'updated' }] : [],
        result: changed,
      };
    });
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
