/** Shapes of the HTTP API's answers the console reads (from the platform's OpenAPI document). */

export type Role = 'admin' | 'operator' | 'police' | 'technician';
export type Level = 'normal' | 'priority' | 'emergency';

export interface User {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  communeId: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

export interface Me {
  user: User;
  via: 'session' | 'token';
  roles: Role[];
  sessionExpiresAt: string | null;
}

export interface ConsoleSettings {
  tileUrl: string | null;
  tileAttribution: string | null;
  timeZone: string;
  demo: boolean;
  version: string;
}

export interface Commune {
  id: string;
  name: string;
  district: string | null;
  province: string | null;
  timezone: string;
}

export interface Village {
  id: string;
  communeId: string;
  name: string;
  namePlaceholder: boolean;
}

export interface ClusterStatus {
  online: boolean;
  since: string | null;
  reason: string | null;
  lastSeen: string | null;
  signalDbm: number | null;
  net: string | null;
  volume: number | null;
  power: boolean | null;
  playing: boolean | null;
  tempC: number | null;
  supplyV: number | null;
  uptimeS: number | null;
  fw: string | null;
  speakersOk: number | null;
  speakersFaulty: number | null;
}

export interface Cluster {
  id: string;
  villageId: string;
  communeId: string;
  name: string;
  address: string | null;
  location: { lat: number; lon: number };
  heartbeatTimeoutS: number | null;
  speakers: { idx: number; label: string | null; ok: boolean | null; fault: string | null }[];
  credential: { issued: boolean; issuedAt: string | null };
  status: ClusterStatus;
  /** On a single cluster's answer only. */
  rejectedMessages?: Record<string, number>;
  lastRejection?: { reason: string; detail: string | null; at: string } | null;
}

export interface Group {
  id: string;
  communeId: string;
  name: string;
  clusterIds: string[];
}

export type CameraState = 'unknown' | 'ok' | 'degraded' | 'offline' | 'auth_failed';

export interface Camera {
  id: string;
  communeId: string;
  villageId: string | null;
  name: string;
  address: string | null;
  location: { lat: number; lon: number } | null;
  xaddr: string;
  username: string;
  endpointUrn: string | null;
  health: {
    state: CameraState;
    since: string;
    reason: string;
    detail: string;
    lastPollAt: string | null;
    lastOkAt: string | null;
    snapshotAt: string | null;
  };
  uptime: { last24hPct: number | null; last7dPct: number | null };
}

/** A camera that answered a WS-Discovery probe. */
export interface DiscoveredCamera {
  endpointUrn: string;
  xaddr: string;
  name: string | null;
  hardware: string | null;
  location: string | null;
  from: string;
  onboardedAs: string | null;
}

/** What a password change or reset did besides changing the password. */
export interface PasswordChanged {
  tokensRevoked: number;
}

export interface CameraIncident {
  id: number;
  kind: 'offline' | 'auth_failed';
  startedAt: string;
  endedAt: string | null;
  durationS: number | null;
  reason: string;
  detail: string;
}

export interface Media {
  id: string;
  name: string;
  mime: string;
  sizeBytes: number;
  durationS: number | null;
  createdAt: string;
}

export type Content = { kind: 'media'; mediaId: string } | { kind: 'stream'; url: string };

export interface Targets {
  communeIds?: string[];
  villageIds?: string[];
  clusterIds?: string[];
  groupIds?: string[];
}

export interface Schedule {
  id: string;
  name: string;
  level: Level;
  content: Content;
  volume: number | null;
  repeat: number;
  timezone: string;
  start: string;
  rrule: string | null;
  exdates: string[];
  durationS: number | null;
  targets: Required<Targets>;
  enabled: boolean;
  clusterIds: string[];
  next: { start: string; end: string } | null;
}

export interface Clash {
  scheduleId: string;
  scheduleName: string;
  level: Level;
  clusterIds: string[];
  occurrence: { start: string; end: string };
  other: { start: string; end: string };
}

export interface ScheduleResult {
  schedule: Schedule;
  preempts: Clash[];
  preemptedBy: Clash[];
}

export interface Occurrence {
  scheduleId: string;
  name: string;
  level: Level;
  start: string;
  end: string;
  clusterIds: string[];
  preempts: Clash[];
  preemptedBy: Clash[];
  clashes: Clash[];
}

export type DeliveryState =
  | 'scheduled'
  | 'sent'
  | 'accepted'
  | 'playing'
  | 'done'
  | 'failed'
  | 'missed'
  | 'pre-empted'
  | 'expired'
  | 'stopped';

export interface Delivery {
  clusterId: string;
  clusterName: string;
  villageId: string;
  state: DeliveryState;
  reason: string | null;
  attempts: number;
  sentAt: string | null;
  acceptedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  playedS: number | null;
  speakers: { idx: number; ok: boolean | null; fault: string | null }[] | null;
}

export interface Broadcast {
  id: string;
  kind: 'scheduled' | 'emergency' | 'live';
  scheduleId: string | null;
  name: string;
  level: Level;
  volume: number | null;
  repeat: number;
  startAt: string;
  endAt: string | null;
  status: 'active' | 'finished' | 'stopped';
  createdBy: string | null;
  deliveries: Delivery[];
}

export interface Availability {
  uptimePct: number | null;
  onlineS: number;
  offlineS: number;
  unknownS: number;
}

export interface AvailabilityReport {
  from: string;
  to: string;
  overall: Availability & { devices: number };
  villages: (Availability & { id: string; name: string; devices: number })[];
  devices: { items: (Availability & { id: string; name: string; villageId: string })[]; total: number };
}

export interface CommandRecord {
  id: string;
  deviceId: string;
  type: string;
  status: 'sent' | 'accepted' | 'rejected' | 'done' | 'failed' | 'expired';
  error: string | null;
  issuedAt: string;
  updatedAt: string;
}

export interface HistoryAnswer {
  deviceId: string;
  field: string;
  points: { at: string; value: number }[];
}

export interface AuditEntry {
  id: number;
  at: string;
  requestId: string | null;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  actorRoles: string[];
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: 'success' | 'failure' | 'denied';
  status: number | null;
  address: string | null;
}
