import { useTranslation } from 'react-i18next';
import type { AlarmView } from '../../../contracts/alarms';
import type { Page } from '../api/client';
import type { Fetched } from '../api/use-fetch';
import { useFormat } from '../format';
import {
  AlarmDetail,
  type AlarmDevice,
  AlarmMarks,
  AlarmNote,
  DeviceName,
  SeverityChip,
} from './alarm-parts';
import { DataTable } from './data-table';
import { Pager } from './pager';

/** Alarms that cleared by themselves, newest first, a page at a time. */
export function AlarmHistory({
  history,
  devices,
  villageName,
  onOffset,
}: {
  history: Fetched<Page<AlarmView>>;
  devices: ReadonlyMap<string, AlarmDevice>;
  villageName: (id: string | null) => string;
  onOffset: (offset: number) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <>
      <DataTable
        error={history.error}
        empty={t('alarms.noHistory')}
        testId="alarms-history"
        rows={history.data?.items}
        rowKey={(alarm) => alarm.id}
        rowAttributes={(alarm) => ({
          'data-testid': 'alarm-history-row',
          'data-alarm-id': alarm.id,
          'data-device-id': alarm.deviceId,
          'data-kind': alarm.kind,
        })}
        columns={[
          { header: t('alarms.severity'), cell: (alarm) => <SeverityChip severity={alarm.severity} /> },
          {
            header: t('alarms.kind'),
            names: true,
            cell: (alarm) => (
              <>
                {t(`alarmKind.${alarm.kind}`, { defaultValue: alarm.kind })} <AlarmMarks alarm={alarm} />
              </>
            ),
          },
          {
            header: t('alarms.device'),
            cell: (alarm) => <DeviceName id={alarm.deviceId} kind={alarm.deviceKind} devices={devices} />,
          },
          { header: t('alarms.village'), cell: (alarm) => villageName(alarm.villageId) },
          {
            header: t('alarms.period'),
            cell: (alarm) =>
              t('alarms.fromTo', {
                from: format.dateTime(alarm.openedAt),
                to: format.dateTime(alarm.clearedAt),
              }),
          },
          {
            header: t('alarms.handled'),
            cell: (alarm) => (
              <>
                {alarm.acknowledgedAt
                  ? t('alarms.acknowledgedBy', {
                      who: alarm.acknowledgedBy ?? t('common.none'),
                      time: format.dateTime(alarm.acknowledgedAt),
                    })
                  : t('alarms.notAcknowledged')}
                <AlarmNote note={alarm.note} />
                <AlarmDetail detail={alarm.detail} />
              </>
            ),
          },
        ]}
      />
      <Pager page={history.data} onOffset={onOffset} />
    </>
  );
}
