/** Media library, cluster groups, schedules, broadcasts and their per-cluster deliveries. */
export default /* sql */ `
CREATE TABLE media (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  mime        TEXT NOT NULL,
  ext         TEXT NOT NULL,
  size_bytes  INTEGER NOT NULL,
  sha256      TEXT NOT NULL,
  duration_s  REAL NOT NULL,
  created_at  INTEGER NOT NULL,
  created_by  TEXT
);

CREATE TABLE cluster_groups (
  id          TEXT PRIMARY KEY,
  commune_id  TEXT NOT NULL REFERENCES communes(id) ON DELETE RESTRICT,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (commune_id, name)
);

CREATE TABLE cluster_group_members (
  group_id   TEXT NOT NULL REFERENCES cluster_groups(id) ON DELETE CASCADE,
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, cluster_id)
);

CREATE TABLE schedules (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  level        TEXT NOT NULL,                 -- normal, priority, emergency (Circular 39)
  content      TEXT NOT NULL,                 -- JSON: {kind:'media', mediaId} | {kind:'stream', url}
  volume       INTEGER,
  repeat       INTEGER NOT NULL DEFAULT 1,
  timezone     TEXT NOT NULL,
  starts_local TEXT NOT NULL,                 -- wall time of the first occurrence, YYYY-MM-DDTHH:mm:ss
  duration_s   REAL NOT NULL,                 -- length of one occurrence
  rrule        TEXT,                          -- RFC 5545 RRULE value, null for a one-off
  exdates      TEXT NOT NULL DEFAULT '[]',    -- JSON array of excluded wall times
  targets      TEXT NOT NULL,                 -- JSON: {communeIds, villageIds, clusterIds, groupIds}
  enabled      INTEGER NOT NULL DEFAULT 1,
  created_by   TEXT,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);

CREATE TABLE broadcasts (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,                -- scheduled, emergency, live
  schedule_id   TEXT REFERENCES schedules(id) ON DELETE SET NULL,
  occurrence_at INTEGER,                      -- the schedule occurrence it plays (UTC ms)
  name          TEXT NOT NULL,
  level         TEXT NOT NULL,
  content       TEXT NOT NULL,
  volume        INTEGER,
  repeat        INTEGER NOT NULL DEFAULT 1,
  start_at      INTEGER NOT NULL,
  end_at        INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  status        TEXT NOT NULL,                -- active, finished, stopped
  created_by    TEXT,
  created_at    INTEGER NOT NULL,
  stopped_at    INTEGER,
  stopped_by    TEXT,
  UNIQUE (schedule_id, occurrence_at)
);
CREATE INDEX broadcasts_start ON broadcasts (start_at);

CREATE TABLE deliveries (
  broadcast_id    TEXT NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  cluster_id      TEXT NOT NULL,
  command_id      TEXT NOT NULL UNIQUE,
  state           TEXT NOT NULL,              -- scheduled, sent, accepted, playing, done, failed, missed, pre-empted, expired, stopped
  reason          TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  sent_at         INTEGER,
  accepted_at     INTEGER,
  started_at      INTEGER,
  finished_at     INTEGER,
  speakers        TEXT,                       -- JSON per-speaker health while it played
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (broadcast_id, cluster_id)
);
CREATE INDEX deliveries_open ON deliveries (state, next_attempt_at);
`;
