import 'leaflet/dist/leaflet.css';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { CircleMarker, MapContainer, Polygon, Popup, TileLayer, Tooltip } from 'react-leaflet';
import { type ClusterView, useClusters } from '../api/registry';
import type { Village } from '../api/types';
import { ClusterControl, useMayControl } from '../components/cluster-control';
import { ErrorMessage } from '../components/error-message';
import { useFormat, useSettings } from '../format';
import { type LatLon, villageOutline } from '../village-areas';

/** Hướng Đạo commune, where the map opens before any cluster has a location. */
const FALLBACK_CENTER: [number, number] = [21.37, 105.55];

interface VillageArea {
  villageId: string;
  name: string;
  outline: [number, number][];
  /** The outline's northernmost point, where the village's name sits clear of its clusters' labels. */
  top: [number, number];
}

function villageAreas(located: ClusterView[], villages: Village[]): VillageArea[] {
  const byVillage = new Map<string, ClusterView[]>();
  for (const cluster of located)
    byVillage.set(cluster.villageId, [...(byVillage.get(cluster.villageId) ?? []), cluster]);
  return [...byVillage].map(([villageId, members]) => {
    const outline = villageOutline(members.map((c) => c.location));
    const top =
      outline.reduce<LatLon | undefined>((a, b) => (!a || b.lat > a.lat ? b : a), undefined) ??
      members[0]?.location;
    return {
      villageId,
      name: villages.find((v) => v.id === villageId)?.name ?? villageId,
      outline: outline.map((p) => [p.lat, p.lon] as [number, number]),
      top: [top?.lat ?? 0, top?.lon ?? 0] as [number, number],
    };
  });
}

export default function MapPage() {
  const { t } = useTranslation();
  const { tileUrl, tileAttribution } = useSettings();
  const format = useFormat();
  const { clusters, villages, error } = useClusters();
  const mayControl = useMayControl();
  const located = clusters.filter((c) => Number.isFinite(c.location.lat) && Number.isFinite(c.location.lon));
  // Live status updates re-render the page often; the outlines change only when places do.
  const placesKey = JSON.stringify([
    located.map((c) => [c.id, c.villageId, c.location.lat, c.location.lon]),
    villages.map((v) => [v.id, v.name]),
  ]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: placesKey stands for located and villages.
  const areas = useMemo(() => villageAreas(located, villages), [placesKey]);
  // The village areas, not only the clusters, fit in the first view.
  const bounds = located.length > 1 ? areas.flatMap((area) => area.outline) : undefined;
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
        <span className="area" aria-hidden="true" />
        {t('mapLabels.villageArea')}
        {tileUrl ? null : <span className="muted"> · {t('map.noTiles')}</span>}
      </p>
      {clusters.length > 0 ? (
        <MapContainer
          className={tileUrl ? 'map' : 'map plain'}
          center={center}
          zoom={14}
          bounds={bounds}
          // Room above the northernmost village for its name.
          boundsOptions={{ paddingTopLeft: [30, 45], paddingBottomRight: [30, 20] }}
          data-testid="cluster-map"
        >
          {tileUrl ? <TileLayer url={tileUrl} attribution={tileAttribution ?? ''} /> : null}
          {areas.map((area) => (
            <Polygon
              key={area.villageId}
              positions={area.outline}
              interactive={false}
              pathOptions={{
                color: '#5c6670',
                weight: 1.5,
                dashArray: '4 4',
                fillColor: '#ffffff',
                fillOpacity: tileUrl ? 0.15 : 0.6,
              }}
              // Leaflet reads className only when it creates the path, not from later style updates.
              className={`village-area village-${area.villageId}`}
            >
              <Tooltip permanent direction="top" position={area.top} className="village-label">
                {area.name}
              </Tooltip>
            </Polygon>
          ))}
          {located.map((cluster) => (
            <CircleMarker
              key={cluster.id}
              center={[cluster.location.lat, cluster.location.lon]}
              radius={10}
              pathOptions={{
                color: cluster.online ? '#1b7f3b' : '#b3261e',
                fillColor: cluster.online ? '#2fb55d' : '#e5484d',
                fillOpacity: 0.85,
              }}
              className={`marker-${cluster.id}`}
            >
              <Tooltip permanent direction="right" offset={[10, 0]} className="cluster-label">
                {cluster.name}
              </Tooltip>
              <Popup>
                <strong>{cluster.name}</strong>
                <br />
                {cluster.online ? t('cluster.online') : t('cluster.offline')} ·{' '}
                {t('cluster.since', { time: format.dateTime(cluster.since) })}
                <br />
                {cluster.address}
                <br />
                {t('cluster.volume')}: {format.number(cluster.volume)}
                {mayControl ? (
                  <ClusterControl
                    scope={`cluster:${cluster.id}`}
                    label={cluster.name}
                    targets={{ clusterIds: [cluster.id] }}
                    clusters={[cluster]}
                  />
                ) : null}
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
