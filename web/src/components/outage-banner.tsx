import { useTranslation } from 'react-i18next';
import type { OutageView } from '../../../contracts/alarms';
import type { Page } from '../api/client';
import { useOutageChanges } from '../api/live';
import { useFetch } from '../api/use-fetch';
import { useFormat } from '../format';

/**
 * Above the camera wall: each village without power or network now, since when, and the cameras it
 * leaves blind (down because of the outage, not each on its own). Read from `/outages`, which
 * names no speaker cluster (police see it); read again on each `outages.changed` and after a reconnect.
 */
export function OutageBanner() {
  const { t } = useTranslation();
  const format = useFormat();
  const outages = useFetch<Page<OutageView>>('/api/v1/outages', { open: true, limit: 100 });
  useOutageChanges(outages.reload);
  const open = outages.data?.items ?? [];
  if (open.length === 0) return null;
  return (
    <section className="notice warning" role="status" data-testid="outage-banner">
      <h2>{t('outageBanner.title', { count: open.length })}</h2>
      <ul>
        {open.map((outage) => (
          <li
            key={outage.id}
            data-testid="outage-banner-item"
            data-village-id={outage.villageId}
            data-cameras={outage.blindCameras.map((c) => c.cameraId).join(' ')}
          >
            <strong>{outage.villageName}</strong>{' '}
            {t('outageBanner.since', { time: format.dateTime(outage.openedAt) })}
            {' · '}
            {outage.blindCameras.length > 0
              ? t('outageBanner.blind', {
                  cameras: outage.blindCameras.map((c) => c.name ?? c.cameraId).join(', '),
                })
              : t('outageBanner.noCameras')}
          </li>
        ))}
      </ul>
    </section>
  );
}
