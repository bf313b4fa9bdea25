import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { type ClusterView, useClusters } from '../api/registry';
import { ClusterControl, useMayControl } from '../components/cluster-control';
import { DataTable } from '../components/data-table';
import { ErrorMessage } from '../components/error-message';
import { Presence } from '../components/presence';
import { useFormat } from '../format';
import { useLabels } from '../labels';
import { allowed, useSession } from '../session';

export default function DashboardPage() {
  const { t } = useTranslation();
  const { clusters, villages, error, loading } = useClusters();
  const mayControl = useMayControl();
  const online = clusters.filter((c) => c.online).length;
  const faults = clusters.reduce((sum, c) => sum + c.speakers.filter((s) => s.ok === false).length, 0);

  const byVillage = new Map<string, ClusterView[]>();
  for (const cluster of clusters) {
    byVillage.set(cluster.villageId, [...(byVillage.get(cluster.villageId) ?? []), cluster]);
  }
  const villageList = villages.filter((v) => byVillage.has(v.id));
  const orphans = [...byVillage.keys()].filter((id) => !villages.some((v) => v.id === id));
  // "All" is every commune the account sees clusters of: a commune-limited account, its own.
  const communeIds = [...new Set(clusters.map((c) => c.communeId))];

  return (
    <section>
      <h1>{t('dashboard.title')}</h1>
      <ErrorMessage error={error} />
      <ul className="summary" aria-label={t('dashboard.summary')}>
        <li data-testid="summary-online">{t('dashboard.online', { online, total: clusters.length })}</li>
        <li data-testid="summary-faults">{t('dashboard.faults', { count: faults })}</li>
      </ul>
      {loading && clusters.length === 0 ? <p className="loading">{t('common.loading')}</p> : null}
      {mayControl && clusters.length > 0 ? (
        <section className="card" aria-labelledby="control-all-title">
          <h2 id="control-all-title">{t('control.allTitle')}</h2>
          <p className="muted">{t('control.powerHint')}</p>
          <ClusterControl
            scope="all"
            label={t('control.allClusters')}
            targets={{ communeIds }}
            clusters={clusters}
          />
        </section>
      ) : null}
      {villageList.map((village) => (
        <VillageBlock
          key={village.id}
          id={village.id}
          name={village.name}
          clusters={byVillage.get(village.id) ?? []}
          mayControl={mayControl}
        />
      ))}
      {orphans.map((id) => (
        <VillageBlock key={id} id={id} name={id} clusters={byVillage.get(id) ?? []} mayControl={mayControl} />
      ))}
    </section>
  );
}

function VillageBlock({
  id,
  name,
  clusters,
  mayControl,
}: {
  id: string;
  name: string;
  clusters: ClusterView[];
  mayControl: boolean;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const labels = useLabels();
  const { me } = useSession();
  const technician = allowed(me.roles, ['technician']);
  return (
    <section className="village">
      <h2>{name}</h2>
      {mayControl ? (
        <ClusterControl
          scope={`village:${id}`}
          label={name}
          targets={{ villageIds: [id] }}
          clusters={clusters}
        />
      ) : null}
      <DataTable
        rows={clusters}
        rowKey={(cluster) => cluster.id}
        rowAttributes={(cluster) => ({
          'data-testid': `cluster-${cluster.id}`,
          'data-online': String(cluster.online),
        })}
        columns={[
          {
            header: t('cluster.name'),
            names: true,
            cell: (cluster) => (
              <>
                {technician ? <Link href={`/devices/${cluster.id}`}>{cluster.name}</Link> : cluster.name}
                <div className="muted">{cluster.id}</div>
              </>
            ),
          },
          {
            header: t('cluster.status'),
            cell: (cluster) => (
              <>
                <Presence online={cluster.online} />
                <div className="muted">
                  {t('cluster.since', { time: format.dateTime(cluster.since) })}
                  {!cluster.online && cluster.reason ? ` · ${labels.presenceReason(cluster.reason)}` : ''}
                </div>
              </>
            ),
          },
          {
            header: t('cluster.signal'),
            cell: (cluster) =>
              cluster.signalDbm === null ? t('common.none') : t('units.dbm', { value: cluster.signalDbm }),
          },
          { header: t('cluster.volume'), cell: (cluster) => format.number(cluster.volume) },
          {
            header: t('cluster.playing'),
            cell: (cluster) =>
              cluster.playing === null
                ? t('common.none')
                : cluster.playing
                  ? t('common.yes')
                  : t('common.no'),
          },
          {
            header: t('cluster.speakers'),
            cell: (cluster) => (
              <ul className="speakers">
                {cluster.speakers.map((speaker) => (
                  <li
                    key={speaker.idx}
                    className={speaker.ok === false ? 'bad' : speaker.ok ? 'ok' : 'unknown'}
                    data-testid={`speaker-${cluster.id}-${speaker.idx}`}
                  >
                    {t('cluster.speaker', { idx: speaker.idx })}
                    {speaker.fault ? `: ${labels.fault(speaker.fault)}` : ''}
                  </li>
                ))}
              </ul>
            ),
          },
        ]}
      />
    </section>
  );
}
