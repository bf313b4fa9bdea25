/**
 * A play the platform itself made fail (its restart cut the media download) is tried again as a
 * fresh attempt under the same command id; clusters tell it from a repeat by this number.
 */
export default /* sql */ `
ALTER TABLE deliveries ADD COLUMN play_attempt INTEGER NOT NULL DEFAULT 1;
`;
