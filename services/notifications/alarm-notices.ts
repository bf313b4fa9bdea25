import type { Severity } from '../../contracts/alarms.js';
import type { NoticeKind } from '../../contracts/notifications.js';
import type { AlarmRecord, IncidentRecord } from '../alarms/alarm-store.js';

/**
 * An alarm or a village outage that people are told of, opened or cleared: the unit routing,
 * quiet hours and digests work on, and what the `alarm` webhooks carry. A village outage stands
 * for the offline alarms of its devices, which are not told one by one.
 */
export interface AlarmNotice {
  id: string;
  subject: 'alarm' | 'village-outage';
  change: 'opened' | 'cleared';
  alarmId: string | null;
  incidentId: string | null;
  kind: NoticeKind;
  severity: Severity;
  communeId: string;
  villageId: string | null;
  deviceIds: string[];
  detail: string;
  /** Raised under a maintenance window: logged, told to nobody. */
  held: boolean;
  at: number;
}

/** A village outage is as severe as what it stands for: speakers and cameras of a village gone. */
const OUTAGE_SEVERITY: Severity = 'critical';

/**
 * The notice an alarm's change makes, or null: acknowledgements are not told, and an alarm that
 * opened as part of a village outage is told as the outage.
 */
export function alarmNotice(
  alarm: AlarmRecord,
  change: 'opened' | 'acknowledged' | 'cleared',
  at: number,
): Omit<AlarmNotice, 'id'> | null {
  if (change === 'acknowledged') return null;
  if (change === 'opened' && alarm.incidentId !== null) return null;
  return {
    subject: 'alarm',
    change,
    alarmId: alarm.id,
    incidentId: alarm.incidentId,
    kind: alarm.kind,
    severity: alarm.severity,
    communeId: alarm.communeId,
    villageId: alarm.villageId,
    deviceIds: [alarm.deviceId],
    detail: alarm.detail,
    held: alarm.held,
    at,
  };
}

/**
 * The notice a village outage's change makes: opened while it lasts, cleared once every device is
 * back (devices joining or coming back one by one change neither). Whether it is new is the
 * caller's to know (each outage is told opened once, cleared once).
 */
export function incidentNotice(incident: IncidentRecord, held: boolean, at: number): Omit<AlarmNotice, 'id'> {
  const cleared = incident.clearedAt !== null;
  return {
    subject: 'village-outage',
    change: cleared ? 'cleared' : 'opened',
    alarmId: null,
    incidentId: incident.id,
    kind: 'village-outage',
    severity: OUTAGE_SEVERITY,
    communeId: incident.communeId,
    villageId: incident.villageId,
    deviceIds: incident.devices.map((d) => d.deviceId),
    detail: `${incident.devices.length} devices dropped together`,
    held,
    at,
  };
}
