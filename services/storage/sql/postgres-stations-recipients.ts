/**
 * The stations (SQLite 0011) and each commune's notification recipients, rules and settings
 * (SQLite 0022), for the stores on the query layer. Their per-event tables stay in SQLite: the
 * relay switches (one row per switch, referring to broadcasts) and the notification log with its
 * notices (notification-log.ts).
 */
export const stationsAndRecipientsMigration = /* sql */ `
-- A fallback names another station or a media item inside its JSON: no foreign key in either
-- engine; the station store checks a fallback station and refuses to delete one still named.
CREATE TABLE stations (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  url           TEXT NOT NULL,
  kind          TEXT NOT NULL,
  fallback      TEXT NOT NULL,
  health        TEXT NOT NULL DEFAULT 'unknown',
  health_detail TEXT,
  checked_at    BIGINT,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);

CREATE TABLE notification_settings (
  commune_id              TEXT PRIMARY KEY REFERENCES communes(id) ON DELETE CASCADE,
  quiet_start             TEXT,
  quiet_end               TEXT,
  critical_bypasses_quiet SMALLINT NOT NULL CHECK (critical_bypasses_quiet IN (0, 1)),
  digest_window_min       INTEGER NOT NULL,
  -- An account or token id, as the audit log names actors: no foreign key, as in SQLite.
  updated_by              TEXT,
  updated_at              BIGINT NOT NULL
);

CREATE TABLE notification_contacts (
  id               TEXT PRIMARY KEY,
  commune_id       TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  email            TEXT,
  telegram_chat_id TEXT,
  zalo_user_id     TEXT,
  village_head     SMALLINT NOT NULL DEFAULT 0 CHECK (village_head IN (0, 1)),
  village_id       TEXT REFERENCES villages(id) ON DELETE SET NULL,
  quiet_start      TEXT,
  quiet_end        TEXT,
  enabled          SMALLINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL
);
CREATE INDEX notification_contacts_commune ON notification_contacts (commune_id, name);

-- contact_ids is a JSON array, as in SQLite: the store takes a deleted recipient out of each rule.
CREATE TABLE notification_rules (
  id            TEXT PRIMARY KEY,
  commune_id    TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  kinds         TEXT NOT NULL,
  min_severity  TEXT NOT NULL,
  contact_ids   TEXT NOT NULL,
  village_heads SMALLINT NOT NULL DEFAULT 0 CHECK (village_heads IN (0, 1)),
  channels      TEXT NOT NULL,
  enabled       SMALLINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX notification_rules_commune ON notification_rules (commune_id);
`;
