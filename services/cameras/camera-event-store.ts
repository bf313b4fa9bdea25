import { type Kysely, sql } from 'kysely';
import type { CameraEvent } from '../../contracts/cameras.js';
import type { CameraEventKind } from '../../devices/onvif-camera/event-topics.js';
import type { CommuneFilter, Page, Paged } from '../registry/registry-store.js';
import type { StateSchema } from '../storage/sql/schema.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import { isoTime } from '../time.js';

/** A motion, tamper or video-loss period of one camera, with the camera's name and commune. */
export interface CameraEventRecord {
  id: number;
  cameraId: string;
  cameraName: string;
  communeId: string;
  kind: CameraEventKind;
  topic: string;
  startedAt: number;
  endedAt: number | null;
}

export interface CameraEventFilter extends CommuneFilter {
  cameraId?: string | undefined;
  kind?: CameraEventKind | undefined;
  /** Only events still going on. */
  open?: boolean | undefined;
}

/** A stored event as the API and the consoles see it. */
export function cameraEventView(event: CameraEventRecord, now: number): CameraEvent {
  return {
    id: event.id,
    cameraId: event.cameraId,
    cameraName: event.cameraName,
    communeId: event.communeId,
    kind: event.kind,
    topic: event.topic,
    startedAt: isoTime(event.startedAt),
    endedAt: event.endedAt === null ? null : isoTime(event.endedAt),
    durationS: ((event.endedAt ?? now) - event.startedAt) / 1000,
  };
}

interface EventRow {
  id: number;
  camera_id: string;
  camera_name: string;
  commune_id: string;
  kind: string;
  topic: string;
  started_at: number;
  ended_at: number | null;
}

/** Events with their camera's name and commune. */
/** An event with its camera's name and commune, as every read gives it. */
const EVENT_COLUMNS = [
  'e.id',
  'e.camera_id',
  'c.name as camera_name',
  'c.commune_id',
  'e.kind',
  'e.topic',
  'e.started_at',
  'e.ended_at',
] as const;

const selectEvents = (db: Kysely<StateSchema> | StateTransaction) =>
  db.selectFrom('camera_events as e').innerJoin('cameras as c', 'c.id', 'e.camera_id').select(EVENT_COLUMNS);

const toRecord = (r: EventRow): CameraEventRecord => ({
  id: Number(r.id),
  cameraId: r.camera_id,
  cameraName: r.camera_name,
  communeId: r.commune_id,
  kind: r.kind as CameraEventKind,
  topic: r.topic,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

/**
 * Camera events through the query layer (SQLite or PostgreSQL). A busy crossroads moves all day,
 * so each camera keeps its newest `keepPerCamera` finished events; one still going on is never
 * dropped.
 */
export class CameraEventStore {
  private readonly db;

  constructor(
    private readonly state: StateDatabase,
    private readonly keepPerCamera = 500,
  ) {
    this.db = state.db;
  }

  /** The camera's event of this kind still going on, if any. */
  async ongoing(cameraId: string, kind: CameraEventKind): Promise<CameraEventRecord | null> {
    const row = await selectEvents(this.db)
      .where('e.camera_id', '=', cameraId)
      .where('e.kind', '=', kind)
      .where('e.ended_at', 'is', null)
      .orderBy('e.id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async start(
    cameraId: string,
    kind: CameraEventKind,
    topic: string,
    at: number,
  ): Promise<CameraEventRecord> {
    return this.state.transaction(async (trx) => {
      const { id } = await trx
        .insertInto('camera_events')
        .values({ camera_id: cameraId, kind, topic, started_at: at })
        .returning('id')
        .executeTakeFirstOrThrow();
      const kept = trx
        .selectFrom('camera_events')
        .select('id')
        .where('camera_id', '=', cameraId)
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .limit(this.keepPerCamera);
      await trx
        .deleteFrom('camera_events')
        .where('camera_id', '=', cameraId)
        .where('ended_at', 'is not', null)
        .where('id', 'not in', kept)
        .execute();
      const row = await selectEvents(trx).where('e.id', '=', Number(id)).executeTakeFirstOrThrow();
      return toRecord(row);
    });
  }

  /** Ends an event; an event ends no earlier than it started (clocks of cameras are not ours). */
  async end(id: number, at: number): Promise<CameraEventRecord | null> {
    await this.db
      .updateTable('camera_events')
      .set({
        ended_at: sql<number>`CASE WHEN started_at > ${at} THEN started_at ELSE ${at} END`,
      })
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .execute();
    return this.get(id);
  }

  async get(id: number): Promise<CameraEventRecord | null> {
    const row = await selectEvents(this.db).where('e.id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** Newest first. */
  async list(filter: CameraEventFilter, page: Page): Promise<Paged<CameraEventRecord>> {
    let matching = this.db.selectFrom('camera_events as e').innerJoin('cameras as c', 'c.id', 'e.camera_id');
    if (filter.communeId) matching = matching.where('c.commune_id', '=', filter.communeId);
    if (filter.communeIds)
      matching =
        filter.communeIds.length > 0
          ? matching.where('c.commune_id', 'in', [...filter.communeIds])
          : matching.where(sql<boolean>`1 = 0`);
    if (filter.cameraId) matching = matching.where('e.camera_id', '=', filter.cameraId);
    if (filter.kind) matching = matching.where('e.kind', '=', filter.kind);
    if (filter.open) matching = matching.where('e.ended_at', 'is', null);
    const rows = await matching
      .select(EVENT_COLUMNS)
      .orderBy('e.started_at', 'desc')
      .orderBy('e.id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const { n } = await matching.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { items: rows.map(toRecord), total: Number(n), ...page };
  }
}
