import type { Registry } from 'prom-client';
import type { Clock } from '../../devices/index.js';
import type { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import type { AuthService } from '../accounts/auth-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BroadcastStore } from '../broadcasts/broadcast-store.js';
import type { Dispatcher } from '../broadcasts/dispatcher.js';
import type { CameraHealthService } from '../cameras/camera-health-service.js';
import type { CameraStore } from '../cameras/camera-store.js';
import type { CommandService } from '../commands/command-service.js';
import type { TelemetryStore } from '../history/telemetry-store.js';
import type { DeviceIngress } from '../ingress/device-ingress.js';
import type { MediaLibrary } from '../media/media-library.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { ScheduleService } from '../scheduling/schedule-service.js';
import type { DiskGuard } from '../storage/disk-guard.js';
import type { DemoSimulators } from './routes/demo.js';

/** What the HTTP routes reach; built once by the composition root. */
export interface ApiDeps {
  registry: RegistryStore;
  presence: PresenceService;
  commands: CommandService;
  ingress: DeviceIngress;
  metrics: Registry;
  /** Counts a request refused before a handler ran (sc_http_refused_total). */
  countRefused(method: string, status: number): void;
  auth: AuthService;
  audit: AuditLog;
  /** Event listeners that failed since start, by owner and event. */
  listenerFailures(): { owner: string; event: string; count: number }[];
  /** Sign-in attempts per minute from one address. */
  loginRateLimitPerMinute: number;
  /** Session cookie Secure flag: 'auto' sets it on HTTPS requests (and behind a trusted TLS proxy). */
  cookieSecure: boolean | 'auto';
  /** Origins allowed to call the API from a browser; empty keeps CORS closed. */
  corsOrigins: string[];
  clock: Clock;
  version: string;
  brokerStatus(): { embedded: boolean; connectedClients: number | null };
  // [media] deps
  /** The audio library: uploads, listing, deletion and signed download links. */
  media: MediaLibrary;
  // [schedules] deps
  /** Schedules, their calendar and conflicts, and the cluster groups they aim at. */
  schedules: ScheduleService;
  // [broadcasts] deps
  dispatcher: Dispatcher;
  broadcastStore: BroadcastStore;
  /** The data disk's state and the space held back for emergencies. */
  disk: DiskGuard;
  // [cameras] deps
  /** Onboarded cameras; passwords stay sealed inside. */
  cameras: CameraStore;
  /** Camera health from the poller, incidents and latest snapshots. */
  cameraHealth: CameraHealthService;
  /** The network interface WS-Discovery probes from when a request names none. */
  cameraDiscoveryInterface: string | undefined;
  /** A device credential refused outside the broker (a media download): counted and audited as on it. */
  deviceAuthFailed(event: { username: string; address: string; reason: 'unknown-or-bad-secret' }): void;
  /** Where clusters download media from, and a warning when they probably cannot. */
  mediaBase(): { url: string; source: string; warning: string | null };
  /** Where cameras may be onboarded (CAMERA_NETWORKS, never the platform's own ports). */
  cameraPolicy: CameraAddressPolicy;
  // [history] deps
  /** Heartbeat and presence history (InfluxDB or the embedded store). */
  telemetry: TelemetryStore;
  // [demo] deps
  /** The demo's simulated devices, for fault injection from the console; null outside the demo. */
  demoSimulators: DemoSimulators | null;
  // [console] deps
  console: {
    /** Leaflet tile URL template, when a tile server is configured. */
    tileUrl: string | undefined;
    tileAttribution: string | undefined;
    timeZone: string;
    demo: boolean;
    /** The built web console (index.html and assets/), or null to keep `/` on the API reference. */
    webRoot: string | null;
  };
}
