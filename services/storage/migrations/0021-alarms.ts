/**
 * Alarms that reach people: per-commune rules (defaults in code), alarms with their history,
 * village outages that group the alarms of devices that dropped together, and maintenance windows.
 */
export default /* sql */ `
CREATE TABLE alarm_rules (
  commune_id TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  enabled    INTEGER NOT NULL,
  severity   TEXT NOT NULL,
  threshold  REAL,
  for_s      INTEGER NOT NULL,
  updated_by TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (commune_id, kind)
);

CREATE TABLE alarms (
  id              TEXT PRIMARY KEY,
  kind            TEXT NOT NULL,
  severity        TEXT NOT NULL,
  state           TEXT NOT NULL,              -- open, acknowledged, cleared
  device_id       TEXT NOT NULL,
  device_kind     TEXT NOT NULL,              -- cluster, camera
  commune_id      TEXT NOT NULL,
  village_id      TEXT,
  detail          TEXT NOT NULL,
  incident_id     TEXT,
  held            INTEGER NOT NULL DEFAULT 0,
  opened_at       INTEGER NOT NULL,
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  note            TEXT,
  cleared_at      INTEGER
);
CREATE INDEX alarms_active ON alarms (state, commune_id) WHERE state <> 'cleared';
CREATE INDEX alarms_device ON alarms (device_id, opened_at);
CREATE INDEX alarms_commune ON alarms (commune_id, opened_at);

CREATE TABLE incidents (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,                  -- village-outage
  commune_id  TEXT NOT NULL,
  village_id  TEXT NOT NULL,
  opened_at   INTEGER NOT NULL,
  cleared_at  INTEGER,
  devices     TEXT NOT NULL                   -- JSON [{deviceId, deviceKind, back}]
);
CREATE INDEX incidents_commune ON incidents (commune_id, opened_at);

CREATE TABLE maintenance_windows (
  id          TEXT PRIMARY KEY,
  commune_id  TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,
  village_id  TEXT,
  device_ids  TEXT NOT NULL,                  -- JSON array; the village's devices when village_id is set
  starts_at   INTEGER NOT NULL,
  ends_at     INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  created_by  TEXT,
  created_at  INTEGER NOT NULL
);
CREATE INDEX maintenance_windows_commune ON maintenance_windows (commune_id, ends_at);
`;
