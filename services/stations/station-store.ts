import { sql } from 'kysely';
import type { Logger } from 'pino';
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
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import type { TableCopy, TableTouch } from '../storage/sql/table-copy.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import { stationCopy } from './station-copy.js';

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

/** A committed change to a station, whoever made it (this instance or another). */
export interface StationChange {
  id: string;
  change: TableTouch['change'];
}

export interface StationStoreOptions {
  /** The platform's SQLite file: the stations themselves, or their read copy with DATABASE_URL. */
  db: Db;
  /** Where writes go: the same file, or PostgreSQL. */
  state: StateDatabase;
  now: () => number;
  logger: Logger;
  onChange?: (change: StationChange) => void;
}

/**
 * The stations admins keep, with each one's last health check. Reads are answered from the
 * platform's SQLite file; writes go through the query layer, to that file or to PostgreSQL, whose
 * changes every instance copies into its file (station-copy.ts).
 */
export class StationStore {
  private readonly db: Db;
  private readonly state: StateDatabase;
  private readonly now: () => number;
  private readonly onChange: (change: StationChange) => void;
  private readonly copy: TableCopy;

  constructor(options: StationStoreOptions) {
    this.db = options.db;
    this.state = options.state;
    this.now = options.now;
    this.onChange = options.onChange ?? (() => undefined);
    this.copy = stationCopy(options.db, options.state, options.logger);
  }

  /** With PostgreSQL: fills this instance's copy, then follows the other instances' changes. */
  async start(): Promise<void> {
    await this.copy.start((touch) => {
      if (!touch.quiet) this.onChange({ id: touch.id, change: touch.change });
    });
  }

  async stop(): Promise<void> {
    await this.copy.stop();
  }

  list(): Station[] {
    return (this.db.prepare('SELECT * FROM stations ORDER BY name').all() as Row[]).map(toStation);
  }

  get(id: string): Station {
    const row = this.db.prepare('SELECT * FROM stations WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new NotFoundError('station', id);
    return toStation(row);
  }

  async create(input: StationCreate): Promise<Station> {
    const station = StationCreateSchema.parse(input);
    await this.checkFallback(station.id, station.fallback);
    const at = this.now();
    await this.write({ table: 'stations', id: station.id, change: 'created' }, (trx) =>
      trx
        .insertInto('stations')
        .values({
          id: station.id,
          name: station.name,
          url: station.url,
          kind: station.kind,
          fallback: JSON.stringify(station.fallback),
          health: 'unknown',
          health_detail: null,
          checked_at: null,
          created_at: at,
          updated_at: at,
        })
        .execute(),
    );
    this.onChange({ id: station.id, change: 'created' });
    return this.get(station.id);
  }

  async update(id: string, patch: z.infer<typeof StationPatchSchema>): Promise<Station> {
    const current = await this.present(id);
    const next = { ...current, ...patch };
    if (patch.fallback) await this.checkFallback(id, patch.fallback);
    await this.write({ table: 'stations', id, change: 'updated' }, (trx) =>
      trx
        .updateTable('stations')
        .set({
          name: next.name,
          url: next.url,
          kind: next.kind,
          fallback: JSON.stringify(next.fallback),
          updated_at: this.now(),
          // A new address has not been checked yet.
          health: sql<string>`CASE WHEN url = ${next.url} THEN health ELSE 'unknown' END`,
        })
        .where('id', '=', id)
        .execute(),
    );
    this.onChange({ id, change: 'updated' });
    return this.get(id);
  }

  async delete(id: string): Promise<Station> {
    const station = await this.present(id);
    await this.write({ table: 'stations', id, change: 'deleted' }, async (trx) => {
      // Checked where the stations are written: another instance may have named it a moment ago.
      const all = await trx.selectFrom('stations').select(['name', 'fallback']).execute();
      const users = all.filter((s) => {
        const fallback = JSON.parse(s.fallback) as Fallback;
        return fallback.kind === 'station' && fallback.stationId === id;
      });
      if (users.length > 0)
        throw new InvalidRequestError(
          `station "${id}" is the fallback of ${users.map((s) => s.name).join(', ')}`,
        );
      await trx.deleteFrom('stations').where('id', '=', id).execute();
    });
    this.onChange({ id, change: 'deleted' });
    return station;
  }

  /**
   * Records a check's outcome (before or during a relay): told to the other instances, but not as
   * a change of the station (its updated_at stays).
   */
  async setHealth(id: string, state: Health, detail: string | null): Promise<void> {
    await this.write({ table: 'stations', id, change: 'updated', quiet: true }, (trx) =>
      trx
        .updateTable('stations')
        .set({ health: state, health_detail: detail?.slice(0, 500) ?? null, checked_at: this.now() })
        .where('id', '=', id)
        .execute(),
    );
  }

  /**
   * One write in one transaction of the query layer, announced to the other instances when it
   * commits, then copied here (with PostgreSQL) before anyone reads it.
   */
  private async write(touch: TableTouch, work: (trx: StateTransaction) => Promise<unknown>): Promise<void> {
    await translateConstraintAsync({ duplicateId: `station "${touch.id}" already exists` }, () =>
      this.state.transaction(async (trx) => {
        await work(trx);
        await this.copy.announce(trx, touch);
      }),
    );
    await this.copy.copy(touch);
  }

  /** A station read here, or with PostgreSQL copied from there once before it is called missing. */
  private async present(id: string): Promise<Station> {
    try {
      return this.get(id);
    } catch (error) {
      if (!(error instanceof NotFoundError) || !this.copy.remote) throw error;
      await this.copy.copy({ table: 'stations', id });
      return this.get(id);
    }
  }

  /** A fallback station must exist and must not be the station itself. */
  private async checkFallback(id: string, fallback: Fallback): Promise<void> {
    if (fallback.kind !== 'station') return;
    if (fallback.stationId === id)
      throw new InvalidRequestError('body.fallback.stationId: a station cannot be its own fallback');
    await this.present(fallback.stationId);
  }
}
