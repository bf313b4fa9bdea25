/**
 * Text read aloud kept as media; what each item of a programme did on each cluster; content
 * approval (duyệt nội dung): which communes require it, where each schedule stands, who approved
 * a broadcast, and the review of emergencies that could not wait.
 */
export default /* sql */ `
CREATE TABLE speech_cache (
  key         TEXT PRIMARY KEY,               -- SHA-256 of engine, voice and the text as read
  media_id    TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

ALTER TABLE deliveries ADD COLUMN items TEXT;  -- JSON: a programme's item outcomes as reported

ALTER TABLE communes ADD COLUMN approval_required INTEGER NOT NULL DEFAULT 0;

ALTER TABLE schedules ADD COLUMN approval_state TEXT NOT NULL DEFAULT 'not-required';
ALTER TABLE schedules ADD COLUMN approved_by TEXT;

CREATE TABLE approval_steps (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  subject_type TEXT NOT NULL,                 -- schedule, broadcast
  subject_id   TEXT NOT NULL,
  step         TEXT NOT NULL,                 -- submitted, approved, returned, withdrawn, reviewed
  actor        TEXT NOT NULL,
  comment      TEXT,
  at           INTEGER NOT NULL
);
CREATE INDEX approval_steps_subject ON approval_steps (subject_type, subject_id, id);

ALTER TABLE broadcasts ADD COLUMN approved_by TEXT;
ALTER TABLE broadcasts ADD COLUMN review_state TEXT; -- pending, reviewed; null when none is due
ALTER TABLE broadcasts ADD COLUMN reviewed_by TEXT;
`;
