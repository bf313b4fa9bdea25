/**
 * Firmware images and their staged rollouts, with each cluster's progress (rows, so a rollout
 * carries on across a platform restart); readiness drills with a verdict per cluster, and each
 * commune's weekly drill.
 */
export default /* sql */ `
CREATE TABLE firmware_images (
  id          TEXT PRIMARY KEY,
  version     TEXT NOT NULL UNIQUE,
  filename    TEXT NOT NULL,
  size_bytes  INTEGER NOT NULL,
  sha256      TEXT NOT NULL,
  notes       TEXT,
  created_by  TEXT,
  created_at  INTEGER NOT NULL
);

CREATE TABLE firmware_rollouts (
  id                 TEXT PRIMARY KEY,
  image_id           TEXT NOT NULL REFERENCES firmware_images(id),
  version            TEXT NOT NULL,
  selection          TEXT NOT NULL,           -- JSON {targets} or {communeId, percentage}
  commune_ids        TEXT NOT NULL,           -- JSON array: the communes of its clusters
  batch_size         INTEGER NOT NULL,
  failure_threshold  REAL NOT NULL,           -- percent of its clusters
  cluster_timeout_s  INTEGER NOT NULL,
  state              TEXT NOT NULL,           -- running, halted, completed
  halt_reason        TEXT,
  created_by         TEXT,
  created_at         INTEGER NOT NULL,
  finished_at        INTEGER
);
CREATE INDEX firmware_rollouts_created ON firmware_rollouts (created_at);

CREATE TABLE firmware_rollout_clusters (
  rollout_id        TEXT NOT NULL REFERENCES firmware_rollouts(id) ON DELETE CASCADE,
  cluster_id        TEXT NOT NULL,
  position          INTEGER NOT NULL,
  batch             INTEGER NOT NULL,
  commune_id        TEXT NOT NULL,
  village_id        TEXT NOT NULL,
  from_version      TEXT,
  reported_version  TEXT,
  stage             TEXT NOT NULL,
  outcome           TEXT NOT NULL,            -- not-started, in-progress, updated, failed, rolled-back, skipped
  error             TEXT,
  command_id        TEXT,
  command           TEXT,                     -- JSON of the firmware command, resent after a restart
  started_at        INTEGER,
  deadline_at       INTEGER,
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (rollout_id, cluster_id)
);
CREATE INDEX firmware_rollout_clusters_open ON firmware_rollout_clusters (outcome) WHERE outcome = 'in-progress';

CREATE TABLE readiness_schedules (
  commune_id     TEXT PRIMARY KEY REFERENCES communes(id) ON DELETE CASCADE,
  enabled        INTEGER NOT NULL,
  weekday        INTEGER NOT NULL,            -- ISO 8601: 1 Monday … 7 Sunday
  hour           INTEGER NOT NULL,
  minute         INTEGER NOT NULL,
  tone           INTEGER NOT NULL,
  last_run_at    INTEGER,
  last_drill_id  TEXT,
  updated_by     TEXT,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE readiness_drills (
  id           TEXT PRIMARY KEY,
  origin       TEXT NOT NULL,                 -- manual, schedule
  tone         INTEGER NOT NULL,
  targets      TEXT NOT NULL,
  commune_ids  TEXT NOT NULL,                 -- JSON array: the communes of its clusters
  state        TEXT NOT NULL,                 -- running, finished
  started_at   INTEGER NOT NULL,
  deadline_at  INTEGER NOT NULL,
  finished_at  INTEGER,
  created_by   TEXT
);
CREATE INDEX readiness_drills_started ON readiness_drills (started_at);

CREATE TABLE readiness_results (
  drill_id    TEXT NOT NULL REFERENCES readiness_drills(id) ON DELETE CASCADE,
  cluster_id  TEXT NOT NULL,
  position    INTEGER NOT NULL,
  commune_id  TEXT NOT NULL,
  village_id  TEXT NOT NULL,
  command_id  TEXT,
  outcome     TEXT NOT NULL,                  -- testing, ready, not-ready, not-tested
  reasons     TEXT NOT NULL,                  -- JSON array of strings
  checks      TEXT,                           -- JSON: the selftest result the cluster acked
  tested_at   INTEGER,
  PRIMARY KEY (drill_id, cluster_id)
);
CREATE INDEX readiness_results_testing ON readiness_results (outcome) WHERE outcome = 'testing';
`;
