import type { AckStatus, Command } from '../../devices/index.js';
import type { Db } from '../storage/database.js';

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

/** Commands sent to devices and what the devices answered. */
export class CommandStore {
  constructor(private readonly db: Db) {}

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
    // Most acks answer broadcast plays, which are not console commands: a read settles those
    // without opening a write transaction (thousands of them follow an emergency).
    const known = this.db
      .prepare("SELECT 1 FROM device_commands WHERE id = ? AND status IN ('sent', 'accepted')")
      .get(id);
    if (known === undefined) return false;
    const result = this.db
      .prepare(
        `UPDATE device_commands SET status = ?, error = ?, updated_at = ?
         WHERE id = ? AND device_id = ? AND status IN ('sent', 'accepted')
           AND NOT (status = 'accepted' AND ? = 'accepted')`,
      )
      .run(status, error, now, id, deviceId, status);
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
