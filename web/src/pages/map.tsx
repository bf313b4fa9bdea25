import 'leaflet/dist/leaflet.css';
import { useTranslation } from 'react-i18next';
import { CircleMarker, MapContainer, Popup, TileLayer } from 'react-leaflet';
import { useClusters } from '../api/registry';
import { ErrorMessage } from '../components/error-message';
import { useFormat, useSettings } from '../format';

/** Hướng Đạo commune, where the map opens before any cluster has a location. */
const FALLBACK_CENTER: [number, number] = [21.37, 105.55];

export default function MapPage() {
  const { t } = useTranslation();
  const { tileUrl, tileAttribution } = useSettings();
  const format = useFormat();
  const { clusters, error } = useClusters();
  const located = clusters.filter((c) => Number.isFinite(c.location.lat) && Number.isFinite(c.location.lon));
  const bounds =
    located.length > 1
      ? (located.map((c) => [c.location.lat, c.location.lon]) as [number, number][])
      : undefined;
  const center: [number, number] = located[0]
    ? [located[0].location.lat, located[0].location.lon]
    : FALLBACK_CENTER;

  return (
    <section>
      <h1>{t('map.title')}</h1>
      <ErrorMessage error={error} />
      <p className="legend">
        <span className="dot ok" aria-hidden="true" /> {t('cluster.online')}{' '}
        <span className="dot bad" aria-hidden="true" /> {t('cluster.offline')}
        {tileUrl ? null : <span className="muted"> · {t('map.noTiles')}</span>}
      </p>
      {clusters.length > 0 ? (
        <MapContainer
          className={tileUrl ? 'map' : 'map plain'}
          center={center}
          zoom={14}
          bounds={bounds}
          boundsOptions={{ padding: [30, 30] }}
          data-testid="cluster-map"
        >
          {tileUrl ? <TileLayer url={tileUrl} attribution={tileAttribution ?? ''} /> : null}
          {located.map((cluster) => (
            <CircleMarker
              key={cluster.id}
              center={[cluster.location.lat, cluster.location.lon]}
              radius={10}
              pathOptions={{
                color: cluster.online ? '#1b7f3b' : '#b3261e',
                fillColor: cluster.online ? '#2fb55d' : '#e5484d',
                fillOpacity: 0.85,
                className: `marker-${cluster.id}`,
              }}
            >
              <Popup>
                <strong>{cluster.name}</strong>
                <br />
                {cluster.online ? t('cluster.online') : t('cluster.offline')} ·{' '}
                {t('cluster.since', { time: format.dateTime(cluster.since) })}
                <br />
                {cluster.address}
              </Popup>
            </CircleMarker>
          ))}
        </MapContainer>
      ) : (
        <p className="loading">{t('common.loading')}</p>
      )}
    </section>
  );
}
