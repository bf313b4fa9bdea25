/*
 * Firmware images, their rollouts with each cluster's progress, and readiness drills with each
 * cluster's verdict and each commune's weekly drill, in PostgreSQL (SQLite 0023). An image's file
 * is kept as rows of up to 256 KiB like a media file's (postgres-media.ts), so that every instance
 * can serve a cluster the image whichever instance received it.
 */
export const firmwareAndDrillsMigration = /* sql */ `
CREATE TABLE firmware_images (
  id          TEXT PRIMARY KEY,
  version     TEXT NOT NULL UNIQUE,
  filename    TEXT NOT NULL,
  size_bytes  BIGINT NOT NULL,
  sha256      TEXT NOT NULL,
  notes       TEXT,
  created_by  TEXT,
  created_at  BIGINT NOT NULL
);

CREATE TABLE firmware_chunks (
  image_id  TEXT NOT NULL REFERENCES firmware_images(id) ON DELETE CASCADE,
  seq       INTEGER NOT NULL CHECK (seq >= 0),
  data      BYTEA NOT NULL,
  PRIMARY KEY (image_id, seq)
);

CREATE TABLE firmware_rollouts (
  id                 TEXT PRIMARY KEY,
  image_id           TEXT NOT NULL REFERENCES firmware_images(id),
  version            TEXT NOT NULL,
  selection          TEXT NOT NULL,
  commune_ids        TEXT NOT NULL,
  batch_size         INTEGER NOT NULL,
  failure_threshold  DOUBLE PRECISION NOT NULL,
  cluster_timeout_s  INTEGER NOT NULL,
  state              TEXT NOT NULL,
  halt_reason        TEXT,
  created_by         TEXT,
  created_at         BIGINT NOT NULL,
  finished_at        BIGINT
);
CREATE INDEX firmware_rollouts_created ON firmware_rollouts (created_at);

-- cluster_id, commune_id and village_id without foreign keys, as in SQLite: a rollout's record
-- outlives a cluster moved or removed since.
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
  outcome           TEXT NOT NULL,
  error             TEXT,
  command_id        TEXT,
  command           TEXT,
  started_at        BIGINT,
  deadline_at       BIGINT,
  updated_at        BIGINT NOT NULL,
  PRIMARY KEY (rollout_id, cluster_id)
);
CREATE INDEX firmware_rollout_clusters_open ON firmware_rollout_clusters (outcome) WHERE outcome = 'in-progress';

CREATE TABLE readiness_schedules (
  commune_id     TEXT PRIMARY KEY REFERENCES communes(id) ON DELETE CASCADE,
  enabled        SMALLINT NOT NULL,
  weekday        SMALLINT NOT NULL,
  hour           SMALLINT NOT NULL,
  minute         SMALLINT NOT NULL,
  tone           SMALLINT NOT NULL,
  last_run_at    BIGINT,
  last_drill_id  TEXT,
  updated_by     TEXT,
  updated_at     BIGINT NOT NULL
);

CREATE TABLE readiness_drills (
  id           TEXT PRIMARY KEY,
  origin       TEXT NOT NULL,
  tone         SMALLINT NOT NULL,
  targets      TEXT NOT NULL,
  commune_ids  TEXT NOT NULL,
  state        TEXT NOT NULL,
  started_at   BIGINT NOT NULL,
  deadline_at  BIGINT NOT NULL,
  finished_at  BIGINT,
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
  outcome     TEXT NOT NULL,
  reasons     TEXT NOT NULL,
  checks      TEXT,
  tested_at   BIGINT,
  PRIMARY KEY (drill_id, cluster_id)
);
CREATE INDEX readiness_results_testing ON readiness_results (outcome) WHERE outcome = 'testing';
`;
