import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';

/** Shows an API error as the platform worded it, with its code for support. */
export function ErrorMessage({ error }: { error: ApiError | null }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid="error-message">
      <strong>{t(`errors.status.${error.status}`, { defaultValue: t('errors.generic') })}</strong>{' '}
      <span>{error.message}</span> <code>{error.code}</code>
    </p>
  );
}
