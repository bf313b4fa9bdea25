/** Small durable facts of running services, such as when the dispatcher last looked at the clock. */
export default /* sql */ `
CREATE TABLE service_state (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`;
