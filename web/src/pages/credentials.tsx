import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api, type Page } from '../api/client';
import type { Cluster } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { ConfirmDialog, Dialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { useFormat } from '../format';

interface Issued {
  deviceId: string;
  secret: string;
  issuedAt: string;
  rotated: boolean;
}

export default function CredentialsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const clusters = useFetch<Page<Cluster>>('/api/v1/clusters', { limit: 500 });
  const [asking, setAsking] = useState<Cluster | null>(null);
  const [issued, setIssued] = useState<Issued | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const issue = () => {
    const cluster = asking;
    setAsking(null);
    if (!cluster) return;
    setError(null);
    api<Issued>(`/api/v1/clusters/${encodeURIComponent(cluster.id)}/credentials`, { method: 'POST' })
      .then((answer) => {
        setIssued(answer);
        clusters.reload();
      })
      .catch((caught: unknown) => setError(toApiError(caught)));
  };

  return (
    <section>
      <h1>{t('credentials.title')}</h1>
      <p className="muted">{t('credentials.intro')}</p>
      <ErrorMessage error={error ?? clusters.error} />
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
                    onClick={() => setAsking(cluster)}
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
      <ConfirmDialog
        open={asking !== null}
        title={t('credentials.confirmTitle', { name: asking?.name ?? '' })}
        message={asking?.credential.issued ? t('credentials.confirmRotate') : t('credentials.confirmIssue')}
        confirmLabel={asking?.credential.issued ? t('credentials.rotate') : t('credentials.issue')}
        danger={asking?.credential.issued}
        onConfirm={issue}
        onCancel={() => setAsking(null)}
        testId="credential-confirm"
      />
      <Dialog
        open={issued !== null}
        title={t('credentials.secretTitle')}
        onClose={() => setIssued(null)}
        testId="credential-secret"
      >
        {issued ? (
          <>
            <p>{t('credentials.secretOnce')}</p>
            <dl className="values">
              <div>
                <dt>{t('credentials.deviceId')}</dt>
                <dd>
                  <code>{issued.deviceId}</code>
                </dd>
              </div>
              <div>
                <dt>{t('credentials.secret')}</dt>
                <dd>
                  <code className="secret" data-testid="credential-secret-value">
                    {issued.secret}
                  </code>
                </dd>
              </div>
            </dl>
            <div className="actions">
              <button
                type="button"
                onClick={() => {
                  void navigator.clipboard?.writeText(issued.secret);
                }}
              >
                {t('credentials.copy')}
              </button>
              <button type="button" className="primary" onClick={() => setIssued(null)}>
                {t('common.done')}
              </button>
            </div>
          </>
        ) : null}
      </Dialog>
    </section>
  );
}
