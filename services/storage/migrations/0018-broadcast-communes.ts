/**
 * The communes each broadcast reached, so a commune's or a province's broadcast log is read by
 * commune in an index instead of by looking through every delivery of the period.
 */
export default /* sql */ `
CREATE TABLE broadcast_communes (
  broadcast_id TEXT NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  commune_id   TEXT NOT NULL,
  PRIMARY KEY (commune_id, broadcast_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO broadcast_communes (broadcast_id, commune_id)
  SELECT DISTINCT d.broadcast_id, v.commune_id FROM deliveries d
  JOIN clusters c ON c.id = d.cluster_id JOIN villages v ON v.id = c.village_id;
`;
