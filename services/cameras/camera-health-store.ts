import type {
  CameraHealth,
  CameraHealthReason,
  CameraIncident,
  CameraPollSignals,
} from '../../devices/onvif-camera/index.js';
import type { LoginBackoff } from '../../devices/onvif-camera/login-backoff.js';
import type { Page, Paged } from '../registry/registry-store.js';
import type { StateDatabase } from '../storage/sql/state-database.js';

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

/**
 * Camera health and incidents through the query layer (SQLite or PostgreSQL), so a restart keeps
 * "down since" and the debounce state.
 */
export class CameraHealthStore {
  private readonly db;

  constructor(private readonly state: StateDatabase) {
    this.db = state.db;
  }

  async loadAll(): Promise<StoredCameraStatus[]> {
    const rows = await this.db.selectFrom('camera_status').selectAll().execute();
    return rows.map((r) => ({
      cameraId: r.camera_id,
      health: JSON.parse(r.machine_json) as CameraHealth,
      lastPollAt: r.last_poll_at,
      lastOkAt: r.last_ok_at,
      signals: r.signals_json ? (JSON.parse(r.signals_json) as CameraPollSignals) : null,
    }));
  }

  /** Saves a poll's outcome and the incidents it opened or closed, atomically. */
  async save(
    status: StoredCameraStatus,
    incidents: { opened: CameraIncident | null; closed: CameraIncident | null },
  ): Promise<void> {
    const { cameraId, health } = status;
    const row = {
      state: health.state,
      since: health.since,
      reason: health.reason.code,
      detail: health.reason.detail,
      machine_json: JSON.stringify(health),
      last_poll_at: status.lastPollAt,
      last_ok_at: status.lastOkAt,
      signals_json: status.signals ? JSON.stringify(status.signals) : null,
    };
    await this.state.transaction(async (trx) => {
      if (incidents.closed) {
        await trx
          .updateTable('camera_incidents')
          .set({ ended_at: incidents.closed.end })
          .where('camera_id', '=', cameraId)
          .where('ended_at', 'is', null)
          .execute();
      }
      if (incidents.opened) {
        await trx
          .insertInto('camera_incidents')
          .values({
            camera_id: cameraId,
            kind: incidents.opened.kind,
            started_at: incidents.opened.start,
            reason: incidents.opened.reason.code,
            detail: incidents.opened.reason.detail,
          })
          .execute();
      }
      await trx
        .insertInto('camera_status')
        .values({ camera_id: cameraId, ...row })
        .onConflict((oc) => oc.column('camera_id').doUpdateSet(row))
        .execute();
    });
  }

  /** TLS certificate fingerprints trusted on first use, per camera and `host:port`. */
  async trustedCertificates(): Promise<Map<string, Map<string, string>>> {
    const rows = await this.db
      .selectFrom('camera_trusted_certificates')
      .select(['camera_id', 'origin', 'fingerprint'])
      .execute();
    const trusted = new Map<string, Map<string, string>>();
    for (const r of rows) {
      const origins = trusted.get(r.camera_id) ?? new Map<string, string>();
      origins.set(r.origin, r.fingerprint);
      trusted.set(r.camera_id, origins);
    }
    return trusted;
  }

  /** Trusts a certificate first seen now; one already trusted for the address stays. */
  async trustCertificate(cameraId: string, origin: string, fingerprint: string, at: number): Promise<void> {
    await this.db
      .insertInto('camera_trusted_certificates')
      .values({ camera_id: cameraId, origin, fingerprint, trusted_at: at })
      .onConflict((oc) => oc.columns(['camera_id', 'origin']).doNothing())
      .execute();
  }

  /** Forgets a camera's certificates: the next one it presents is trusted on first use again. */
  async forgetCertificates(cameraId: string): Promise<void> {
    await this.db.deleteFrom('camera_trusted_certificates').where('camera_id', '=', cameraId).execute();
  }

  /** Login backoffs by device (the origin of the device service address). */
  async loginBackoffs(): Promise<Map<string, LoginBackoff>> {
    const rows = await this.db.selectFrom('camera_login_backoff').select(['device', 'state_json']).execute();
    return new Map(rows.map((r) => [r.device, JSON.parse(r.state_json) as LoginBackoff]));
  }

  /** Keeps a device's login backoff across restarts; null clears it. */
  async saveLoginBackoff(device: string, backoff: LoginBackoff | null, at: number): Promise<void> {
    if (backoff === null) {
      await this.db.deleteFrom('camera_login_backoff').where('device', '=', device).execute();
      return;
    }
    const state_json = JSON.stringify(backoff);
    await this.db
      .insertInto('camera_login_backoff')
      .values({ device, state_json, updated_at: at })
      .onConflict((oc) => oc.column('device').doUpdateSet({ state_json, updated_at: at }))
      .execute();
  }

  async incidents(cameraId: string, page: Page): Promise<Paged<IncidentRecord>> {
    const matching = this.db.selectFrom('camera_incidents').where('camera_id', '=', cameraId);
    const rows = await matching
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const { n } = await matching.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { items: rows.map(toIncident), total: Number(n), ...page };
  }
}
