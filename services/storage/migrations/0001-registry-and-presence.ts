/** Commune → village → cluster → speaker, device credentials, live status and presence history. */
export default /* sql */ `
CREATE TABLE communes (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  district    TEXT,
  province    TEXT,
  timezone    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE villages (
  id                  TEXT PRIMARY KEY,
  commune_id          TEXT NOT NULL REFERENCES communes(id) ON DELETE RESTRICT,
  name                TEXT NOT NULL,
  name_is_placeholder INTEGER NOT NULL DEFAULT 0,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  UNIQUE (commune_id, name)
);

CREATE TABLE clusters (
  id                  TEXT PRIMARY KEY,
  village_id          TEXT NOT NULL REFERENCES villages(id) ON DELETE RESTRICT,
  name                TEXT NOT NULL,
  address             TEXT,
  lat                 REAL NOT NULL,
  lon                 REAL NOT NULL,
  heartbeat_timeout_s INTEGER,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
);
CREATE INDEX clusters_village ON clusters (village_id);

CREATE TABLE speakers (
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  idx        INTEGER NOT NULL CHECK (idx BETWEEN 1 AND 16),
  label      TEXT NOT NULL,
  PRIMARY KEY (cluster_id, idx)
);

CREATE TABLE device_credentials (
  device_id   TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
  secret_hash TEXT NOT NULL,
  issued_at   INTEGER NOT NULL,
  rotations   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE device_status (
  device_id      TEXT PRIMARY KEY,
  online         INTEGER NOT NULL,
  since          INTEGER NOT NULL,
  reason         TEXT NOT NULL,
  last_seen      INTEGER,
  state_json     TEXT,
  heartbeat_json TEXT,
  heartbeat_at   INTEGER
);

-- Kept when a cluster is deleted: the record of what was online when outlives the device.
CREATE TABLE presence_periods (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id    TEXT NOT NULL,
  online       INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  start_reason TEXT NOT NULL,
  ended_at     INTEGER,
  end_reason   TEXT
);
CREATE INDEX presence_periods_device ON presence_periods (device_id, started_at);

CREATE TABLE device_commands (
  id          TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL,
  type        TEXT NOT NULL,
  payload     TEXT NOT NULL,
  issued_at   INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  status      TEXT NOT NULL,
  error       TEXT,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX device_commands_device ON device_commands (device_id, issued_at);
`;
