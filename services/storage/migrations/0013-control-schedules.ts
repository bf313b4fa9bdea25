/** Volume and power settings on a calendar (e.g. amplifiers off every night), with their last run. */
export default /* sql */ `
CREATE TABLE control_schedules (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  targets     TEXT NOT NULL,   -- JSON Targets
  command     TEXT NOT NULL,   -- JSON {type: volume, level} | {type: power, on}
  starts_local TEXT NOT NULL,
  rrule       TEXT,
  timezone    TEXT NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1,
  last_run    TEXT,            -- JSON {at, done, offline, failed}
  created_by  TEXT,
  created_at  INTEGER NOT NULL
);
`;
