import type { OutageView } from '../../contracts/alarms.js';
import { isoTime, isoTimeOrNull } from '../time.js';
import type { IncidentRecord } from './alarm-store.js';

/**
 * A village outage for the camera wall: its village and the cameras it blinds, without the
 * speaker clusters (police see cameras, never cluster data).
 */
export function outageView(
  incident: IncidentRecord,
  villageName: string,
  cameraName: (id: string) => string | null,
): OutageView {
  return {
    id: incident.id,
    communeId: incident.communeId,
    villageId: incident.villageId,
    villageName,
    open: incident.clearedAt === null,
    openedAt: isoTime(incident.openedAt),
    clearedAt: isoTimeOrNull(incident.clearedAt),
    devices: incident.devices.length,
    blindCameras: incident.devices
      .filter((d) => d.deviceKind === 'camera' && !d.back)
      .map((d) => ({ cameraId: d.deviceId, name: cameraName(d.deviceId) })),
  };
}
