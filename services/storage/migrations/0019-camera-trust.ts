/**
 * What the camera poller trusts and holds back, per camera: the TLS certificate each https camera
 * address presented first (trust on first use; a different one later is refused as "certificate
 * changed"), and the login backoff after refused logins, so a restart does not resume hammering a
 * camera that locks accounts (docs/cameras.md). The backoff belongs to the device address, not to
 * one camera: every channel of an NVR logs in to the same device, which locks them all together.
 */
export default /* sql */ `
CREATE TABLE camera_trusted_certificates (
  camera_id   TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  origin      TEXT NOT NULL,              -- host:port the certificate was presented on
  fingerprint TEXT NOT NULL,              -- SHA-256, AA:BB:… as browsers show it
  trusted_at  INTEGER NOT NULL,
  PRIMARY KEY (camera_id, origin)
);

CREATE TABLE camera_login_backoff (
  device     TEXT PRIMARY KEY,            -- origin of the device service, e.g. http://10.0.3.21:80
  state_json TEXT NOT NULL,               -- failures, last refusal, refusals of the last hour, cause
  updated_at INTEGER NOT NULL
);
`;
