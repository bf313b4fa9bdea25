import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AlarmView } from '../../../contracts/alarms';
import type { Page } from '../api/client';
import { useAlarmChanges } from '../api/live';
import { useFetch } from '../api/use-fetch';
import { useFormat } from '../format';
import { type AckRequest, AlarmAckDialog } from './alarm-ack';
import { AlarmDetail, AlarmMarks, AlarmState, SeverityChip } from './alarm-parts';
import { DataTable } from './data-table';

const RECENT = 20;

/** A device's alarms on its page: the open ones first, then the latest that cleared. */
export function DeviceAlarms({ deviceId }: { deviceId: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const alarms = useFetch<Page<AlarmView>>('/api/v1/alarms', { deviceId, limit: RECENT });
  const [acking, setAcking] = useState<AckRequest | null>(null);
  useAlarmChanges((event) => {
    if (event === null || ('alarm' in event && event.alarm.deviceId === deviceId)) alarms.reload();
  });
  const kindName = (alarm: AlarmView) => t(`alarmKind.${alarm.kind}`, { defaultValue: alarm.kind });

  return (
    <section className="card" data-testid="device-alarms">
      <h2>{t('alarms.ofDevice')}</h2>
      <DataTable
        error={alarms.error}
        empty={t('alarms.noneForDevice')}
        rows={alarms.data?.items}
        rowKey={(alarm) => alarm.id}
        rowAttributes={(alarm) => ({
          'data-testid': 'device-alarm',
          'data-alarm-id': alarm.id,
          'data-kind': alarm.kind,
          'data-state': alarm.state,
        })}
        columns={[
          { header: t('alarms.severity'), cell: (alarm) => <SeverityChip severity={alarm.severity} /> },
          {
            header: t('alarms.kind'),
            names: true,
            cell: (alarm) => (
              <>
                {kindName(alarm)} <AlarmMarks alarm={alarm} />
              </>
            ),
          },
          {
            header: t('alarms.period'),
            cell: (alarm) =>
              alarm.clearedAt
                ? t('alarms.fromTo', {
                    from: format.dateTime(alarm.openedAt),
                    to: format.dateTime(alarm.clearedAt),
                  })
                : t('alarms.sinceTime', { time: format.dateTime(alarm.openedAt) }),
          },
          {
            header: t('alarms.stateDetail'),
            cell: (alarm) => (
              <>
                <AlarmState alarm={alarm} />
                <AlarmDetail detail={alarm.detail} />
              </>
            ),
          },
          // Only while something is open to acknowledge.
          (alarms.data?.items.some((alarm) => alarm.state === 'open') ?? false) && {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (alarm) =>
              alarm.state === 'open' ? (
                <button
                  type="button"
                  onClick={() =>
                    setAcking({
                      title: t('alarms.ackTitle', { kind: kindName(alarm), device: deviceId }),
                      alarms: [alarm],
                    })
                  }
                  data-testid="alarm-ack"
                >
                  {t('alarms.acknowledge')}
                </button>
              ) : null,
          },
        ]}
      />
      <AlarmAckDialog request={acking} onClose={() => setAcking(null)} onChanged={alarms.reload} />
    </section>
  );
}
