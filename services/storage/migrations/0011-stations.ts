/**
 * Radio stations a commune relays, and the relays that switched to a fallback (the broadcast log
 * keeps when, why and what played instead).
 */
export default /* sql */ `
CREATE TABLE stations (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  url         TEXT NOT NULL,
  kind        TEXT NOT NULL,
  fallback    TEXT NOT NULL,               -- JSON: {kind: station|media|stop, …}
  health      TEXT NOT NULL DEFAULT 'unknown',
  health_detail TEXT,
  checked_at  INTEGER,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE relay_switches (
  broadcast_id    TEXT NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  at              INTEGER NOT NULL,
  reason          TEXT NOT NULL,
  fallback        TEXT NOT NULL,            -- JSON, as stations.fallback
  to_broadcast_id TEXT
);
CREATE INDEX relay_switches_broadcast ON relay_switches (broadcast_id);
`;
