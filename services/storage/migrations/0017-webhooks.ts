/**
 * Webhooks for the provincial or central system: the endpoints admins and province operators
 * registered (their signing secrets sealed with DATA_DIR/webhook-secrets.key), each POST made to
 * them, and every attempt of each. Deliveries are bounded per webhook (docs/sharing-api.md).
 */
export default /* sql */ `
CREATE TABLE webhooks (
  id                TEXT PRIMARY KEY,
  url               TEXT NOT NULL,
  events            TEXT NOT NULL,              -- JSON array of event types
  description       TEXT,
  province_id       TEXT REFERENCES provinces(id) ON DELETE RESTRICT,  -- NULL: every commune
  secret            TEXT NOT NULL,              -- sealed (AES-256-GCM), context: the webhook id
  previous_secret   TEXT,                       -- sealed; signs beside the new one until previous_until
  previous_until    INTEGER,
  created_by        TEXT,
  created_at        INTEGER NOT NULL,
  secret_rotated_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
  id              TEXT PRIMARY KEY,             -- X-Webhook-Id, the same on every retry
  webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  body            TEXT NOT NULL,                -- the JSON body, byte for byte as signed
  types           TEXT NOT NULL,                -- JSON array of the event types in it
  event_count     INTEGER NOT NULL,
  state           TEXT NOT NULL,                -- pending, delivered, failed, dropped
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,                      -- pending: when it is due; NULL while a request is under way
  created_at      INTEGER NOT NULL,
  finished_at     INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  n           INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  status      INTEGER,                          -- the receiver's HTTP status, NULL when none
  error       TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, n)
);
`;
