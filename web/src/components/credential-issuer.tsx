import { type ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import type { IssuedSecret } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { useFormat } from '../format';
import { ConfirmDialog, Dialog } from './dialog';

/** What the issuer needs to know of a cluster. */
export interface SecretTarget {
  id: string;
  name: string;
  credential: { issued: boolean; issuedAt?: string | null };
}

/** When the cluster's current secret was issued, or that it never was. */
export function IssuedAt({ credential }: { credential: SecretTarget['credential'] }) {
  const { t } = useTranslation();
  const format = useFormat();
  return <>{credential.issued ? format.dateTime(credential.issuedAt) : t('credentials.never')}</>;
}

/**
 * Issuing or rotating a cluster's device secret: a confirmation (a rotation cuts the device off
 * until it gets the new secret), then the secret, shown this once.
 */
export function useCredentialIssuer(onIssued: (issued: IssuedSecret) => void) {
  const { t } = useTranslation();
  const [asking, setAsking] = useState<SecretTarget | null>(null);
  const [issued, setIssued] = useState<IssuedSecret | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const issue = () => {
    const cluster = asking;
    setAsking(null);
    if (!cluster) return;
    setError(null);
    api<IssuedSecret>(`/api/v1/clusters/${encodeURIComponent(cluster.id)}/credentials`, { method: 'POST' })
      .then((answer) => {
        setIssued(answer);
        onIssued(answer);
      })
      .catch((caught: unknown) => setError(toApiError(caught)));
  };

  const dialogs = (
    <>
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
              <button
                type="button"
                className="primary"
                onClick={() => setIssued(null)}
                data-testid="credential-secret-done"
              >
                {t('common.done')}
              </button>
            </div>
          </>
        ) : null}
      </Dialog>
    </>
  );

  /** A cluster's button that asks to issue its first secret, or to rotate the one it has. */
  const button = (cluster: SecretTarget): ReactNode => (
    <button type="button" onClick={() => setAsking(cluster)} data-testid={`credential-issue-${cluster.id}`}>
      {cluster.credential.issued ? t('credentials.rotate') : t('credentials.issue')}
    </button>
  );

  return { ask: setAsking, error, dialogs, button };
}
