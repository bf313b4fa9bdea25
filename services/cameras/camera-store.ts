import { type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import type { Camera, CameraCreate, CameraPatch } from '../../contracts/cameras.js';
import { open, seal } from '../crypto/secret-box.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { CommuneFilter, Page, Paged } from '../registry/registry-store.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { CamerasTable, StateSchema } from '../storage/sql/schema.js';
import type { StateDatabase } from '../storage/sql/state-database.js';
import { isoTime } from '../time.js';

type CameraRow = Selectable<CamerasTable>;

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

const MISSING_PLACE = 'the commune or village does not exist';

function translate<T>(write: () => Promise<T>): Promise<T> {
  return translateConstraintAsync(
    {
      duplicateId: 'a camera with this id already exists',
      duplicate: 'this channel of this address is already onboarded',
      reference: MISSING_PLACE,
    },
    write,
  );
}

/**
 * The registry's communes and villages, as this instance's SQLite file holds them (with
 * DATABASE_URL, its copy of the registry, while cameras are read and written in PostgreSQL): a
 * camera's commune and village are checked here before it is written instead of by a foreign key.
 */
export interface CameraPlaces {
  exists(communeId: string, villageId: string | null): boolean;
}

/** The registry's communes and villages in the SQLite database. */
export function registryCameraPlaces(db: Db): CameraPlaces {
  const commune = db.prepare('SELECT 1 FROM communes WHERE id = ?');
  const village = db.prepare('SELECT 1 FROM villages WHERE id = ?');
  return {
    exists: (communeId, villageId) =>
      commune.get(communeId) !== undefined && (villageId === null || village.get(villageId) !== undefined),
  };
}

/** The communes a filter keeps: one asked for, and those a limited account may see (both apply). */
function inCommunes<O>(
  query: SelectQueryBuilder<StateSchema, 'cameras', O>,
  filter: CommuneFilter,
): SelectQueryBuilder<StateSchema, 'cameras', O> {
  let q = query;
  if (filter.communeId) q = q.where('commune_id', '=', filter.communeId);
  if (filter.communeIds)
    q =
      filter.communeIds.length > 0
        ? q.where('commune_id', 'in', [...filter.communeIds])
        : q.where(sql<boolean>`1 = 0`);
  return q;
}

const placeOf = (camera: Camera): CameraPlace => ({
  id: camera.id,
  communeId: camera.communeId,
  villageId: camera.villageId,
  name: camera.name,
});

/** The snapshot password is sealed bound to the camera and its column: it never opens as the ONVIF one. */
const snapshotContext = (id: string) => `${id}#snapshot`;

/** A camera's credentials, opened, and the profile it shows. */
export interface CameraCredentials {
  xaddr: string;
  username: string;
  password: string;
  snapshotUsername: string | null;
  snapshotPassword: string | null;
  profileToken: string | null;
}

/** Where a camera is and what it is called: what the directory keeps of it. */
export interface CameraPlace {
  id: string;
  communeId: string;
  villageId: string | null;
  name: string;
}

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
  private readonly db;
  /**
   * Every camera's place and name in memory, for what must answer at once (the alarm engine, the
   * notices' wording, the consoles' live snapshot and deltas, the history's device kinds): loaded
   * by `refreshDirectory()` at start and on every health sweep and directory refresh, and kept
   * current by this store's own writes and reads. With DATABASE_URL a camera another instance
   * onboarded shows here from the next refresh on.
   */
  private directory = new Map<string, CameraPlace>();

  constructor(
    state: StateDatabase,
    private readonly places: CameraPlaces,
    private readonly key: Buffer,
    private readonly now: () => number,
    private readonly onChange: (change: CameraChange) => void = () => undefined,
  ) {
    this.db = state.db;
  }

  async list(filter: CommuneFilter & { villageId?: string | undefined }, page: Page): Promise<Paged<Camera>> {
    let matching = inCommunes(this.db.selectFrom('cameras'), filter);
    if (filter.villageId) matching = matching.where('village_id', '=', filter.villageId);
    const rows = await matching.selectAll().orderBy('id').limit(page.limit).offset(page.offset).execute();
    for (const row of rows) this.directory.set(row.id, placeOf(toCamera(row)));
    const { n } = await matching.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { items: rows.map(toCamera), total: Number(n), ...page };
  }

  /** Reloads the directory; returns every camera, ordered by id. */
  async refreshDirectory(): Promise<Camera[]> {
    const rows = await this.db.selectFrom('cameras').selectAll().orderBy('id').execute();
    const cameras = rows.map(toCamera);
    this.directory = new Map(cameras.map((camera) => [camera.id, placeOf(camera)]));
    return cameras;
  }

  /** The camera's place and name as the directory knows them, without a query. */
  known(id: string): CameraPlace | null {
    return this.directory.get(id) ?? null;
  }

  /** The cameras of a commune filter (and a village), as the directory knows them, ordered by id. */
  knownIn(filter: CommuneFilter & { villageId?: string | undefined }): CameraPlace[] {
    const communes = filter.communeIds ? new Set(filter.communeIds) : null;
    return [...this.directory.values()]
      .filter(
        (c) =>
          (!filter.communeId || c.communeId === filter.communeId) &&
          (!communes || communes.has(c.communeId)) &&
          (!filter.villageId || c.villageId === filter.villageId),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async get(id: string): Promise<Camera> {
    return toCamera(await this.row(id));
  }

  /** The camera, or null when no camera has this id. */
  async find(id: string): Promise<Camera | null> {
    const row = await this.db.selectFrom('cameras').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) {
      this.directory.delete(id);
      return null;
    }
    const camera = toCamera(row);
    this.directory.set(id, placeOf(camera));
    return camera;
  }

  /**
   * The camera's ONVIF credentials and its separate snapshot account (null when the snapshot takes
   * the ONVIF one), opened, and the profile it shows; only the poller, events and live view ask.
   */
  async credentials(id: string): Promise<CameraCredentials> {
    const row = await this.row(id);
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
  async hasSnapshotPassword(id: string): Promise<boolean> {
    return (await this.row(id)).snapshot_password_sealed !== null;
  }

  /** Every device address with its cameras (channels), for one event subscription per device. */
  async devices(): Promise<Map<string, Camera[]>> {
    const rows = await this.db.selectFrom('cameras').selectAll().orderBy('xaddr').orderBy('id').execute();
    const devices = new Map<string, Camera[]>();
    for (const row of rows) devices.set(row.xaddr, [...(devices.get(row.xaddr) ?? []), toCamera(row)]);
    return devices;
  }

  /** The cameras (channels) at one device address. */
  async atAddress(xaddr: string): Promise<Camera[]> {
    const rows = await this.db
      .selectFrom('cameras')
      .selectAll()
      .where('xaddr', '=', xaddr)
      .orderBy('id')
      .execute();
    return rows.map(toCamera);
  }

  async create(input: CameraCreate): Promise<Camera> {
    const now = this.now();
    const villageId = input.villageId ?? null;
    await translate(async () => {
      // Checked here as well as by SQLite's foreign keys: PostgreSQL holds no registry to refer to.
      if (!this.places.exists(input.communeId, villageId)) throw new ConflictError(MISSING_PLACE);
      await this.db
        .insertInto('cameras')
        .values({
          id: input.id,
          commune_id: input.communeId,
          village_id: villageId,
          name: input.name,
          address: input.address ?? null,
          lat: input.location?.lat ?? null,
          lon: input.location?.lon ?? null,
          xaddr: input.xaddr,
          username: input.username,
          password_sealed: seal(this.key, input.password, input.id),
          snapshot_username: input.snapshotUsername ?? null,
          snapshot_password_sealed: input.snapshotPassword
            ? seal(this.key, input.snapshotPassword, snapshotContext(input.id))
            : null,
          endpoint_urn: input.endpointUrn ?? null,
          video_source_token: input.videoSourceToken ?? null,
          profile_token: input.profileToken ?? null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    });
    const created = await this.get(input.id);
    this.onChange({ cameraId: input.id, change: 'created', xaddrs: [input.xaddr] });
    return created;
  }

  async update(id: string, patch: CameraPatch): Promise<Camera> {
    const row = await this.row(id);
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
    const villageId = patch.villageId === undefined ? row.village_id : patch.villageId;
    await translate(async () => {
      if (villageId !== row.village_id && !this.places.exists(row.commune_id, villageId))
        throw new ConflictError(MISSING_PLACE);
      await this.db
        .updateTable('cameras')
        .set({
          village_id: villageId,
          name: patch.name ?? row.name,
          address: patch.address === undefined ? row.address : patch.address,
          lat: location?.lat ?? null,
          lon: location?.lon ?? null,
          xaddr: patch.xaddr ?? row.xaddr,
          username: patch.username ?? row.username,
          password_sealed:
            patch.password === undefined ? row.password_sealed : seal(this.key, patch.password, id),
          snapshot_username: snapshotUsername,
          snapshot_password_sealed: snapshotPasswordSealed,
          endpoint_urn: patch.endpointUrn === undefined ? row.endpoint_urn : patch.endpointUrn,
          video_source_token:
            patch.videoSourceToken === undefined ? row.video_source_token : patch.videoSourceToken,
          profile_token: patch.profileToken === undefined ? row.profile_token : patch.profileToken,
          updated_at: this.now(),
        })
        .where('id', '=', id)
        .execute();
    });
    const after = await this.get(id);
    this.onChange({ cameraId: id, change: 'updated', xaddrs: [...new Set([row.xaddr, after.xaddr])] });
    return after;
  }

  async delete(id: string): Promise<void> {
    const row = await this.row(id);
    await this.db.deleteFrom('cameras').where('id', '=', id).execute();
    this.directory.delete(id);
    this.onChange({ cameraId: id, change: 'deleted', xaddrs: [row.xaddr] });
  }

  private async row(id: string): Promise<CameraRow> {
    const row = await this.db.selectFrom('cameras').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) {
      this.directory.delete(id);
      throw new NotFoundError('camera', id);
    }
    this.directory.set(id, { id, communeId: row.commune_id, villageId: row.village_id, name: row.name });
    return row;
  }
}
