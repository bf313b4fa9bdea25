import { useTranslation } from 'react-i18next';
import type { AlarmView, IncidentView, Severity } from '../../../contracts/alarms';
import type { ApiError } from '../api/client';
import { useFormat } from '../format';
import type { AckRequest } from './alarm-ack';
import {
  AlarmDetail,
  type AlarmDevice,
  AlarmMarks,
  AlarmState,
  DeviceName,
  SeverityChip,
} from './alarm-parts';
import { DataTable } from './data-table';

/** A row of the active list: a village outage with its devices' alarms, or an alarm on its own. */
export type ActiveRow = { outage: IncidentView; alarms: AlarmView[] } | { alarm: AlarmView };

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/**
 * Outages first, each as one row holding the alarms of its devices (a power cut of a village is
 * one thing to act on, not one per cluster), then the other alarms in the platform's order.
 */
export function activeRows(alarms: readonly AlarmView[], outages: readonly IncidentView[]): ActiveRow[] {
  const grouped = new Set(outages.map((o) => o.id));
  return [
    ...outages.map((outage) => ({ outage, alarms: alarms.filter((a) => a.incidentId === outage.id) })),
    ...alarms.filter((a) => !a.incidentId || !grouped.has(a.incidentId)).map((alarm) => ({ alarm })),
  ];
}

function worst(alarms: readonly AlarmView[]): Severity | null {
  return alarms.reduce<Severity | null>(
    (found, a) => (found === null || SEVERITY_RANK[a.severity] < SEVERITY_RANK[found] ? a.severity : found),
    null,
  );
}

export function ActiveAlarms({
  rows,
  devices,
  villageName,
  acts,
  onAck,
  error,
}: {
  rows: ActiveRow[] | undefined;
  devices: ReadonlyMap<string, AlarmDevice>;
  villageName: (id: string | null) => string;
  /** Whether the account may acknowledge (operators and technicians). */
  acts: boolean;
  onAck: (request: AckRequest) => void;
  error: ApiError | null;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const kindName = (kind: string) => t(`alarmKind.${kind}`, { defaultValue: kind });
  return (
    <DataTable
      error={error}
      empty={t('alarms.noneActive')}
      testId="alarms-active"
      rows={rows}
      rowKey={(row) => ('outage' in row ? row.outage.id : row.alarm.id)}
      rowAttributes={(row) =>
        'outage' in row
          ? {
              'data-testid': 'outage-row',
              'data-incident-id': row.outage.id,
              'data-village-id': row.outage.villageId,
              'data-devices': String(row.outage.devices.length),
              'data-alarms': String(row.alarms.length),
            }
          : {
              'data-testid': 'alarm-row',
              'data-alarm-id': row.alarm.id,
              'data-device-id': row.alarm.deviceId,
              'data-kind': row.alarm.kind,
              'data-severity': row.alarm.severity,
              'data-state': row.alarm.state,
              'data-held': String(row.alarm.held),
            }
      }
      columns={[
        {
          header: t('alarms.severity'),
          cell: (row) => {
            if (!('outage' in row)) return <SeverityChip severity={row.alarm.severity} />;
            const severity = worst(row.alarms);
            // The devices dropped together but their rule's delay has not run out yet.
            return severity ? (
              <SeverityChip severity={severity} />
            ) : (
              <span className="badge">{t('alarms.outageNew')}</span>
            );
          },
        },
        {
          header: t('alarms.kind'),
          names: true,
          cell: (row) =>
            'outage' in row ? (
              <strong>{t('alarms.outage')}</strong>
            ) : (
              <>
                {kindName(row.alarm.kind)} <AlarmMarks alarm={row.alarm} />
              </>
            ),
        },
        {
          header: t('alarms.device'),
          cell: (row) =>
            'outage' in row ? (
              <OutageDevices outage={row.outage} alarms={row.alarms} devices={devices} />
            ) : (
              <DeviceName id={row.alarm.deviceId} kind={row.alarm.deviceKind} devices={devices} />
            ),
        },
        {
          header: t('alarms.village'),
          cell: (row) => ('outage' in row ? row.outage.villageName : villageName(row.alarm.villageId)),
        },
        {
          header: t('alarms.since'),
          cell: (row) => {
            const at = 'outage' in row ? row.outage.openedAt : row.alarm.openedAt;
            return <time dateTime={at}>{format.dateTime(at)}</time>;
          },
        },
        {
          header: t('alarms.stateDetail'),
          cell: (row) =>
            'outage' in row ? (
              <>
                {t('alarms.outageDetail', { count: row.outage.devices.length })}
                <AlarmDetail detail={row.outage.detail} />
              </>
            ) : (
              <>
                <AlarmState alarm={row.alarm} />
                <AlarmDetail detail={row.alarm.detail} />
              </>
            ),
        },
        acts && {
          header: t('common.actions'),
          className: 'row-actions',
          cell: (row) => {
            const open = ('outage' in row ? row.alarms : [row.alarm]).filter((a) => a.state === 'open');
            if (open.length === 0) return null;
            const title =
              'outage' in row
                ? t('alarms.ackOutageTitle', { village: row.outage.villageName, count: open.length })
                : t('alarms.ackTitle', {
                    kind: kindName(row.alarm.kind),
                    device: devices.get(row.alarm.deviceId)?.name ?? row.alarm.deviceId,
                  });
            return (
              <button
                type="button"
                onClick={() => onAck({ title, alarms: open })}
                data-testid={'outage' in row ? 'outage-ack' : 'alarm-ack'}
              >
                {t('alarms.acknowledge')}
              </button>
            );
          },
        },
      ]}
    />
  );
}

/** The devices of an outage: which are back already, and where each one's alarm stands. */
function OutageDevices({
  outage,
  alarms,
  devices,
}: {
  outage: IncidentView;
  alarms: readonly AlarmView[];
  devices: ReadonlyMap<string, AlarmDevice>;
}) {
  const { t } = useTranslation();
  return (
    <ul className="item-chips">
      {outage.devices.map((device) => {
        const alarm = alarms.find((a) => a.deviceId === device.deviceId);
        return (
          <li
            key={device.deviceId}
            className={device.back ? 'chip ok' : 'chip bad'}
            data-testid="outage-device"
            data-device-id={device.deviceId}
            data-back={String(device.back)}
            data-alarm-state={alarm?.state}
          >
            {devices.get(device.deviceId)?.name ?? device.deviceId}
            {device.back ? ` · ${t('alarms.back')}` : ''}
            {alarm ? ` · ${t(`alarmState.${alarm.state}`)}` : ''}
          </li>
        );
      })}
    </ul>
  );
}
