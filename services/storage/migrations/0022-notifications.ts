/**
 * Notifications to people (docs/notifications.md): each commune's recipients, routing rules and
 * settings (quiet hours, digest window), the alarms and outages decided on once each, and the log
 * of every notification, which is also the outbox: rows still queued are what is sent or retried.
 */
export default /* sql */ `
CREATE TABLE notification_settings (
  commune_id               TEXT PRIMARY KEY REFERENCES communes(id) ON DELETE CASCADE,
  quiet_start              TEXT,                 -- HH:MM local; NULL: no quiet hours
  quiet_end                TEXT,
  critical_bypasses_quiet  INTEGER NOT NULL,
  digest_window_min        INTEGER NOT NULL,
  updated_by               TEXT,
  updated_at               INTEGER NOT NULL
);

CREATE TABLE notification_contacts (
  id                TEXT PRIMARY KEY,
  commune_id        TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  email             TEXT,
  telegram_chat_id  TEXT,
  zalo_user_id      TEXT,
  village_head      INTEGER NOT NULL DEFAULT 0,
  village_id        TEXT REFERENCES villages(id) ON DELETE SET NULL,
  quiet_start       TEXT,                        -- NULL: the commune's quiet hours
  quiet_end         TEXT,
  enabled           INTEGER NOT NULL DEFAULT 1,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX notification_contacts_commune ON notification_contacts (commune_id, name);

CREATE TABLE notification_rules (
  id             TEXT PRIMARY KEY,
  commune_id     TEXT NOT NULL REFERENCES communes(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  kinds          TEXT NOT NULL,                  -- JSON array; empty: every kind
  min_severity   TEXT NOT NULL,
  contact_ids    TEXT NOT NULL,                  -- JSON array
  village_heads  INTEGER NOT NULL DEFAULT 0,
  channels       TEXT NOT NULL,                  -- JSON array
  enabled        INTEGER NOT NULL DEFAULT 1,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX notification_rules_commune ON notification_rules (commune_id);

-- One row per alarm or outage and change, decided once (a restart or a repeated event adds nothing).
CREATE TABLE notification_notices (
  id          TEXT PRIMARY KEY,
  ref_id      TEXT NOT NULL,                     -- the alarm or incident
  change      TEXT NOT NULL,                     -- opened, cleared
  commune_id  TEXT NOT NULL,
  held        INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  UNIQUE (ref_id, change)
);
CREATE INDEX notification_notices_at ON notification_notices (at);

CREATE TABLE notifications (
  id            TEXT PRIMARY KEY,
  commune_id    TEXT NOT NULL,
  kind          TEXT NOT NULL,                   -- notice, digest, test
  notice_id     TEXT,
  alarm_id      TEXT,
  incident_id   TEXT,
  change        TEXT,
  severity      TEXT,
  contact_id    TEXT,
  contact_name  TEXT,
  channel       TEXT NOT NULL,
  status        TEXT NOT NULL,                   -- queued, sent, failed, suppressed
  reason        TEXT,
  subject       TEXT NOT NULL,
  title         TEXT NOT NULL,                   -- one line, as a digest lists it
  body          TEXT NOT NULL,
  digest_id     TEXT,
  items         INTEGER NOT NULL DEFAULT 1,
  formed        INTEGER NOT NULL DEFAULT 0,      -- 1: a message to send; 0: waiting to be gathered
  attempts      INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT,
  due_at        INTEGER,                         -- queued: when next gathered or sent; NULL while sending
  created_at    INTEGER NOT NULL,
  formed_at     INTEGER,
  sent_at       INTEGER,
  finished_at   INTEGER
);
CREATE INDEX notifications_due ON notifications (due_at) WHERE status = 'queued';
CREATE INDEX notifications_recipient ON notifications (contact_id, channel, formed_at);
CREATE INDEX notifications_alarm ON notifications (alarm_id) WHERE alarm_id IS NOT NULL;
CREATE INDEX notifications_incident ON notifications (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX notifications_commune ON notifications (commune_id, created_at);
CREATE INDEX notifications_finished ON notifications (finished_at) WHERE finished_at IS NOT NULL;
`;
