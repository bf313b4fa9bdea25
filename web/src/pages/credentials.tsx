import { useTranslation } from 'react-i18next';
import type { Page } from '../api/client';
import type { Cluster } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { useCredentialIssuer } from '../components/credential-issuer';
import { ErrorMessage } from '../components/error-message';
import { useFormat } from '../format';

export default function CredentialsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const clusters = useFetch<Page<Cluster>>('/api/v1/clusters', { limit: 500 });
  const issuer = useCredentialIssuer(() => clusters.reload());

  return (
    <section>
      <h1>{t('credentials.title')}</h1>
      <p className="muted">{t('credentials.intro')}</p>
      <ErrorMessage error={issuer.error ?? clusters.error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('cluster.name')}</th>
              <th scope="col">{t('credentials.issued')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {clusters.data?.items.map((cluster) => (
              <tr key={cluster.id} data-testid={`credential-${cluster.id}`}>
                <th scope="row">
                  {cluster.name} <span className="muted">{cluster.id}</span>
                </th>
                <td>
                  {cluster.credential.issued
                    ? format.dateTime(cluster.credential.issuedAt)
                    : t('credentials.never')}
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() => issuer.ask(cluster)}
                    data-testid={`credential-issue-${cluster.id}`}
                  >
                    {cluster.credential.issued ? t('credentials.rotate') : t('credentials.issue')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {issuer.dialogs}
    </section>
  );
}
