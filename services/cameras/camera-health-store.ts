import type {
  CameraHealth,
  CameraHealthReason,
  CameraIncident,
  CameraPollSignals,
} from '../../devices/onvif-camera/index.js';
import type { LoginBackoff } from '../../devices/onvif-camera/login-backoff.js';
import type { Page, Paged } from '../registry/registry-store.js';
import type { Db } from '../storage/database.js';

export interface StoredCameraStatus {
  cameraId: string;
  health: CameraHealth;
  lastPollAt: number | null;
  lastOkAt: number | null;
  signals: CameraPollSignals | null;
}

export interface IncidentRecord {
  id: number;
  cameraId: string;
  kind: 'offline' | 'auth_failed';
  startedAt: number;
  endedAt: number | null;
  reason: CameraHealthReason;
}

interface StatusRow {
  camera_id: string;
  machine_json: string;
  last_poll_at: number | null;
  last_ok_at: number | null;
  signals_json: string | null;
}

interface IncidentRow {
  id: number;
  camera_id: string;
  kind: 'offline' | 'auth_failed';
  started_at: number;
  ended_at: number | null;
  reason: string;
  detail: string;
}

const toIncident = (r: IncidentRow): IncidentRecord => ({
  id: r.id,
  cameraId: r.camera_id,
  kind: r.kind,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  reason: { code: r.reason as CameraHealthReason['code'], detail: r.detail },
});

/** Camera health and incidents in SQLite, so a restart keeps "down since" and the debounce state. */
export class CameraHealthStore {
  constructor(private readonly db: Db) {}

  loadAll(): StoredCameraStatus[] {
    const rows = this.db.prepare('SELECT * FROM camera_status').all() as StatusRow[];
    return rows.map((r) => ({
      cameraId: r.camera_id,
      health: JSON.parse(r.machine_json) as CameraHealth,
      lastPollAt: r.last_poll_at,
      lastOkAt: r.last_ok_at,
      signals: r.signals_json ? (JSON.parse(r.signals_json) as CameraPollSignals) : null,
    }));
  }

  /** Saves a poll's outcome and the incidents it opened or closed, atomically. */
  save(
    status: StoredCameraStatus,
    incidents: { opened: CameraIncident | null; closed: CameraIncident | null },
  ): void {
    const { cameraId, health } = status;
    this.db.transaction(() => {
      if (incidents.closed) {
        this.db
          .prepare('UPDATE camera_incidents SET ended_at = ? WHERE camera_id = ? AND ended_at IS NULL')
          .run(incidents.closed.end, cameraId);
      }
      if (incidents.opened) {
        this.db
          .prepare(
            'INSERT INTO camera_incidents (camera_id, kind, started_at, reason, detail) VALUES (?, ?, ?, ?, ?)',
          )
          .run(
            cameraId,
            incidents.opened.kind,
            incidents.opened.start,
            incidents.opened.reason.code,
            incidents.opened.reason.detail,
          );
      }
      this.db
        .prepare(
          `INSERT INTO camera_status (camera_id, state, since, reason, detail, machine_json, last_poll_at, last_ok_at, signals_json)
           VALUES (@cameraId, @state, @since, @reason, @detail, @machine, @lastPollAt, @lastOkAt, @signals)
           ON CONFLICT (camera_id) DO UPDATE SET state = excluded.state, since = excluded.since,
             reason = excluded.reason, detail = excluded.detail, machine_json = excluded.machine_json,
             last_poll_at = excluded.last_poll_at, last_ok_at = excluded.last_ok_at, signals_json = excluded.signals_json`,
        )
        .run({
          cameraId,
          state: health.state,
          since: health.since,
          reason: health.reason.code,
          detail: health.reason.detail,
          machine: JSON.stringify(health),
          lastPollAt: status.lastPollAt,
          lastOkAt: status.lastOkAt,
          signals: status.signals ? JSON.stringify(status.signals) : null,
        });
    })();
  }

  /** TLS certificate fingerprints trusted on first use, per camera and `host:port`. */
  trustedCertificates(): Map<string, Map<string, string>> {
    const rows = this.db
      .prepare('SELECT camera_id, origin, fingerprint FROM camera_trusted_certificates')
      .all() as { camera_id: string; origin: string; fingerprint: string }[];
    const trusted = new Map<string, Map<string, string>>();
    for (const r of rows) {
      const origins = trusted.get(r.camera_id) ?? new Map<string, string>();
      origins.set(r.origin, r.fingerprint);
      trusted.set(r.camera_id, origins);
    }
    return trusted;
  }

  /** Trusts a certificate first seen now; one already trusted for the address stays. */
  trustCertificate(cameraId: string, origin: string, fingerprint: string, at: number): void {
    this.db
      .prepare(
        `INSERT INTO camera_trusted_certificates (camera_id, origin, fingerprint, trusted_at)
         VALUES (?, ?, ?, ?) ON CONFLICT (camera_id, origin) DO NOTHING`,
      )
      .run(cameraId, origin, fingerprint, at);
  }

  /** Forgets a camera's certificates: the next one it presents is trusted on first use again. */
  forgetCertificates(cameraId: string): void {
    this.db.prepare('DELETE FROM camera_trusted_certificates WHERE camera_id = ?').run(cameraId);
  }

  /** Login backoffs by device (the origin of the device service address). */
  loginBackoffs(): Map<string, LoginBackoff> {
    const rows = this.db.prepare('SELECT device, state_json FROM camera_login_backoff').all() as {
      device: string;
      state_json: string;
    }[];
    return new Map(rows.map((r) => [r.device, JSON.parse(r.state_json) as LoginBackoff]));
  }

  /** Keeps a device's login backoff across restarts; null clears it. */
  saveLoginBackoff(device: string, backoff: LoginBackoff | null, at: number): void {
    if (backoff === null) {
      this.db.prepare('DELETE FROM camera_login_backoff WHERE device = ?').run(device);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO camera_login_backoff (device, state_json, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (device) DO UPDATE SET state_json = excluded.state_json, updated_at = excluded.updated_at`,
      )
      .run(device, JSON.stringify(backoff), at);
  }

  incidents(cameraId: string, page: Page): Paged<IncidentRecord> {
    const rows = this.db
      .prepare(
        'SELECT * FROM camera_incidents WHERE camera_id = ? ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?',
      )
      .all(cameraId, page.limit, page.offset) as IncidentRow[];
    const { n } = this.db
      .prepare('SELECT COUNT(*) AS n FROM camera_incidents WHERE camera_id = ?')
      .get(cameraId) as { n: number };
    return { items: rows.map(toIncident), total: n, ...page };
  }
}
