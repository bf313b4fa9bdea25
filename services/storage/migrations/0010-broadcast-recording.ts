/** A live talk's recording, kept in the media library and linked from its broadcast log entry. */
export default /* sql */ `
ALTER TABLE broadcasts ADD COLUMN recording_media_id TEXT;
CREATE INDEX broadcasts_recording ON broadcasts (recording_media_id) WHERE recording_media_id IS NOT NULL;
`;
