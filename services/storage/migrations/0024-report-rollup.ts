/**
 * The summary report's daily rollup: per local day (in TZ_DEFAULT) and commune, what the broadcasts
 * that started that day add up to, so a province's month is read from a few thousand rows rather
 * than every delivery of the month. A day is written once all its broadcasts are final
 * (`report_days` marks it); triggers drop the mark whenever the broadcast log or the clusters'
 * placement changes under it, and the report then reads that day from the log until it is built
 * again. The marks live in the database, so they hold across restarts and for every writer.
 *
 * Also gives the illustrative pilot communes the codes of the national list of 1 July 2025 where
 * it has them (Thổ Tang, Tam Đảo), unless an operator entered a code already.
 */
/** Two days in ms: wider than any local day (23 to 25 hours), so a day is found by its start. */
const SPAN = 172_800_000;
/** Drops the rollup of the day that an instant (a broadcast's start) falls in. */
const dropDayOf = (instant: string) =>
  `DELETE FROM report_days WHERE day_start > ${instant} - ${SPAN} AND day_start <= ${instant} AND day_end > ${instant};`;
const startOf = (broadcast: string) => `(SELECT start_at FROM broadcasts WHERE id = ${broadcast})`;

export default /* sql */ `
CREATE TABLE report_days (
  day_start   INTEGER PRIMARY KEY,               -- the local day's first instant, ms
  day_end     INTEGER NOT NULL,                  -- the next day's first instant
  time_zone   TEXT NOT NULL,
  built_at    INTEGER NOT NULL
);

-- Per day, commune, level and origin: the broadcasts that reached the commune and their deliveries
-- to its clusters, as SummaryQueries.byCommune adds them up. Only final states: a day is built once
-- none is open.
CREATE TABLE report_day_communes (
  day_start         INTEGER NOT NULL,
  commune_id        TEXT NOT NULL,
  level             TEXT NOT NULL,
  from_province     INTEGER NOT NULL,
  bulletins         INTEGER NOT NULL,
  solo              INTEGER NOT NULL,          -- of them, those that reached no other commune
  targeted          INTEGER NOT NULL,
  heard             INTEGER NOT NULL,
  aired_ms          INTEGER NOT NULL,
  cluster_aired_ms  INTEGER NOT NULL,
  speaker_faults    INTEGER NOT NULL,
  done              INTEGER NOT NULL,
  failed            INTEGER NOT NULL,
  missed            INTEGER NOT NULL,
  pre_empted        INTEGER NOT NULL,
  expired           INTEGER NOT NULL,
  stopped           INTEGER NOT NULL,
  PRIMARY KEY (day_start, commune_id, level, from_province)
) WITHOUT ROWID;

-- Which communes each broadcast that reached several reached: counted once in a scope of some of them.
CREATE TABLE report_day_reach (
  day_start      INTEGER NOT NULL,
  commune_id     TEXT NOT NULL,
  broadcast_id   TEXT NOT NULL,
  level          TEXT NOT NULL,
  from_province  INTEGER NOT NULL,
  PRIMARY KEY (day_start, commune_id, broadcast_id)
) WITHOUT ROWID;

-- Deliveries that ended failed, missed or expired, by commune and reason.
CREATE TABLE report_day_faults (
  day_start   INTEGER NOT NULL,
  commune_id  TEXT NOT NULL,
  state       TEXT NOT NULL,
  reason      TEXT,
  count       INTEGER NOT NULL
);
CREATE INDEX report_day_faults_day ON report_day_faults (day_start, commune_id);

-- Clusters that were removed: their deliveries count again if a cluster of the same id returns.
CREATE TABLE report_departed_clusters (id TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO report_departed_clusters (id)
  SELECT DISTINCT cluster_id FROM deliveries WHERE cluster_id NOT IN (SELECT id FROM clusters);

CREATE TRIGGER report_days_broadcast_added AFTER INSERT ON broadcasts BEGIN
  ${dropDayOf('NEW.start_at')}
END;
CREATE TRIGGER report_days_broadcast_changed AFTER UPDATE OF start_at, end_at, level, bulletin_id ON broadcasts BEGIN
  ${dropDayOf('OLD.start_at')}
  ${dropDayOf('NEW.start_at')}
END;
CREATE TRIGGER report_days_broadcast_removed AFTER DELETE ON broadcasts BEGIN
  ${dropDayOf('OLD.start_at')}
END;
-- Deliveries are written with their broadcast, in its transaction (BroadcastStore.insert): the
-- broadcast's trigger drops the day, so an emergency to 10,000 clusters pays no trigger per delivery.
-- Only what the report reads, and only of a final delivery: a day is rolled up once every delivery
-- of it is final, so the dispatcher's steps of a delivery under way (sent, accepted, playing, its
-- retries) never fire it; a late report correcting a final one does.
CREATE TRIGGER report_days_delivery_changed
  AFTER UPDATE OF state, reason, started_at, finished_at, speakers, cluster_id ON deliveries
  WHEN OLD.state IN ('done', 'failed', 'missed', 'pre-empted', 'expired', 'stopped') BEGIN
  ${dropDayOf(startOf('NEW.broadcast_id'))}
END;
CREATE TRIGGER report_days_delivery_removed AFTER DELETE ON deliveries BEGIN
  ${dropDayOf(startOf('OLD.broadcast_id'))}
END;

-- A cluster placed in another commune, removed, or back: every day is read afresh (rare, admin work).
CREATE TRIGGER report_days_cluster_moved AFTER UPDATE OF village_id ON clusters
  WHEN (SELECT commune_id FROM villages WHERE id = OLD.village_id)
    IS NOT (SELECT commune_id FROM villages WHERE id = NEW.village_id) BEGIN
  DELETE FROM report_days;
END;
CREATE TRIGGER report_days_cluster_removed AFTER DELETE ON clusters BEGIN
  DELETE FROM report_days;
  INSERT OR IGNORE INTO report_departed_clusters (id) VALUES (OLD.id);
END;
CREATE TRIGGER report_days_cluster_back AFTER INSERT ON clusters
  WHEN EXISTS (SELECT 1 FROM report_departed_clusters WHERE id = NEW.id) BEGIN
  DELETE FROM report_days;
  DELETE FROM report_departed_clusters WHERE id = NEW.id;
END;
CREATE TRIGGER report_days_village_moved AFTER UPDATE OF commune_id ON villages
  WHEN OLD.commune_id IS NOT NEW.commune_id BEGIN
  DELETE FROM report_days;
END;

UPDATE communes SET code = '09112'
  WHERE id = 'tho-tang' AND name = 'Thổ Tang' AND province_id = 'phu-tho' AND code IS NULL
    AND NOT EXISTS (SELECT 1 FROM communes WHERE code = '09112');
UPDATE communes SET code = '08911'
  WHERE id = 'tam-dao' AND name = 'Tam Đảo' AND province_id = 'phu-tho' AND code IS NULL
    AND NOT EXISTS (SELECT 1 FROM communes WHERE code = '08911');
`;
