/**
 * With DATABASE_URL, the changes this instance made to a log it ships to PostgreSQL (the
 * broadcast log), in the order made and until PostgreSQL has them, and how far this instance has
 * copied the changes other instances shipped (services/storage/sql/shipped-log.ts). The triggers
 * that fill the outbox are temporary, made by the connection that ships: on SQLite alone nothing
 * is written here.
 */
export default /* sql */ `
CREATE TABLE log_outbox (
  id    INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl   TEXT NOT NULL,
  op    TEXT NOT NULL,                 -- insert, update, delete
  key   TEXT NOT NULL,                 -- JSON array of the row's key columns
  cols  TEXT                           -- JSON object: the inserted row, or the columns an update changed
);

CREATE TABLE log_position (
  channel  TEXT PRIMARY KEY,
  last_id  INTEGER NOT NULL
);
`;
