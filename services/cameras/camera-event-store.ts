import type { CameraEvent } from '../../contracts/cameras.js';
import type { CameraEventKind } from '../../devices/onvif-camera/event-topics.js';
import { type CommuneFilter, communeConditions, type Page, type Paged } from '../registry/registry-store.js';
import type { Db } from '../storage/database.js';
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
  kind: CameraEventKind;
  topic: string;
  started_at: number;
  ended_at: number | null;
}

const SELECT = `SELECT e.id, e.camera_id, c.name AS camera_name, c.commune_id, e.kind, e.topic, e.started_at, e.ended_at
  FROM camera_events e JOIN cameras c ON c.id = e.camera_id`;

const toRecord = (r: EventRow): CameraEventRecord => ({
  id: r.id,
  cameraId: r.camera_id,
  cameraName: r.camera_name,
  communeId: r.commune_id,
  kind: r.kind,
  topic: r.topic,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

/**
 * Camera events in SQLite. A busy crossroads moves all day, so each camera keeps its newest
 * `keepPerCamera` finished events; one still going on is never dropped.
 */
export class CameraEventStore {
  constructor(
    private readonly db: Db,
    private readonly keepPerCamera = 500,
  ) {}

  /** The camera's event of this kind still going on, if any. */
  ongoing(cameraId: string, kind: CameraEventKind): CameraEventRecord | null {
    const row = this.db
      .prepare(
        `${SELECT} WHERE e.camera_id = ? AND e.kind = ? AND e.ended_at IS NULL ORDER BY e.id DESC LIMIT 1`,
      )
      .get(cameraId, kind) as EventRow | undefined;
    return row ? toRecord(row) : null;
  }

  start(cameraId: string, kind: CameraEventKind, topic: string, at: number): CameraEventRecord {
    return this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare('INSERT INTO camera_events (camera_id, kind, topic, started_at) VALUES (?, ?, ?, ?)')
        .run(cameraId, kind, topic, at);
      this.db
        .prepare(
          `DELETE FROM camera_events WHERE camera_id = @cameraId AND ended_at IS NOT NULL AND id NOT IN (
             SELECT id FROM camera_events WHERE camera_id = @cameraId ORDER BY started_at DESC, id DESC LIMIT @keep)`,
        )
        .run({ cameraId, keep: this.keepPerCamera });
      return this.get(Number(lastInsertRowid)) as CameraEventRecord;
    })();
  }

  /** Ends an event; an event ends no earlier than it started (clocks of cameras are not ours). */
  end(id: number, at: number): CameraEventRecord | null {
    this.db
      .prepare('UPDATE camera_events SET ended_at = MAX(started_at, ?) WHERE id = ? AND ended_at IS NULL')
      .run(at, id);
    return this.get(id);
  }

  get(id: number): CameraEventRecord | null {
    const row = this.db.prepare(`${SELECT} WHERE e.id = ?`).get(id) as EventRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Newest first. */
  list(filter: CameraEventFilter, page: Page): Paged<CameraEventRecord> {
    const communes = communeConditions('c.commune_id', filter);
    const clauses = [
      ...communes.clauses,
      '(@cameraId IS NULL OR e.camera_id = @cameraId)',
      '(@kind IS NULL OR e.kind = @kind)',
      '(@open = 0 OR e.ended_at IS NULL)',
    ];
    const params = {
      ...communes.params,
      cameraId: filter.cameraId ?? null,
      kind: filter.kind ?? null,
      open: filter.open ? 1 : 0,
    };
    const where = `WHERE ${clauses.join(' AND ')}`;
    const rows = this.db
      .prepare(`${SELECT} ${where} ORDER BY e.started_at DESC, e.id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: page.limit, offset: page.offset }) as EventRow[];
    const { n } = this.db
      .prepare(`SELECT COUNT(*) AS n FROM camera_events e JOIN cameras c ON c.id = e.camera_id ${where}`)
      .get(params) as { n: number };
    return { items: rows.map(toRecord), total: n, ...page };
  }
}
