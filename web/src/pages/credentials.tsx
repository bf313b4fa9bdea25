import { useTranslation } from 'react-i18next';
import type { Page } from '../api/client';
import type { Cluster } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { IssuedAt, useCredentialIssuer } from '../components/credential-issuer';
import { DataTable } from '../components/data-table';

export default function CredentialsPage() {
  const { t } = useTranslation();
  const clusters = useFetch<Page<Cluster>>('/api/v1/clusters', { limit: 500 });
  const issuer = useCredentialIssuer(() => clusters.reload());

  return (
    <section>
      <h1>{t('credentials.title')}</h1>
      <p className="muted">{t('credentials.intro')}</p>
      <DataTable
        error={issuer.error ?? clusters.error}
        rows={clusters.data?.items}
        rowKey={(cluster) => cluster.id}
        rowAttributes={(cluster) => ({ 'data-testid': `credential-${cluster.id}` })}
        columns={[
          {
            header: t('cluster.name'),
            names: true,
            cell: (cluster) => (
              <>
                {cluster.name} <span className="muted">{cluster.id}</span>
              </>
            ),
          },
          {
            header: t('credentials.issued'),
            cell: (cluster) => <IssuedAt credential={cluster.credential} />,
          },
          { header: t('common.actions'), cell: (cluster) => issuer.button(cluster) },
        ]}
      />
      {issuer.dialogs}
    </section>
  );
}
