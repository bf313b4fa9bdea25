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

/** An onboarded camera (one channel of a device); passwords are sealed, bound to the id. */
export interface CamerasTable {
  id: string;
  commune_id: string;
  village_id: string | null;
  name: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
  xaddr: string;
  username: string;
  password_sealed: string;
  snapshot_username: string | null;
  snapshot_password_sealed: string | null;
  endpoint_urn: string | null;
  video_source_token: string | null;
  profile_token: string | null;
  created_at: number;
  updated_at: number;
}

/** A camera's health, with the state machine's debounce state as JSON. */
export interface CameraStatusTable {
  camera_id: string;
  state: string;
  since: number;
  reason: string;
  detail: string;
  machine_json: string;
  last_poll_at: number | null;
  last_ok_at: number | null;
  signals_json: string | null;
}

export interface CameraIncidentsTable {
  id: Generated<number>;
  camera_id: string;
  kind: 'offline' | 'auth_failed';
  started_at: number;
  ended_at: number | null;
  reason: string;
  detail: string;
}

export interface CameraTrustedCertificatesTable {
  camera_id: string;
  origin: string;
  fingerprint: string;
  trusted_at: number;
}

export interface CameraLoginBackoffTable {
  device: string;
  state_json: string;
  updated_at: number;
}

export interface CameraEventsTable {
  id: Generated<number>;
  camera_id: string;
  kind: string;
  topic: string;
  started_at: number;
  ended_at: number | null;
}

/** The 34 provinces since 1 July 2025 (both engines' migrations insert them). */
export interface ProvincesTable {
  id: string;
  code: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface CommunesTable {
  id: string;
  code: string | null;
  province_id: string | null;
  name: string;
  /** Before 1 July 2025's reform; kept for records that still name one. */
  district: string | null;
  /** The province's name as text, for communes without a province_id. */
  province: string | null;
  timezone: string;
  approval_required: number;
  created_at: number;
  updated_at: number;
}

export interface VillagesTable {
  id: string;
  commune_id: string;
  name: string;
  name_is_placeholder: number;
  created_at: number;
  updated_at: number;
}

export interface ClustersTable {
  id: string;
  village_id: string;
  name: string;
  address: string | null;
  lat: number;
  lon: number;
  heartbeat_timeout_s: number | null;
  created_at: number;
  updated_at: number;
}

export interface SpeakersTable {
  cluster_id: string;
  idx: number;
  label: string;
}

/** Only hashes of device secrets are stored. */
export interface DeviceCredentialsTable {
  device_id: string;
  secret_hash: string;
  issued_at: number;
  rotations: number;
}

/** Every table reached through the query layer; a converted store adds its tables here. */
export interface StateSchema {
  users: UsersTable;
  user_communes: UserCommunesTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  cameras: CamerasTable;
  camera_status: CameraStatusTable;
  camera_incidents: CameraIncidentsTable;
  camera_trusted_certificates: CameraTrustedCertificatesTable;
  camera_login_backoff: CameraLoginBackoffTable;
  camera_events: CameraEventsTable;
  provinces: ProvincesTable;
  communes: CommunesTable;
  villages: VillagesTable;
  clusters: ClustersTable;
  speakers: SpeakersTable;
  device_credentials: DeviceCredentialsTable;
}
