import type { Camera, CameraCreate, CameraPatch } from '../../contracts/cameras.js';
import { open, seal } from '../crypto/secret-box.js';
import { NotFoundError } from '../errors.js';
import { type CommuneFilter, communeConditions, type Page, type Paged } from '../registry/registry-store.js';
import { translateConstraint } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import { isoTime } from '../time.js';

interface CameraRow {
  id: string;
  commune_id: string;
  village_id: string | null;
  name: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
  xaddr: string;
  username: string;
  password_sealed: string;
  snapshot_username: string | null;
  snapshot_password_sealed: string | null;
  endpoint_urn: string | null;
  video_source_token: string | null;
  profile_token: string | null;
  created_at: number;
  updated_at: number;
}

function toCamera(row: CameraRow): Camera {
  return {
    id: row.id,
    communeId: row.commune_id,
    villageId: row.village_id,
    name: row.name,
    address: row.address,
    location: row.lat === null || row.lon === null ? null : { lat: row.lat, lon: row.lon },
    xaddr: row.xaddr,
    username: row.username,
    snapshotUsername: row.snapshot_username,
    endpointUrn: row.endpoint_urn,
    videoSourceToken: row.video_source_token,
    profileToken: row.profile_token,
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

function translate<T>(write: () => T): T {
  return translateConstraint(
    {
      duplicateId: 'a camera with this id already exists',
      duplicate: 'this channel of this address is already onboarded',
      reference: 'the commune or village does not exist',
    },
    write,
  );
}

/** The snapshot password is sealed bound to the camera and its column: it never opens as the ONVIF one. */
const snapshotContext = (id: string) => `${id}#snapshot`;

/** What a change to the cameras touched: the device addresses whose cameras changed. */
export interface CameraChange {
  cameraId: string;
  change: 'created' | 'updated' | 'deleted';
  xaddrs: string[];
}

/**
 * Onboarded cameras, each one channel of a device (an NVR has several at one address). Passwords
 * are sealed with a key kept in DATA_DIR, bound to the camera's id, and leave the store only
 * through `credentials()`, for the poller and the event subscriber.
 */
export class CameraStore {
  constructor(
    private readonly db: Db,
    private readonly key: Buffer,
    private readonly now: () => number,
    private readonly onChange: (change: CameraChange) => void = () => undefined,
  ) {}

  list(filter: CommuneFilter & { villageId?: string | undefined }, page: Page): Paged<Camera> {
    const communes = communeConditions('commune_id', filter);
    const where = `WHERE ${[...communes.clauses, '(@villageId IS NULL OR village_id = @villageId)'].join(' AND ')}`;
    const params = { ...communes.params, villageId: filter.villageId ?? null };
    const rows = this.db
      .prepare(`SELECT * FROM cameras ${where} ORDER BY id LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: page.limit, offset: page.offset }) as CameraRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM cameras ${where}`).get(params) as { n: number };
    return { items: rows.map(toCamera), total: n, ...page };
  }

  get(id: string): Camera {
    return toCamera(this.row(id));
  }

  /** The camera, or null when no camera has this id. */
  find(id: string): Camera | null {
    const row = this.db.prepare('SELECT * FROM cameras WHERE id = ?').get(id) as CameraRow | undefined;
    return row ? toCamera(row) : null;
  }

  /**
   * The camera's ONVIF credentials and its separate snapshot account (null when the snapshot takes
   * the ONVIF one), opened, and the profile it shows; only the poller, events and live view ask.
   */
  credentials(id: string): {
    xaddr: string;
    username: string;
    password: string;
    snapshotUsername: string | null;
    snapshotPassword: string | null;
    profileToken: string | null;
  } {
    const row = this.row(id);
    const separate = row.snapshot_username !== null && row.snapshot_password_sealed !== null;
    return {
      xaddr: row.xaddr,
      username: row.username,
      password: open(this.key, row.password_sealed, row.id),
      snapshotUsername: separate ? row.snapshot_username : null,
      snapshotPassword:
        separate && row.snapshot_password_sealed !== null
          ? open(this.key, row.snapshot_password_sealed, snapshotContext(row.id))
          : null,
      profileToken: row.profile_token,
    };
  }

  /** Whether a snapshot password is stored for the camera (it is never returned). */
  hasSnapshotPassword(id: string): boolean {
    return this.row(id).snapshot_password_sealed !== null;
  }

  /** Every device address with its cameras (channels), for one event subscription per device. */
  devices(): Map<string, Camera[]> {
    const rows = this.db.prepare('SELECT * FROM cameras ORDER BY xaddr, id').all() as CameraRow[];
    const devices = new Map<string, Camera[]>();
    for (const row of rows) devices.set(row.xaddr, [...(devices.get(row.xaddr) ?? []), toCamera(row)]);
    return devices;
  }

  /** The cameras (channels) at one device address. */
  atAddress(xaddr: string): Camera[] {
    return (
      this.db.prepare('SELECT * FROM cameras WHERE xaddr = ? ORDER BY id').all(xaddr) as CameraRow[]
    ).map(toCamera);
  }

  create(input: CameraCreate): Camera {
    const now = this.now();
    translate(() =>
      this.db
        .prepare(
          `INSERT INTO cameras (id, commune_id, village_id, name, address, lat, lon, xaddr, username,
             password_sealed, snapshot_username, snapshot_password_sealed, endpoint_urn,
             video_source_token, profile_token, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.id,
          input.communeId,
          input.villageId ?? null,
          input.name,
          input.address ?? null,
          input.location?.lat ?? null,
          input.location?.lon ?? null,
          input.xaddr,
          input.username,
          seal(this.key, input.password, input.id),
          input.snapshotUsername ?? null,
          input.snapshotPassword ? seal(this.key, input.snapshotPassword, snapshotContext(input.id)) : null,
          input.endpointUrn ?? null,
          input.videoSourceToken ?? null,
          input.profileToken ?? null,
          now,
          now,
        ),
    );
    this.onChange({ cameraId: input.id, change: 'created', xaddrs: [input.xaddr] });
    return this.get(input.id);
  }

  update(id: string, patch: CameraPatch): Camera {
    const row = this.row(id);
    const location = patch.location === undefined ? { lat: row.lat, lon: row.lon } : patch.location;
    // No snapshot user means no snapshot password: clearing the one clears both.
    const snapshotUsername =
      patch.snapshotUsername === undefined ? row.snapshot_username : patch.snapshotUsername;
    const snapshotPasswordSealed =
      snapshotUsername === null || patch.snapshotPassword === null
        ? null
        : patch.snapshotPassword === undefined
          ? row.snapshot_password_sealed
          : seal(this.key, patch.snapshotPassword, snapshotContext(id));
    translate(() =>
      this.db
        .prepare(
          `UPDATE cameras SET village_id = ?, name = ?, address = ?, lat = ?, lon = ?, xaddr = ?, username = ?,
             password_sealed = ?, snapshot_username = ?, snapshot_password_sealed = ?, endpoint_urn = ?,
             video_source_token = ?, profile_token = ?, updated_at = ?
           WHERE id = ?`,
        )
        .run(
          patch.villageId === undefined ? row.village_id : patch.villageId,
          patch.name ?? row.name,
          patch.address === undefined ? row.address : patch.address,
          location?.lat ?? null,
          location?.lon ?? null,
          patch.xaddr ?? row.xaddr,
          patch.username ?? row.username,
          patch.password === undefined ? row.password_sealed : seal(this.key, patch.password, id),
          snapshotUsername,
          snapshotPasswordSealed,
          patch.endpointUrn === undefined ? row.endpoint_urn : patch.endpointUrn,
          patch.videoSourceToken === undefined ? row.video_source_token : patch.videoSourceToken,
          patch.profileToken === undefined ? row.profile_token : patch.profileToken,
          this.now(),
          id,
        ),
    );
    const after = this.get(id);
    this.onChange({ cameraId: id, change: 'updated', xaddrs: [...new Set([row.xaddr, after.xaddr])] });
    return after;
  }

  delete(id: string): void {
    const row = this.row(id);
    this.db.prepare('DELETE FROM cameras WHERE id = ?').run(id);
    this.onChange({ cameraId: id, change: 'deleted', xaddrs: [row.xaddr] });
  }

  private row(id: string): CameraRow {
    const row = this.db.prepare('SELECT * FROM cameras WHERE id = ?').get(id) as CameraRow | undefined;
    if (!row) throw new NotFoundError('camera', id);
    return row;
  }
}
