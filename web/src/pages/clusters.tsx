import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { Page } from '../api/client';
import { useLive } from '../api/live';
import { usePlaces } from '../api/places';
import type { Cluster } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { useRecordEditor } from '../api/use-record-editor';
import { ClusterForm } from '../components/cluster-form';
import { IssuedAt, useCredentialIssuer } from '../components/credential-issuer';
import { DataTable } from '../components/data-table';
import { VillageSelect } from '../components/place-select';
import { Presence } from '../components/presence';
import { RecordButtons, RemoveDialog } from '../components/record-actions';
import { StreamHealthView } from '../components/stream-health';
import { useFormat } from '../format';

/** The technician's cluster registry: register by device id, issue the secret, edit, remove. */
export default function ClustersPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const { clusters: live } = useLive();
  const { communes, villages, error: placesError } = usePlaces();
  const [villageId, setVillageId] = useState('');
  const clusters = useFetch<Page<Cluster>>('/api/v1/clusters', { limit: 500, villageId });
  const editor = useRecordEditor<Cluster>('/api/v1/clusters', () => clusters.reload());
  const { editing, setEditing, error } = editor;
  const issuer = useCredentialIssuer(() => clusters.reload());

  const villageName = (id: string) => villages.find((v) => v.id === id)?.name ?? id;
  const onlineOf = (cluster: Cluster) => live.get(cluster.id)?.online ?? cluster.status.online;
  const streamOf = (cluster: Cluster) => {
    const update = live.get(cluster.id);
    return update ? update.stream : cluster.status.stream;
  };

  return (
    <section>
      <h1>{t('clusterForm.title')}</h1>
      <p className="muted">{t('clusterForm.intro')}</p>
      <div className="toolbar">
        <button type="button" className="primary" onClick={() => setEditing('new')} data-testid="cluster-new">
          {t('clusterForm.new')}
        </button>
        <label htmlFor="clusters-village-filter">
          {t('clusterForm.filterVillage')}
          <VillageSelect
            id="clusters-village-filter"
            value={villageId}
            onChange={setVillageId}
            villages={villages}
            communes={communes}
            emptyLabel={t('clusterForm.allVillages')}
          />
        </label>
        <span className="muted">{t('clusterForm.count', { count: clusters.data?.total ?? 0 })}</span>
      </div>
      {editing ? (
        <ClusterForm
          key={editing === 'new' ? 'new' : editing.id}
          cluster={editing === 'new' ? null : editing}
          villages={villages}
          communes={communes}
          onSaved={(saved, created) => {
            setEditing(null);
            clusters.reload();
            // A new cluster cannot connect without its secret: offer it at once.
            if (created) issuer.ask(saved);
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      <DataTable
        error={error ?? issuer.error ?? clusters.error ?? placesError}
        empty={t('clusterForm.empty')}
        rows={clusters.data?.items}
        rowKey={(cluster) => cluster.id}
        rowAttributes={(cluster) => ({
          'data-testid': `device-row-${cluster.id}`,
          'data-online': String(onlineOf(cluster)),
        })}
        columns={[
          {
            header: t('cluster.name'),
            names: true,
            cell: (cluster) => (
              <>
                <Link href={`/devices/${encodeURIComponent(cluster.id)}`}>{cluster.name}</Link>
                <div className="muted">{cluster.id}</div>
                {cluster.address ? <div className="muted">{cluster.address}</div> : null}
              </>
            ),
          },
          { header: t('clusterForm.village'), cell: (cluster) => villageName(cluster.villageId) },
          {
            header: t('cluster.status'),
            cell: (cluster) => {
              const stream = streamOf(cluster);
              return (
                <>
                  <Presence online={onlineOf(cluster)} />
                  {stream ? <StreamHealthView stream={stream} compact /> : null}
                </>
              );
            },
          },
          {
            header: t('clusterForm.location'),
            cell: (cluster) =>
              `${format.number(cluster.location.lat, 5)}, ${format.number(cluster.location.lon, 5)}`,
          },
          {
            header: t('clusterForm.credential'),
            cell: (cluster) => <IssuedAt credential={cluster.credential} />,
          },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (cluster) => (
              <RecordButtons editor={editor} record={cluster} testIdPrefix="cluster">
                {issuer.button(cluster)}
              </RecordButtons>
            ),
          },
        ]}
      />
      {issuer.dialogs}
      <RemoveDialog
        editor={editor}
        title={t('clusterForm.removeTitle', { name: editor.removing?.name ?? '' })}
        message={t('clusterForm.removeMessage')}
        confirmLabel={t('clusterForm.remove')}
        testId="cluster-remove"
      />
    </section>
  );
}
