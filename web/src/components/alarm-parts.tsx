import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { AlarmView, Severity } from '../../../contracts/alarms';
import type { Page } from '../api/client';
import type { Camera, Cluster } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { useFormat } from '../format';
import { allowed, useSession } from '../session';
import { TechnicalDetail } from './technical-detail';

/** A speaker cluster or a camera, as the alarm views name and place it. */
export interface AlarmDevice {
  id: string;
  kind: 'cluster' | 'camera';
  name: string;
  communeId: string;
  villageId: string | null;
}

const SEVERITY_CLASS: Record<Severity, string> = { critical: 'bad', warning: 'pending', info: '' };

/**
 * The clusters and, for those who may list them (technicians), the cameras the account reaches:
 * names for the ids alarms carry, and what a maintenance window may hold.
 */
export function useAlarmDevices() {
  const seesCameras = allowed(useSession().me.roles, ['technician', 'police']);
  const clusters = useFetch<Page<Cluster>>('/api/v1/clusters', { limit: 500 });
  const cameras = useFetch<Page<Camera>>(seesCameras ? '/api/v1/cameras' : null, { limit: 500 });
  return useMemo(() => {
    const list: AlarmDevice[] = [
      ...(clusters.data?.items ?? []).map((c) => ({
        id: c.id,
        kind: 'cluster' as const,
        name: c.name,
        communeId: c.communeId,
        villageId: c.villageId,
      })),
      ...(cameras.data?.items ?? []).map((c) => ({
        id: c.id,
        kind: 'camera' as const,
        name: c.name,
        communeId: c.communeId,
        villageId: c.villageId,
      })),
    ];
    return { list, byId: new Map(list.map((d) => [d.id, d])), error: clusters.error ?? cameras.error };
  }, [clusters.data, clusters.error, cameras.data, cameras.error]);
}

export function SeverityChip({ severity }: { severity: Severity }) {
  const { t } = useTranslation();
  return (
    <span
      className={`badge ${SEVERITY_CLASS[severity]}`}
      data-testid="alarm-severity"
      data-severity={severity}
    >
      {t(`severity.${severity}`)}
    </span>
  );
}

/** A device by its name; on a technician's console a cluster links to its device page. */
export function DeviceName({
  id,
  kind,
  devices,
}: {
  id: string;
  kind: 'cluster' | 'camera';
  devices: ReadonlyMap<string, AlarmDevice>;
}) {
  const { t } = useTranslation();
  const technician = allowed(useSession().me.roles, ['technician']);
  const name = devices.get(id)?.name ?? id;
  return (
    <>
      {technician && kind === 'cluster' ? (
        <Link href={`/devices/${encodeURIComponent(id)}`} data-testid="alarm-device-link">
          {name}
        </Link>
      ) : (
        name
      )}
      <div className="muted">{t(`alarms.deviceKind.${kind}`)}</div>
    </>
  );
}

/** Who took the alarm and what they are doing about it, or that no one has yet. */
export function AlarmState({ alarm }: { alarm: AlarmView }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <>
      <span className={`state-${alarm.state}`} data-testid="alarm-state">
        {t(`alarmState.${alarm.state}`)}
      </span>
      {alarm.acknowledgedAt ? (
        <div className="muted" data-testid="alarm-acknowledged">
          {t('alarms.acknowledgedBy', {
            who: alarm.acknowledgedBy ?? t('common.none'),
            time: format.dateTime(alarm.acknowledgedAt),
          })}
        </div>
      ) : null}
      <AlarmNote note={alarm.note} />
    </>
  );
}

/** What the one who acknowledged wrote, on its own line. */
export function AlarmNote({ note }: { note: string | null }) {
  return note ? (
    <div data-testid="alarm-note">
      <q>{note}</q>
    </div>
  ) : null;
}

/** The marks an alarm may carry: held by a maintenance window, part of a village outage. */
export function AlarmMarks({ alarm }: { alarm: AlarmView }) {
  const { t } = useTranslation();
  return (
    <>
      {alarm.held ? (
        <span className="badge" data-testid="alarm-held">
          {t('alarms.held')}
        </span>
      ) : null}
      {alarm.incidentId ? (
        <span className="badge" data-testid="alarm-in-outage">
          {t('alarms.inOutage')}
        </span>
      ) : null}
    </>
  );
}

/** What the device reported, in the platform's own words, folded away. */
export function AlarmDetail({ detail }: { detail: string }) {
  return detail ? <TechnicalDetail text={detail} /> : null;
}
