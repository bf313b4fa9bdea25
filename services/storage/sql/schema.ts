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

export interface MediaTable {
  id: string;
  name: string;
  mime: string;
  ext: string;
  size_bytes: number;
  sha256: string;
  duration_s: number;
  created_at: number;
  created_by: string | null;
  commune_id: string | null;
}

/** A media file's bytes in PostgreSQL, in order by seq (not in SQLite, where the file is on disk). */
export interface MediaChunksTable {
  media_id: string;
  seq: number;
  data: Buffer;
}

export interface SpeechCacheTable {
  key: string;
  media_id: string;
  created_at: number;
}

export interface ClusterGroupsTable {
  id: string;
  commune_id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface ClusterGroupMembersTable {
  group_id: string;
  cluster_id: string;
}

/** JSON in content, lunar, exdates and targets, as in SQLite. */
export interface SchedulesTable {
  id: string;
  name: string;
  level: string;
  content: string;
  volume: number | null;
  repeat: number;
  timezone: string;
  starts_local: string;
  duration_s: number;
  rrule: string | null;
  exdates: string;
  targets: string;
  enabled: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  lunar: string | null;
  approval_state: string;
  approved_by: string | null;
  bulletin_id: string | null;
}

/** Steps of content approval; in PostgreSQL only schedules' (subject_type 'schedule'). */
export interface ApprovalStepsTable {
  id: Generated<number>;
  subject_type: string;
  subject_id: string;
  step: string;
  actor: string;
  comment: string | null;
  at: number;
}

/** A station a commune relays; fallback is JSON ({kind: station|media|stop, …}). */
export interface StationsTable {
  id: string;
  name: string;
  url: string;
  kind: string;
  fallback: string;
  health: string;
  health_detail: string | null;
  checked_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A commune's notification settings: quiet hours (HH:MM local) and digest window. */
export interface NotificationSettingsTable {
  commune_id: string;
  quiet_start: string | null;
  quiet_end: string | null;
  critical_bypasses_quiet: number;
  digest_window_min: number;
  updated_by: string | null;
  updated_at: number;
}

/** A recipient of notifications; village_head with village_id for a village's head. */
export interface NotificationContactsTable {
  id: string;
  commune_id: string;
  name: string;
  email: string | null;
  telegram_chat_id: string | null;
  zalo_user_id: string | null;
  village_head: number;
  village_id: string | null;
  quiet_start: string | null;
  quiet_end: string | null;
  enabled: number;
  created_at: number;
  updated_at: number;
}

/** A routing rule; kinds, contact_ids and channels are JSON arrays. */
export interface NotificationRulesTable {
  id: string;
  commune_id: string;
  name: string;
  kinds: string;
  min_severity: string;
  contact_ids: string;
  village_heads: number;
  channels: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

/** What each shared key file is, without the key: instances on one PostgreSQL must agree. */
export interface KeyFingerprintsTable {
  name: string;
  fingerprint: string;
  created_at: number;
}

/** A bulletin from the province; content is JSON (Content). */
export interface ProvincialBulletinsTable {
  id: string;
  province_id: string;
  name: string;
  level: string;
  content: string;
  volume: number | null;
  start_at: number;
  duration_s: number;
  expires_at: number;
  created_by: string | null;
  created_at: number;
}

/** A commune's receipt of a bulletin; clash is JSON (the commune items it clashes with). */
export interface BulletinReceiptsTable {
  bulletin_id: string;
  commune_id: string;
  state: string;
  schedule_id: string | null;
  broadcast_id: string | null;
  clash: string;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
  updated_at: number;
}

/** Volume and power on a calendar, with the last run as JSON. */
export interface ControlSchedulesTable {
  id: string;
  name: string;
  /** JSON Targets. */
  targets: string;
  /** JSON {type: volume, level} | {type: power, on}. */
  command: string;
  starts_local: string;
  rrule: string | null;
  timezone: string;
  enabled: number;
  /** JSON {at, done, offline, failed}. */
  last_run: string | null;
  created_by: string | null;
  created_at: number;
}

/** The stores copied from PostgreSQL whose tables an instance's SQLite file has filled once. */
export interface CopyFillsTable {
  channel: string;
  filled_at: number;
}

/** Every table reached through the query layer; a converted store adds its tables here. */
/** A commune's own rule for a kind of alarm (the defaults are in code). */
export interface AlarmRulesTable {
  commune_id: string;
  kind: string;
  enabled: number;
  severity: string;
  threshold: number | null;
  for_s: number;
  updated_by: string | null;
  updated_at: number;
}

export interface AlarmsTable {
  id: string;
  kind: string;
  severity: string;
  state: string;
  device_id: string;
  device_kind: string;
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

/** A village outage; `devices` is JSON. */
export interface IncidentsTable {
  id: string;
  kind: string;
  commune_id: string;
  village_id: string;
  opened_at: number;
  cleared_at: number | null;
  devices: string;
}

export interface MaintenanceWindowsTable {
  id: string;
  commune_id: string;
  village_id: string | null;
  device_ids: string;
  starts_at: number;
  ends_at: number;
  reason: string;
  created_by: string | null;
  created_at: number;
}

export interface WebhooksTable {
  id: string;
  url: string;
  events: string;
  description: string | null;
  province_id: string | null;
  secret: string;
  previous_secret: string | null;
  previous_until: number | null;
  created_by: string | null;
  created_at: number;
  secret_rotated_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  body: string;
  types: string;
  event_count: number;
  state: string;
  attempts: number;
  next_attempt_at: number | null;
  created_at: number;
  finished_at: number | null;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  n: number;
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

/** A firmware image; its file is in firmware_chunks (with PostgreSQL) and DATA_DIR/firmware. */
export interface FirmwareImagesTable {
  id: string;
  version: string;
  filename: string;
  size_bytes: number;
  sha256: string;
  notes: string | null;
  created_by: string | null;
  created_at: number;
}

export interface FirmwareChunksTable {
  image_id: string;
  seq: number;
  data: Buffer;
}

/** A staged rollout; selection and commune_ids are JSON. */
export interface FirmwareRolloutsTable {
  id: string;
  image_id: string;
  version: string;
  selection: string;
  commune_ids: string;
  batch_size: number;
  failure_threshold: number;
  cluster_timeout_s: number;
  state: string;
  halt_reason: string | null;
  created_by: string | null;
  created_at: number;
  finished_at: number | null;
}

/** One cluster's progress in a rollout; command is the JSON of the firmware command. */
export interface FirmwareRolloutClustersTable {
  rollout_id: string;
  cluster_id: string;
  position: number;
  batch: number;
  commune_id: string;
  village_id: string;
  from_version: string | null;
  reported_version: string | null;
  stage: string;
  outcome: string;
  error: string | null;
  command_id: string | null;
  command: string | null;
  started_at: number | null;
  deadline_at: number | null;
  updated_at: number;
}

/** A commune's weekly readiness drill. */
export interface ReadinessSchedulesTable {
  commune_id: string;
  enabled: number;
  weekday: number;
  hour: number;
  minute: number;
  tone: number;
  last_run_at: number | null;
  last_drill_id: string | null;
  updated_by: string | null;
  updated_at: number;
}

/** A readiness drill; targets and commune_ids are JSON. */
export interface ReadinessDrillsTable {
  id: string;
  origin: string;
  tone: number;
  targets: string;
  commune_ids: string;
  state: string;
  started_at: number;
  deadline_at: number;
  finished_at: number | null;
  created_by: string | null;
}

/** One cluster's verdict in a drill; reasons and checks are JSON. */
export interface ReadinessResultsTable {
  drill_id: string;
  cluster_id: string;
  position: number;
  commune_id: string;
  village_id: string;
  command_id: string | null;
  outcome: string;
  reasons: string;
  checks: string | null;
  tested_at: number | null;
}

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
  key_fingerprints: KeyFingerprintsTable;
  copy_fills: CopyFillsTable;
  control_schedules: ControlSchedulesTable;
  cluster_groups: ClusterGroupsTable;
  cluster_group_members: ClusterGroupMembersTable;
  schedules: SchedulesTable;
  approval_steps: ApprovalStepsTable;
  media: MediaTable;
  media_chunks: MediaChunksTable;
  speech_cache: SpeechCacheTable;
  stations: StationsTable;
  notification_settings: NotificationSettingsTable;
  notification_contacts: NotificationContactsTable;
  notification_rules: NotificationRulesTable;
  firmware_images: FirmwareImagesTable;
  firmware_chunks: FirmwareChunksTable;
  firmware_rollouts: FirmwareRolloutsTable;
  firmware_rollout_clusters: FirmwareRolloutClustersTable;
  readiness_schedules: ReadinessSchedulesTable;
  readiness_drills: ReadinessDrillsTable;
  readiness_results: ReadinessResultsTable;
  provincial_bulletins: ProvincialBulletinsTable;
  bulletin_receipts: BulletinReceiptsTable;
  alarm_rules: AlarmRulesTable;
  alarms: AlarmsTable;
  incidents: IncidentsTable;
  maintenance_windows: MaintenanceWindowsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
