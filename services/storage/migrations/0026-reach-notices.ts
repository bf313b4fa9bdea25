/**
 * Follow-ups of a broadcast's reach gap to village heads: a notification may be about a broadcast
 * and a village rather than an alarm, so the log is filtered by them too.
 */
export default /* sql */ `
ALTER TABLE notifications ADD COLUMN broadcast_id TEXT;
ALTER TABLE notifications ADD COLUMN village_id TEXT;
CREATE INDEX notifications_broadcast ON notifications (broadcast_id) WHERE broadcast_id IS NOT NULL;
`;
