/** Security cameras onboarded over ONVIF; passwords are sealed with DATA_DIR/camera-credentials.key. */
export default /* sql */ `
CREATE TABLE cameras (
  id              TEXT PRIMARY KEY,
  commune_id      TEXT NOT NULL REFERENCES communes(id) ON DELETE RESTRICT,
  village_id      TEXT REFERENCES villages(id) ON DELETE RESTRICT,
  name            TEXT NOT NULL,
  address         TEXT,
  lat             REAL,
  lon             REAL,
  xaddr           TEXT NOT NULL,
  username        TEXT NOT NULL,
  password_sealed TEXT NOT NULL,
  endpoint_urn    TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX cameras_commune ON cameras (commune_id);
CREATE UNIQUE INDEX cameras_xaddr ON cameras (xaddr);
`;
