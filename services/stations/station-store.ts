import type { z } from 'zod';
import {
  type Fallback,
  type STATION_HEALTH,
  type Station,
  type StationCreate,
  StationCreateSchema,
  type StationPatchSchema,
} from '../../contracts/stations.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { translateConstraint } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import { isoTime, isoTimeOrNull } from '../time.js';

type Health = (typeof STATION_HEALTH)[number];

interface Row {
  id: string;
  name: string;
  url: string;
  kind: Station['kind'];
  fallback: string;
  health: Health;
  health_detail: string | null;
  checked_at: number | null;
  created_at: number;
  updated_at: number;
}

const toStation = (r: Row): Station => ({
  id: r.id,
  name: r.name,
  url: r.url,
  kind: r.kind,
  fallback: JSON.parse(r.fallback) as Fallback,
  health: { state: r.health, detail: r.health_detail, checkedAt: isoTimeOrNull(r.checked_at) },
  createdAt: isoTime(r.created_at),
  updatedAt: isoTime(r.updated_at),
});

/** The stations admins keep, with each one's last health check. */
export class StationStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  list(): Station[] {
    return (this.db.prepare('SELECT * FROM stations ORDER BY name').all() as Row[]).map(toStation);
  }

  get(id: string): Station {
    const row = this.db.prepare('SELECT * FROM stations WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new NotFoundError('station', id);
    return toStation(row);
  }

  create(input: StationCreate): Station {
    const station = StationCreateSchema.parse(input);
    this.checkFallback(station.id, station.fallback);
    const at = this.now();
    translateConstraint({ duplicateId: `station "${station.id}" already exists` }, () =>
      this.db
        .prepare(
          `INSERT INTO stations (id, name, url, kind, fallback, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(station.id, station.name, station.url, station.kind, JSON.stringify(station.fallback), at, at),
    );
    return this.get(station.id);
  }

  update(id: string, patch: z.infer<typeof StationPatchSchema>): Station {
    const current = this.get(id);
    const next = { ...current, ...patch };
    if (patch.fallback) this.checkFallback(id, patch.fallback);
    this.db
      .prepare(
        `UPDATE stations SET name = ?, url = ?, kind = ?, fallback = ?, updated_at = ?,
           health = CASE WHEN url = ? THEN health ELSE 'unknown' END
         WHERE id = ?`,
      )
      .run(next.name, next.url, next.kind, JSON.stringify(next.fallback), this.now(), next.url, id);
    return this.get(id);
  }

  delete(id: string): Station {
    const station = this.get(id);
    const users = this.list().filter((s) => s.fallback.kind === 'station' && s.fallback.stationId === id);
    if (users.length > 0)
      throw new InvalidRequestError(
        `station "${id}" is the fallback of ${users.map((s) => s.name).join(', ')}`,
      );
    this.db.prepare('DELETE FROM stations WHERE id = ?').run(id);
    return station;
  }

  /** Records a check's outcome (before or during a relay). */
  setHealth(id: string, state: Health, detail: string | null): void {
    this.db
      .prepare('UPDATE stations SET health = ?, health_detail = ?, checked_at = ? WHERE id = ?')
      .run(state, detail?.slice(0, 500) ?? null, this.now(), id);
  }

  /** A fallback station must exist and must not be the station itself. */
  private checkFallback(id: string, fallback: Fallback): void {
    if (fallback.kind !== 'station') return;
    if (fallback.stationId === id)
      throw new InvalidRequestError('body.fallback.stationId: a station cannot be its own fallback');
    this.get(fallback.stationId);
  }
}
