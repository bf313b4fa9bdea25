/*
 * Every store and how it follows DATABASE_URL to PostgreSQL: written through the query layer and
 * copied into each instance's SQLite file (table-copy.ts), or written to that file and shipped
 * (shipped-log.ts). test/storage/state-stores.test.ts checks that every file using the SQLite
 * handle is named here, so no store is left local to one instance.
 */

export interface StateStore {
  name: string;
  files: readonly string[];
}

/** In PostgreSQL when DATABASE_URL is set. */
export const STATE_STORES: readonly StateStore[] = [
  {
    name: 'control schedules',
    // Written through the query layer; read from this instance's copy (table-copy.ts).
    files: ['services/commands/control-schedules.ts'],
  },
  {
    name: 'registry (provinces, communes, villages, clusters, device secrets)',
    // Written through the query layer; read from the SQLite file, which with DATABASE_URL holds
    // this instance's copy of PostgreSQL's registry (table-copy.ts).
    files: ['services/registry/registry-store.ts', 'services/registry/registry-copy.ts'],
  },
  {
    name: 'accounts (users, their communes, sessions, API tokens)',
    // Reads provinces and communes from the registry's SQLite tables (registryPlaces).
    files: ['services/accounts/account-store.ts'],
  },
  { name: 'audit log', files: ['services/audit/audit-log.ts'] },
  {
    name: 'cameras (registry, health, events)',
    // Checks communes and villages against the registry's SQLite tables (registryCameraPlaces).
    files: [
      'services/cameras/camera-store.ts',
      'services/cameras/camera-health-store.ts',
      'services/cameras/camera-event-store.ts',
    ],
  },
  {
    name: 'media (the library and its files) and the speech cache',
    // Read from this instance's copy in the SQLite file (table-copy.ts); the files are served from
    // DATA_DIR/media, fetched from PostgreSQL when another instance stored them.
    files: [
      'services/media/media-library.ts',
      'services/media/media-copy.ts',
      'services/tts/speech-cache.ts',
    ],
  },
  {
    name: 'stations',
    // Read from this instance's copy (table-copy.ts); the relay switches stay with the broadcasts.
    files: ['services/stations/station-store.ts', 'services/stations/station-copy.ts'],
  },
  {
    name: 'notification recipients, village heads, rules and quiet hours',
    // Read from this instance's copy (table-copy.ts) for every notice routed.
    files: ['services/notifications/recipient-store.ts', 'services/notifications/recipient-copy.ts'],
  },
  {
    name: 'schedules, groups and approvals',
    // Written through the query layer; read from this instance's copy in the SQLite file
    // (schedule-copy.ts), where the dispatcher expands them on every wake-up.
    files: [
      'services/schedules/schedule-store.ts',
      'services/schedules/schedule-service.ts',
      'services/schedules/group-store.ts',
      'services/schedules/approval-store.ts',
      'services/schedules/schedule-copy.ts',
    ],
  },
  {
    name: 'provincial bulletins and their receipts',
    // Written through the query layer; read from this instance's copy (table-copy.ts), where the
    // broadcast log and the reports meet them.
    files: ['services/bulletins/bulletin-store.ts', 'services/bulletins/bulletin-copy.ts'],
  },
  {
    name: 'firmware images (and their files), rollouts and their clusters',
    // Read from this instance's copy (table-copy.ts); image files are served from DATA_DIR/firmware,
    // fetched from PostgreSQL when another instance received them.
    files: [
      'services/firmware/firmware-library.ts',
      'services/firmware/rollout-store.ts',
      'services/firmware/firmware-copy.ts',
    ],
  },
  {
    name: 'readiness drills, their verdicts and weekly drills',
    // Read from this instance's copy (table-copy.ts) by the drill loop and the weekly scheduler.
    files: ['services/readiness/drill-store.ts', 'services/readiness/drill-copy.ts'],
  },
  {
    name: 'alarms, village outages and maintenance windows',
    // Written through the query layer; read from this instance's copy (alarm-copy.ts) by the
    // console, the engine (on the camera poller's holder) and the availability reports.
    files: [
      'services/alarms/alarm-store.ts',
      'services/alarms/alarm-copy.ts',
      'services/alarms/maintenance-downtime.ts',
    ],
  },
  {
    name: 'webhooks, their deliveries and attempts',
    // Read from this instance's copy (webhook-copy.ts): the outbox is bounded per webhook.
    files: ['services/sharing/webhook-store.ts', 'services/sharing/webhook-copy.ts'],
  },
  {
    name: 'broadcasts and deliveries, relay switches, emergency reviews, the dispatcher state',
    // Written to this instance's SQLite file on the dispatcher's hot path and shipped to PostgreSQL
    // behind it; the other instances copy it from there (broadcast-log.ts, shipped-log.ts).
    files: ['services/broadcasts/broadcast-store.ts', 'services/broadcasts/broadcast-log.ts'],
  },
  {
    name: 'device commands',
    // Shipped and copied like the broadcast log.
    files: ['services/commands/command-store.ts'],
  },
  {
    name: 'presence history',
    // Recorded by the `presence-history` lease's holder and shipped; the current status is each
    // instance's own, every instance following every device's sessions through Redis.
    files: ['services/presence/presence-store.ts'],
  },
  {
    name: 'the notification log',
    // Shipped and copied like the broadcast log; the outbox's holder sends what any instance queued.
    files: ['services/notifications/notification-log.ts'],
  },
  {
    name: 'reports',
    // Read from this instance's copy of the broadcast log; each instance builds its own rollup.
    files: ['services/reports/summary-queries.ts', 'services/reports/report-rollup.ts'],
  },
];
