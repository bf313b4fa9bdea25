/*
 * Alarms (their rules, village outages, maintenance windows) and webhooks (their deliveries and
 * every attempt) in PostgreSQL, as SQLite's 0017 and 0021 made them. Foreign keys to communes and
 * provinces stay: the registry is in PostgreSQL too.
 */
export const alarmsAndWebhooksMigration = /* sql */ `
CREATE TABLE alarm_rules (
  commune_id TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  enabled    SMALLINT NOT NULL CHECK (enabled IN (0, 1)),
  severity   TEXT NOT NULL,
  threshold  DOUBLE PRECISION,
  for_s      INTEGER NOT NULL,
  updated_by TEXT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (commune_id, kind)
);

-- No foreign keys, as in SQLite: an alarm outlives its device, and incident_id names an outage
-- that may be written after it.
CREATE TABLE alarms (
  id              TEXT PRIMARY KEY,
  kind            TEXT NOT NULL,
  severity        TEXT NOT NULL,
  state           TEXT NOT NULL,
  device_id       TEXT NOT NULL,
  device_kind     TEXT NOT NULL,
  commune_id      TEXT NOT NULL,
  village_id      TEXT,
  detail          TEXT NOT NULL,
  incident_id     TEXT,
  held            SMALLINT NOT NULL DEFAULT 0 CHECK (held IN (0, 1)),
  opened_at       BIGINT NOT NULL,
  acknowledged_at BIGINT,
  acknowledged_by TEXT,
  note            TEXT,
  cleared_at      BIGINT
);
CREATE INDEX alarms_active ON alarms (state, commune_id) WHERE state <> 'cleared';
CREATE INDEX alarms_device ON alarms (device_id, opened_at);
CREATE INDEX alarms_commune ON alarms (commune_id, opened_at);

CREATE TABLE incidents (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  commune_id  TEXT NOT NULL,
  village_id  TEXT NOT NULL,
  opened_at   BIGINT NOT NULL,
  cleared_at  BIGINT,
  devices     TEXT NOT NULL
);
CREATE INDEX incidents_commune ON incidents (commune_id, opened_at);

CREATE TABLE maintenance_windows (
  id          TEXT PRIMARY KEY,
  commune_id  TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,
  village_id  TEXT,
  device_ids  TEXT NOT NULL,
  starts_at   BIGINT NOT NULL,
  ends_at     BIGINT NOT NULL,
  reason      TEXT NOT NULL,
  created_by  TEXT,
  created_at  BIGINT NOT NULL
);
CREATE INDEX maintenance_windows_commune ON maintenance_windows (commune_id, ends_at);

CREATE TABLE webhooks (
  id                TEXT PRIMARY KEY,
  url               TEXT NOT NULL,
  events            TEXT NOT NULL,
  description       TEXT,
  province_id       TEXT REFERENCES provinces(id) ON DELETE RESTRICT,
  secret            TEXT NOT NULL,
  previous_secret   TEXT,
  previous_until    BIGINT,
  created_by        TEXT,
  created_at        BIGINT NOT NULL,
  secret_rotated_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
  id              TEXT PRIMARY KEY,
  webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  body            TEXT NOT NULL,
  types           TEXT NOT NULL,
  event_count     INTEGER NOT NULL,
  state           TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  created_at      BIGINT NOT NULL,
  finished_at     BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  n           INTEGER NOT NULL,
  at          BIGINT NOT NULL,
  status      INTEGER,
  error       TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, n)
);
`;
