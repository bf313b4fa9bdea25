/*
 * Bulletins from the province and each commune's receipt in PostgreSQL (SQLite 0016 as it stands).
 * The schedules and broadcasts a receipt names are plain TEXT, as in SQLite: broadcasts are still
 * SQLite-only, and neither engine ties a receipt to them with a foreign key.
 */
export const bulletinsMigration = /* sql */ `
CREATE TABLE provincial_bulletins (
  id          TEXT PRIMARY KEY,
  province_id TEXT NOT NULL REFERENCES provinces(id) ON DELETE RESTRICT,
  name        TEXT NOT NULL,
  level       TEXT NOT NULL,
  content     TEXT NOT NULL,
  volume      INTEGER,
  start_at    BIGINT NOT NULL,
  duration_s  DOUBLE PRECISION NOT NULL,
  expires_at  BIGINT NOT NULL,
  created_by  TEXT,
  created_at  BIGINT NOT NULL
);
CREATE INDEX provincial_bulletins_province ON provincial_bulletins (province_id, created_at);

CREATE TABLE bulletin_receipts (
  bulletin_id  TEXT NOT NULL REFERENCES provincial_bulletins(id) ON DELETE CASCADE,
  commune_id   TEXT NOT NULL REFERENCES communes(id) ON DELETE RESTRICT,
  state        TEXT NOT NULL,
  schedule_id  TEXT,
  broadcast_id TEXT,
  clash        TEXT NOT NULL DEFAULT '[]',
  decided_by   TEXT,
  decided_at   BIGINT,
  reason       TEXT,
  updated_at   BIGINT NOT NULL,
  PRIMARY KEY (bulletin_id, commune_id)
);
CREATE INDEX bulletin_receipts_commune ON bulletin_receipts (commune_id, state);
`;
