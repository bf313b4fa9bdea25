import type { Logger } from 'pino';
import type { Clock } from '../../devices/index.js';
import { DISCOVERY_PORT } from './discovery.js';
import type { CameraFault } from './faults.js';

export interface SimulatedCameraOptions {
  /** Shown in scopes, GetScopes and the snapshot overlay; may be Vietnamese. */
  name: string;
  location?: string;
  manufacturer?: string;
  /** ONVIF hardware scope and GetDeviceInformation Model. */
  model?: string;
  firmwareVersion?: string;
  username?: string;
  password?: string;
  /** Address the listeners bind to (default 127.0.0.1). */
  host?: string;
  /** Host written into XAddrs and URIs (default: host, or the first external IPv4 when host is 0.0.0.0). */
  advertisedHost?: string;
  /** 0 picks a free port; the chosen port is kept across reboots. */
  httpPort?: number;
  rtspPort?: number;
  /** WS-Discovery UDP port; 3702 by default, 0 for an ephemeral one, null to not answer probes. */
  discoveryPort?: number | null;
  clock: Clock;
  logger: Logger;
  /** Makes the uuid, serial number and snapshot backdrop reproducible (default: from the name). */
  seed?: number;
  /** Faults present from the start. */
  faults?: readonly CameraFault[];
  /** More than 1 makes it an NVR: one video source, profile, stream and snapshot per channel. */
  channels?: number;
  /** Whether it offers the ONVIF Events service (motion, tamper, video loss); default true. */
  events?: boolean;
}

export const CAMERA_DEFAULTS = {
  location: 'Huong Dao',
  manufacturer: 'SmartCommune',
  model: 'SC-IPC-2MP',
  firmwareVersion: 'V5.7.3 build 261122',
  username: 'admin',
  password: 'admin123',
  host: '127.0.0.1',
  httpPort: 0,
  rtspPort: 0,
  discoveryPort: DISCOVERY_PORT,
} as const;
