/**
 * The broadcast log (SQLite 0003, 0004, 0008, 0010, 0011, 0014, 0016, 0018), device commands
 * (0001) and the journal the instances ship their changes through (shipped-log.ts). Each instance
 * writes its own SQLite file and ships what it changed here, where the other instances copy it
 * from: `log_changes` numbers every change shipped, in the order PostgreSQL applied them.
 */
export const broadcastLogMigration = /* sql */ `
CREATE TABLE broadcasts (
  id                 TEXT PRIMARY KEY,
  kind               TEXT NOT NULL,
  schedule_id        TEXT REFERENCES schedules(id) ON DELETE SET NULL,
  occurrence_at      BIGINT,
  name               TEXT NOT NULL,
  level              TEXT NOT NULL,
  content            TEXT NOT NULL,
  volume             INTEGER,
  repeat             INTEGER NOT NULL DEFAULT 1,
  start_at           BIGINT NOT NULL,
  end_at             BIGINT NOT NULL,
  expires_at         BIGINT NOT NULL,
  status             TEXT NOT NULL,
  created_by         TEXT,
  created_at         BIGINT NOT NULL,
  stopped_at         BIGINT,
  stopped_by         TEXT,
  recording_media_id TEXT,
  approved_by        TEXT,
  review_state       TEXT,
  reviewed_by        TEXT,
  bulletin_id        TEXT,
  UNIQUE (schedule_id, occurrence_at)
);
CREATE INDEX broadcasts_start ON broadcasts (start_at);

CREATE TABLE deliveries (
  broadcast_id    TEXT NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  cluster_id      TEXT NOT NULL,
  command_id      TEXT NOT NULL UNIQUE,
  state           TEXT NOT NULL,
  reason          TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  sent_at         BIGINT,
  accepted_at     BIGINT,
  started_at      BIGINT,
  finished_at     BIGINT,
  speakers        TEXT,
  updated_at      BIGINT NOT NULL,
  play_attempt    INTEGER NOT NULL DEFAULT 1,
  items           TEXT,
  PRIMARY KEY (broadcast_id, cluster_id)
);

CREATE TABLE broadcast_communes (
  broadcast_id TEXT NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  commune_id   TEXT NOT NULL,
  PRIMARY KEY (commune_id, broadcast_id)
);

CREATE TABLE relay_switches (
  broadcast_id    TEXT NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  at              BIGINT NOT NULL,
  reason          TEXT NOT NULL,
  fallback        TEXT NOT NULL,
  to_broadcast_id TEXT
);
CREATE INDEX relay_switches_broadcast ON relay_switches (broadcast_id, at);

CREATE TABLE service_state (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE device_commands (
  id          TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL,
  type        TEXT NOT NULL,
  payload     TEXT NOT NULL,
  issued_at   BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  status      TEXT NOT NULL,
  error       TEXT,
  updated_at  BIGINT NOT NULL
);

CREATE TABLE log_changes (
  id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel  TEXT NOT NULL,
  origin   TEXT NOT NULL,
  tbl      TEXT NOT NULL,
  op       TEXT NOT NULL,
  key      TEXT NOT NULL,
  at       BIGINT NOT NULL
);
CREATE INDEX log_changes_channel ON log_changes (channel, id);

-- Changes up to through_id were pruned: an instance that copied less copies everything.
CREATE TABLE log_horizon (
  channel     TEXT PRIMARY KEY,
  through_id  BIGINT NOT NULL
);
`;
