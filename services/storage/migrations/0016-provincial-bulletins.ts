/**
 * Bulletins from the province (Circular 39): one row per bulletin, one receipt per commune it
 * went to (the commune's decision), and the schedules and broadcasts it became, marked with it.
 */
export default /* sql */ `
CREATE TABLE provincial_bulletins (
  id          TEXT PRIMARY KEY,
  province_id TEXT NOT NULL REFERENCES provinces(id) ON DELETE RESTRICT,
  name        TEXT NOT NULL,
  level       TEXT NOT NULL,
  content     TEXT NOT NULL,                 -- JSON Content
  volume      INTEGER,
  start_at    INTEGER NOT NULL,              -- when it should air (UTC ms)
  duration_s  REAL NOT NULL,
  expires_at  INTEGER NOT NULL,              -- a normal one not scheduled by then expires
  created_by  TEXT,
  created_at  INTEGER NOT NULL
);
CREATE INDEX provincial_bulletins_province ON provincial_bulletins (province_id, created_at);

CREATE TABLE bulletin_receipts (
  bulletin_id  TEXT NOT NULL REFERENCES provincial_bulletins(id) ON DELETE CASCADE,
  commune_id   TEXT NOT NULL REFERENCES communes(id) ON DELETE RESTRICT,
  state        TEXT NOT NULL,                -- pending, scheduled, declined, expired, needs-order, aired
  schedule_id  TEXT,
  broadcast_id TEXT,
  clash        TEXT NOT NULL DEFAULT '[]',   -- JSON: the commune priority items it clashes with
  decided_by   TEXT,
  decided_at   INTEGER,
  reason       TEXT,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (bulletin_id, commune_id)
);
CREATE INDEX bulletin_receipts_commune ON bulletin_receipts (commune_id, state);

ALTER TABLE schedules ADD COLUMN bulletin_id TEXT;
ALTER TABLE broadcasts ADD COLUMN bulletin_id TEXT;
CREATE INDEX broadcasts_bulletin ON broadcasts (bulletin_id) WHERE bulletin_id IS NOT NULL;
CREATE INDEX broadcasts_schedule ON broadcasts (schedule_id);
`;
