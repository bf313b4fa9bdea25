/*
 * The media library and the speech cache in PostgreSQL (SQLite 0003 + 0009 + 0014), and the audio
 * files themselves: with DATABASE_URL every instance must serve every item, and PostgreSQL is the
 * one thing they all reach. A file is kept as rows of up to 256 KiB, read and written one row at a
 * time (never the whole file in memory), removed with its item by the cascade. Large objects would
 * do the same but outlive their row unless unlinked by hand, and need their own grants and
 * vacuumlo; ordinary rows go with pg_dump, replication and ON DELETE like the rest.
 */
export const mediaMigration = /* sql */ `
CREATE TABLE media (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  mime        TEXT NOT NULL,
  ext         TEXT NOT NULL,
  size_bytes  BIGINT NOT NULL,
  sha256      TEXT NOT NULL,
  duration_s  DOUBLE PRECISION NOT NULL,
  created_at  BIGINT NOT NULL,
  created_by  TEXT,
  -- No foreign key, as in SQLite: NULL is the shared library.
  commune_id  TEXT
);
CREATE INDEX media_commune ON media (commune_id, created_at);

CREATE TABLE media_chunks (
  media_id  TEXT NOT NULL REFERENCES media(id) ON DELETE CASCADE,
  seq       INTEGER NOT NULL CHECK (seq >= 0),
  data      BYTEA NOT NULL,
  PRIMARY KEY (media_id, seq)
);

CREATE TABLE speech_cache (
  key         TEXT PRIMARY KEY,
  media_id    TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
`;
