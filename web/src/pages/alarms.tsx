import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AlarmView, IncidentView } from '../../../contracts/alarms';
import type { Page } from '../api/client';
import { useAlarmChanges } from '../api/live';
import { usePlaces } from '../api/places';
import { useFetch } from '../api/use-fetch';
import { type AckRequest, AlarmAckDialog } from '../components/alarm-ack';
import { ActiveAlarms, activeRows } from '../components/alarm-active';
import { AlarmHistory } from '../components/alarm-history';
import { useAlarmDevices } from '../components/alarm-parts';
import { AlarmRules } from '../components/alarm-rules';
import { AlarmSoundToggle } from '../components/alarm-sound';
import { MaintenancePanel } from '../components/maintenance-panel';
import { CommuneSelect } from '../components/place-select';
import { allowed, useSession } from '../session';

const HISTORY_PAGE = 20;

/**
 * "Cảnh báo": what needs someone now (village outages as one row each, then alarms by severity),
 * acknowledged with a note; what cleared, below. Technicians also hold devices under maintenance
 * and tune the commune's rules here. Follows `alarms.changed` and `incidents.changed` live.
 */
export default function AlarmsPage() {
  const { t } = useTranslation();
  const { roles } = useSession().me;
  const acts = allowed(roles, ['operator', 'technician']);
  const technician = allowed(roles, ['technician']);
  const places = usePlaces();
  const devices = useAlarmDevices();
  const [communeId, setCommuneId] = useState('');
  const [historyOffset, setHistoryOffset] = useState(0);
  const [acking, setAcking] = useState<AckRequest | null>(null);
  const scope = communeId ? { communeId } : {};
  const active = useFetch<Page<AlarmView>>('/api/v1/alarms', {
    ...scope,
    state: 'open,acknowledged',
    limit: 500,
  });
  const outages = useFetch<Page<IncidentView>>('/api/v1/incidents', { ...scope, open: true, limit: 100 });
  const history = useFetch<Page<AlarmView>>('/api/v1/alarms', {
    ...scope,
    state: 'cleared',
    limit: HISTORY_PAGE,
    offset: historyOffset,
  });

  useAlarmChanges((event) => {
    if (event === null || 'alarm' in event) active.reload();
    if (event === null || 'incident' in event) outages.reload();
    if (event === null || ('alarm' in event && event.alarm.change === 'cleared')) history.reload();
  });

  const villageName = (id: string | null) =>
    id ? (places.villages.find((v) => v.id === id)?.name ?? id) : t('common.none');
  const rows = active.data && outages.data ? activeRows(active.data.items, outages.data.items) : undefined;
  // The rules are a commune's: the chosen one, or the first the account reaches.
  const rulesCommune = places.communes.find((c) => c.id === communeId) ?? places.communes[0];

  return (
    <section>
      <h1>{t('alarms.title')}</h1>
      <p className="muted">{t('alarms.intro')}</p>
      <div className="toolbar">
        {places.communes.length > 1 ? (
          <label htmlFor="alarms-commune">
            {t('alarms.commune')}
            <CommuneSelect
              id="alarms-commune"
              communes={places.communes}
              value={communeId}
              onChange={(id) => {
                setCommuneId(id);
                setHistoryOffset(0);
              }}
              emptyLabel={t('alarms.allCommunes')}
              testId="alarms-commune"
            />
          </label>
        ) : null}
        <AlarmSoundToggle />
      </div>

      <h2>{t('alarms.active')}</h2>
      <ActiveAlarms
        rows={rows}
        devices={devices.byId}
        villageName={villageName}
        acts={acts}
        onAck={setAcking}
        error={active.error ?? outages.error ?? devices.error ?? places.error}
      />

      {technician ? (
        <MaintenancePanel
          communeId={communeId}
          communes={places.communes}
          villages={places.villages}
          devices={devices}
        />
      ) : null}

      <h2>{t('alarms.history')}</h2>
      <AlarmHistory
        history={history}
        devices={devices.byId}
        villageName={villageName}
        onOffset={setHistoryOffset}
      />

      {technician && rulesCommune ? (
        <AlarmRules communeId={rulesCommune.id} communeName={rulesCommune.name} />
      ) : null}

      <AlarmAckDialog
        request={acking}
        onClose={() => setAcking(null)}
        onChanged={() => {
          active.reload();
          outages.reload();
        }}
      />
    </section>
  );
}
