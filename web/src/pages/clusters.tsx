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
import { useCredentialIssuer } from '../components/credential-issuer';
import { ConfirmDialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { VillageSelect } from '../components/village-select';
import { useFormat } from '../format';

/** The technician's cluster registry: register by device id, issue the secret, edit, remove. */
export default function ClustersPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const { clusters: live } = useLive();
  const { communes, villages, error: placesError } = usePlaces();
  const [villageId, setVillageId] = useState('');
  const clusters = useFetch<Page<Cluster>>('/api/v1/clusters', { limit: 500, villageId });
  const { editing, setEditing, removing, setRemoving, error, remove } = useRecordEditor<Cluster>(
    '/api/v1/clusters',
    () => clusters.reload(),
  );
  const issuer = useCredentialIssuer(() => clusters.reload());

  const villageName = (id: string) => villages.find((v) => v.id === id)?.name ?? id;
  const items = clusters.data?.items ?? [];

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
      <ErrorMessage error={error ?? issuer.error ?? clusters.error ?? placesError} />
      {clusters.data && items.length === 0 ? <p>{t('clusterForm.empty')}</p> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('cluster.name')}</th>
              <th scope="col">{t('clusterForm.village')}</th>
              <th scope="col">{t('cluster.status')}</th>
              <th scope="col">{t('clusterForm.location')}</th>
              <th scope="col">{t('clusterForm.credential')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((cluster) => {
              const online = live.get(cluster.id)?.online ?? cluster.status.online;
              return (
                <tr key={cluster.id} data-testid={`device-row-${cluster.id}`} data-online={String(online)}>
                  <th scope="row">
                    <Link href={`/devices/${encodeURIComponent(cluster.id)}`}>{cluster.name}</Link>
                    <div className="muted">{cluster.id}</div>
                    {cluster.address ? <div className="muted">{cluster.address}</div> : null}
                  </th>
                  <td>{villageName(cluster.villageId)}</td>
                  <td>
                    <span className={online ? 'dot ok' : 'dot bad'} aria-hidden="true" />
                    {online ? t('cluster.online') : t('cluster.offline')}
                  </td>
                  <td>
                    {format.number(cluster.location.lat, 5)}, {format.number(cluster.location.lon, 5)}
                  </td>
                  <td>
                    {cluster.credential.issued
                      ? format.dateTime(cluster.credential.issuedAt)
                      : t('credentials.never')}
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      onClick={() => setEditing(cluster)}
                      data-testid={`cluster-edit-${cluster.id}`}
                    >
                      {t('common.edit')}
                    </button>
                    <button
                      type="button"
                      onClick={() => issuer.ask(cluster)}
                      data-testid={`credential-issue-${cluster.id}`}
                    >
                      {cluster.credential.issued ? t('credentials.rotate') : t('credentials.issue')}
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => setRemoving(cluster)}
                      data-testid={`cluster-delete-${cluster.id}`}
                    >
                      {t('common.delete')}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {issuer.dialogs}
      <ConfirmDialog
        open={removing !== null}
        title={t('clusterForm.removeTitle', { name: removing?.name ?? '' })}
        message={t('clusterForm.removeMessage')}
        confirmLabel={t('clusterForm.remove')}
        danger
        onConfirm={remove}
        onCancel={() => setRemoving(null)}
        testId="cluster-remove"
      />
    </section>
  );
}
