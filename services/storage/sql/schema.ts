import type { Generated } from 'kysely';

/*
 * The tables the query layer serves, as both engines hold them. Times are milliseconds since the
 * epoch (INTEGER in SQLite, BIGINT in PostgreSQL, read back as numbers); flags are 0/1; role lists
 * and audit summaries are JSON text, so one row shape fits both engines.
 */

export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  /** JSON array of role names. */
  roles: string;
  /** The single-commune column older versions read; user_communes is the list. */
  commune_id: string | null;
  province_id: string | null;
  disabled: number;
  created_at: number;
  updated_at: number;
  password_changed_at: number;
  last_login_at: number | null;
}

export interface UserCommunesTable {
  user_id: string;
  commune_id: string;
}

/** Only hashes of session ids are stored: a copy of the database logs nobody in. */
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  address: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  roles: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  request_id: string | null;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  actor_roles: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: string | null;
  after: string | null;
  outcome: string;
  status: number | null;
  address: string | null;
  detail: string | null;
}

/** Every table reached through the query layer; a converted store adds its tables here. */
export interface StateSchema {
  users: UsersTable;
  user_communes: UserCommunesTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
}
