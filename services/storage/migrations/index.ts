import m0001 from './0001-registry-and-presence.js';
import m0002 from './0002-accounts-and-audit.js';
import m0003 from './0003-announcements.js';
import m0004 from './0004-dispatcher-state.js';
import m0005 from './0005-cameras.js';
import m0006 from './0006-camera-health.js';
import m0007 from './0007-delivery-progress.js';
import m0008 from './0008-play-attempts.js';
import m0009 from './0009-media-commune.js';
import m0010 from './0010-broadcast-recording.js';
import m0011 from './0011-stations.js';
import m0012 from './0012-lunar-schedules.js';
import m0013 from './0013-control-schedules.js';
import m0014 from './0014-content-approval.js';
import m0015 from './0015-provinces.js';
import m0016 from './0016-provincial-bulletins.js';
import m0017 from './0017-webhooks.js';
import m0018 from './0018-broadcast-communes.js';
import m0019 from './0019-camera-trust.js';
import m0020 from './0020-camera-channels-events.js';
import m0021 from './0021-alarms.js';
import m0022 from './0022-notifications.js';
import m0023 from './0023-firmware-readiness.js';
import m0024 from './0024-report-rollup.js';
import m0025 from './0025-camera-snapshot-account.js';
import m0026 from './0026-reach-notices.js';
import m0027 from './0027-log-outbox.js';

/**
 * Forward-only migrations, applied in order and never edited once released: a change to the
 * schema is a new entry at the end.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'registry-and-presence', sql: m0001 },
  { version: 2, name: 'accounts-and-audit', sql: m0002 },
  { version: 3, name: 'announcements', sql: m0003 },
  { version: 4, name: 'dispatcher-state', sql: m0004 },
  { version: 5, name: 'cameras', sql: m0005 },
  { version: 6, name: 'camera-health', sql: m0006 },
  { version: 7, name: 'delivery-progress', sql: m0007 },
  { version: 8, name: 'play-attempts', sql: m0008 },
  { version: 9, name: 'media-commune', sql: m0009 },
  { version: 10, name: 'broadcast-recording', sql: m0010 },
  { version: 11, name: 'stations', sql: m0011 },
  { version: 12, name: 'lunar-schedules', sql: m0012 },
  { version: 13, name: 'control-schedules', sql: m0013 },
  { version: 14, name: 'content-approval', sql: m0014 },
  { version: 15, name: 'provinces', sql: m0015 },
  { version: 16, name: 'provincial-bulletins', sql: m0016 },
  { version: 17, name: 'webhooks', sql: m0017 },
  { version: 18, name: 'broadcast-communes', sql: m0018 },
  { version: 19, name: 'camera-trust', sql: m0019 },
  { version: 20, name: 'camera-channels-events', sql: m0020 },
  { version: 21, name: 'alarms', sql: m0021 },
  { version: 22, name: 'notifications', sql: m0022 },
  { version: 23, name: 'firmware-readiness', sql: m0023 },
  { version: 24, name: 'report-rollup', sql: m0024 },
  { version: 25, name: 'camera-snapshot-account', sql: m0025 },
  { version: 26, name: 'reach-notices', sql: m0026 },
  { version: 27, name: 'log-outbox', sql: m0027 },
];
