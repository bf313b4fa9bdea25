import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';
import { useLabels } from '../labels';

/**
 * Shows an API error in the console's language, from its code (the server's own wording is for
 * logs and API clients; the code is on the element for support). `message` replaces the whole
 * text where the page knows better what went wrong (a refused sign-in).
 */
export function ErrorMessage({ error, message }: { error: ApiError | null; message?: string }) {
  const { t } = useTranslation();
  const labels = useLabels();
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid="error-message" data-code={error.code}>
      {message ? (
        <strong>{message}</strong>
      ) : (
        <>
          <strong>{t(`errors.status.${error.status}`, { defaultValue: t('errors.generic') })}</strong>{' '}
          <span>{labels.error(error)}</span>
        </>
      )}
    </p>
  );
}
