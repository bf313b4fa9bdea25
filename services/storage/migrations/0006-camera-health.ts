/** Each camera's current health (with the state machine's debounce state) and its incidents. */
export default /* sql */ `
CREATE TABLE camera_status (
  camera_id    TEXT PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
  state        TEXT NOT NULL,
  since        INTEGER NOT NULL,
  reason       TEXT NOT NULL,
  detail       TEXT NOT NULL,
  machine_json TEXT NOT NULL,
  last_poll_at INTEGER,
  last_ok_at   INTEGER,
  signals_json TEXT
);

CREATE TABLE camera_incidents (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  camera_id  TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  reason     TEXT NOT NULL,
  detail     TEXT NOT NULL
);
CREATE INDEX camera_incidents_camera ON camera_incidents (camera_id, started_at);
`;
