import type { Db } from '../storage/database.js';
import type { ShippedTable } from '../storage/sql/shipped-log.js';

export interface StoredStatus {
  deviceId: string;
  online: boolean;
  since: number;
  reason: string;
  lastSeen: number | null;
  state: unknown;
  heartbeat: unknown;
  heartbeatAt: number | null;
}

export interface PresencePeriod {
  online: boolean;
  startedAt: number;
  startReason: string;
  endedAt: number | null;
  endReason: string | null;
}

export interface LiveUpdate {
  deviceId: string;
  lastSeen: number | null;
  state: unknown;
  heartbeat: unknown;
  heartbeatAt: number | null;
}

interface StatusRow {
  device_id: string;
  online: number;
  since: number;
  reason: string;
  last_seen: number | null;
  state_json: string | null;
  heartbeat_json: string | null;
  heartbeat_at: number | null;
}

/**
 * Presence history as shipped to PostgreSQL with DATABASE_URL (shipped-log.ts): recorded by one
 * instance (the `presence-history` lease's holder), copied by the others.
 */
export const PRESENCE_LOG_TABLES: readonly ShippedTable[] = [
  {
    name: 'presence_periods',
    key: ['device_id', 'started_at'],
    columns: ['device_id', 'online', 'started_at', 'start_reason', 'ended_at', 'end_reason'],
    unique: false,
  },
];

/**
 * Current device status and the online/offline periods, in SQLite. The status is each instance's
 * own (with REDIS_URL every instance follows every device's sessions); the periods are recorded
 * where `recordsHistory` says, one instance when several share PostgreSQL.
 */
export class PresenceStore {
  constructor(
    private readonly db: Db,
    private readonly recordsHistory: () => boolean = () => true,
  ) {}

  loadStatuses(): StoredStatus[] {
    const rows = this.db.prepare('SELECT * FROM device_status').all() as StatusRow[];
    return rows.map((r) => ({
      deviceId: r.device_id,
      online: r.online === 1,
      since: r.since,
      reason: r.reason,
      lastSeen: r.last_seen,
      state: r.state_json ? JSON.parse(r.state_json) : null,
      heartbeat: r.heartbeat_json ? JSON.parse(r.heartbeat_json) : null,
      heartbeatAt: r.heartbeat_at,
    }));
  }

  /** Closes the device's open period and opens the next one, atomically with its status row. */
  recordTransition(deviceId: string, online: boolean, reason: string, at: number): void {
    this.db.transaction(() => {
      if (this.recordsHistory()) {
        this.db
          .prepare(
            'UPDATE presence_periods SET ended_at = ?, end_reason = ? WHERE device_id = ? AND ended_at IS NULL',
          )
          .run(at, reason, deviceId);
        this.db
          .prepare(
            'INSERT INTO presence_periods (device_id, online, started_at, start_reason) VALUES (?, ?, ?, ?)',
          )
          .run(deviceId, online ? 1 : 0, at, reason);
      }
      this.db
        .prepare(
          `INSERT INTO device_status (device_id, online, since, reason) VALUES (?, ?, ?, ?)
           ON CONFLICT (device_id) DO UPDATE SET online = excluded.online, since = excluded.since, reason = excluded.reason`,
        )
        .run(deviceId, online ? 1 : 0, at, reason);
    })();
  }

  /** Writes last-seen times and latest messages for many devices in one transaction. */
  saveLive(updates: LiveUpdate[]): void {
    if (updates.length === 0) return;
    const statement = this.db.prepare(
      `UPDATE device_status SET last_seen = @lastSeen, state_json = @state, heartbeat_json = @heartbeat,
       heartbeat_at = @heartbeatAt WHERE device_id = @deviceId`,
    );
    this.db.transaction(() => {
      for (const u of updates) {
        statement.run({
          deviceId: u.deviceId,
          lastSeen: u.lastSeen,
          state: u.state === null ? null : JSON.stringify(u.state),
          heartbeat: u.heartbeat === null ? null : JSON.stringify(u.heartbeat),
          heartbeatAt: u.heartbeatAt,
        });
      }
    })();
  }

  /** Periods overlapping [from, to], newest first. */
  periods(
    deviceId: string,
    range: { from: number; to: number },
    page: { limit: number; offset: number },
  ): { items: PresencePeriod[]; total: number } {
    const where = 'device_id = @deviceId AND started_at <= @to AND (ended_at IS NULL OR ended_at >= @from)';
    const params = { deviceId, ...range, ...page };
    const rows = this.db
      .prepare(
        `SELECT * FROM presence_periods WHERE ${where} ORDER BY started_at DESC, id DESC LIMIT @limit OFFSET @offset`,
      )
      .all(params) as {
      online: number;
      started_at: number;
      start_reason: string;
      ended_at: number | null;
      end_reason: string | null;
    }[];
    const { n } = this.db
      .prepare(`SELECT COUNT(*) AS n FROM presence_periods WHERE ${where}`)
      .get(params) as {
      n: number;
    };
    return {
      total: n,
      items: rows.map((r) => ({
        online: r.online === 1,
        startedAt: r.started_at,
        startReason: r.start_reason,
        endedAt: r.ended_at,
        endReason: r.end_reason,
      })),
    };
  }
}
