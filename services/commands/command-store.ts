import type { AckStatus, Command } from '../../devices/index.js';
import type { Db } from '../storage/database.js';
import type { ShippedTable } from '../storage/sql/shipped-log.js';

export type CommandStatus = 'sent' | AckStatus | 'expired';
export const FINAL_STATUSES: readonly CommandStatus[] = ['rejected', 'done', 'failed', 'expired'];

export interface CommandRecord {
  id: string;
  deviceId: string;
  type: Command['type'];
  command: Command;
  issuedAt: number;
  expiresAt: number;
  status: CommandStatus;
  error: string | null;
  updatedAt: number;
}

interface Row {
  id: string;
  device_id: string;
  type: string;
  payload: string;
  issued_at: number;
  expires_at: number;
  status: string;
  error: string | null;
  updated_at: number;
}

/**
 * Commands sent to devices and what the devices answered. The ids still waiting for an answer are
 * also kept in memory: most acks answer broadcast plays, which are not these commands, and an
 * emergency to thousands of clusters must not cost a database read per ack to learn that.
 */
/**
 * Device commands as shipped to PostgreSQL with DATABASE_URL (shipped-log.ts): an acknowledgement
 * reaching another instance's broker finds the command there.
 */
export const COMMAND_LOG_TABLES: readonly ShippedTable[] = [
  {
    name: 'device_commands',
    key: ['id'],
    columns: [
      'id',
      'device_id',
      'type',
      'payload',
      'issued_at',
      'expires_at',
      'status',
      'error',
      'updated_at',
    ],
    version: 'updated_at',
  },
];

export class CommandStore {
  private readonly open = new Set<string>();

  constructor(private readonly db: Db) {
    // With several instances on one database, each receives every ack over the shared bus, so
    // the instance that sent a command (and holds it here) is the one that records its answer.
    const rows = db
      .prepare("SELECT id FROM device_commands WHERE status IN ('sent', 'accepted')")
      .pluck()
      .all() as string[];
    for (const id of rows) this.open.add(id);
  }

  insert(deviceId: string, command: Command, now: number): void {
    this.db
      .prepare(
        `INSERT INTO device_commands (id, device_id, type, payload, issued_at, expires_at, status, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'sent', ?)`,
      )
      .run(
        command.id,
        deviceId,
        command.type,
        JSON.stringify(command),
        command.issuedAt,
        command.expiresAt,
        now,
      );
    this.open.add(command.id);
  }

  get(id: string, now: number): CommandRecord | null {
    const row = this.db.prepare('SELECT * FROM device_commands WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row, now) : null;
  }

  /**
   * Applies an ack. Final statuses never change again: a device re-sending its ack for a
   * de-duplicated command, or a late `accepted` after `done`, leaves the record as it is.
   */
  applyAck(id: string, deviceId: string, status: AckStatus, error: string | null, now: number): boolean {
    if (!this.open.has(id)) return false;
    const result = this.db
      .prepare(
        `UPDATE device_commands SET status = ?, error = ?, updated_at = ?
         WHERE id = ? AND device_id = ? AND status IN ('sent', 'accepted')
           AND NOT (status = 'accepted' AND ? = 'accepted')`,
      )
      .run(status, error, now, id, deviceId, status);
    if (result.changes > 0 && FINAL_STATUSES.includes(status)) this.open.delete(id);
    return result.changes > 0;
  }

  list(
    deviceId: string,
    page: { limit: number; offset: number },
    now: number,
  ): { items: CommandRecord[]; total: number } {
    const rows = this.db
      .prepare(
        'SELECT * FROM device_commands WHERE device_id = ? ORDER BY issued_at DESC, id LIMIT ? OFFSET ?',
      )
      .all(deviceId, page.limit, page.offset) as Row[];
    const { n } = this.db
      .prepare('SELECT COUNT(*) AS n FROM device_commands WHERE device_id = ?')
      .get(deviceId) as {
      n: number;
    };
    return { items: rows.map((r) => toRecord(r, now)), total: n };
  }
}

function toRecord(row: Row, now: number): CommandRecord {
  const open = row.status === 'sent' || row.status === 'accepted';
  return {
    id: row.id,
    deviceId: row.device_id,
    type: row.type as Command['type'],
    command: JSON.parse(row.payload) as Command,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    // Never answered before it lapsed: the device will refuse it now, so report it as expired.
    status: open && now > row.expires_at ? 'expired' : (row.status as CommandStatus),
    error: row.error,
    updatedAt: row.updated_at,
  };
}
