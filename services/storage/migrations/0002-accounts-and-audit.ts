/** Accounts with roles, browser sessions, API tokens and the audit log. */
export default /* sql */ `
CREATE TABLE users (
  id                  TEXT PRIMARY KEY,
  username            TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name        TEXT NOT NULL,
  password_hash       TEXT NOT NULL,
  roles               TEXT NOT NULL,            -- JSON array of role names
  commune_id          TEXT REFERENCES communes(id) ON DELETE RESTRICT,
  disabled            INTEGER NOT NULL DEFAULT 0,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL,
  last_login_at       INTEGER
);

-- Only hashes of session ids and token secrets are stored: a copy of the database logs nobody in.
CREATE TABLE sessions (
  id_hash      TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  address      TEXT,
  user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  secret_hash  TEXT NOT NULL,
  roles        TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  request_id  TEXT,
  actor_type  TEXT NOT NULL,                    -- user, token, device, system, anonymous
  actor_id    TEXT,
  actor_name  TEXT,
  actor_roles TEXT,
  action      TEXT NOT NULL,
  target_type TEXT,
  target_id   TEXT,
  before      TEXT,
  after       TEXT,
  outcome     TEXT NOT NULL,                    -- success, failure, denied
  status      INTEGER,
  address     TEXT,
  detail      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, at);
CREATE INDEX audit_log_action ON audit_log (action, at);
`;
