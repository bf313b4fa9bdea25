import type { CameraEvent } from '../../contracts/cameras.js';
import type { CameraLive, ClusterLive, RawMessage } from '../../contracts/realtime.js';
import type { ClusterStatus } from '../../contracts/registry.js';
import { type CameraEventRecord, cameraEventView } from '../cameras/camera-event-store.js';
import type { CameraStatus } from '../cameras/camera-health-service.js';
import type { ClusterRecord } from '../registry/cluster-record.js';

/** A device's raw traffic is shown as text, cut so one noisy payload cannot flood a console. */
export const RAW_PAYLOAD_MAX_BYTES = 4096;

export function clusterLive(
  cluster: ClusterRecord,
  status: ClusterStatus,
  speakerHealth: (idx: number) => { ok: boolean | null; fault: string | null },
): ClusterLive {
  return {
    id: cluster.id,
    communeId: cluster.communeId,
    villageId: cluster.villageId,
    online: status.online,
    since: status.since,
    reason: status.reason,
    lastSeen: status.lastSeen,
    signalDbm: status.signalDbm,
    volume: status.volume,
    playing: status.playing,
    temperatureC: status.tempC,
    supplyV: status.supplyV,
    speakers: cluster.speakers.map(({ idx }) => ({ idx, ...speakerHealth(idx) })),
    stream: status.stream,
  };
}

export function cameraLive(camera: { id: string; communeId: string }, status: CameraStatus): CameraLive {
  return {
    id: camera.id,
    communeId: camera.communeId,
    state: status.state,
    since: new Date(status.since).toISOString(),
    reason: status.reason,
    detail: status.detail,
    lastPollAt: status.lastPollAt === null ? null : new Date(status.lastPollAt).toISOString(),
  };
}

/** A camera event as GET /api/v1/camera-events shows it. */
export function cameraEventLive(event: CameraEventRecord, now: number): CameraEvent {
  return cameraEventView(event, now);
}

/** A message on `sc/v1/{id}/…`: commands are what the platform sent, everything else the device. */
export function rawMessage(deviceId: string, topic: string, payload: Buffer, at: number): RawMessage {
  return {
    deviceId,
    topic,
    direction: topic.endsWith('/cmd') ? 'out' : 'in',
    payload: payload.subarray(0, RAW_PAYLOAD_MAX_BYTES).toString('utf8'),
    at: new Date(at).toISOString(),
  };
}
