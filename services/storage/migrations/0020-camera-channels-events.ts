/**
 * NVR channels and camera events. A camera is one channel of a device: the video source it shows
 * and the profile it streams (null: the device's first profile, as before). Several channels share
 * the device's address, so an address is unique per channel now. Motion, tamper and video-loss
 * periods from the cameras' ONVIF events, newest kept per camera.
 */
export default /* sql */ `
ALTER TABLE cameras ADD COLUMN profile_token TEXT;
ALTER TABLE cameras ADD COLUMN video_source_token TEXT;
DROP INDEX cameras_xaddr;
CREATE UNIQUE INDEX cameras_channel ON cameras (xaddr, COALESCE(video_source_token, ''));

CREATE TABLE camera_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  camera_id  TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  topic      TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at   INTEGER
);
CREATE INDEX camera_events_camera ON camera_events (camera_id, started_at);
CREATE INDEX camera_events_started ON camera_events (started_at);
`;
