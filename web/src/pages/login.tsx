import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import { toApiError } from '../api/use-fetch';
import { ErrorMessage } from '../components/error-message';
import { LanguageSwitch } from '../components/language-switch';
import { TextField } from '../components/text-field';

export function LoginPage({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  /** A refused sign-in is about the name and password, not a session to renew. */
  const loginFailure = (failed: ApiError): string | undefined => {
    if (failed.code === 'unauthenticated') return t('login.failed');
    if (failed.code === 'locked')
      return t('login.locked', { seconds: (failed.details as { retryAfterS?: number })?.retryAfterS ?? '' });
    return undefined;
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    api('/api/v1/auth/login', { method: 'POST', body: { username, password } })
      .then(() => onSignedIn())
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <main className="login" id="main">
      <div className="login-box">
        <div className="login-lang">
          <LanguageSwitch />
        </div>
        <h1>{t('app.title')}</h1>
        <form onSubmit={submit} data-testid="login-form">
          <TextField
            label={t('login.username')}
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={setUsername}
            testId="login-username"
          />
          <TextField
            label={t('login.password')}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={setPassword}
            testId="login-password"
          />
          <ErrorMessage error={error} message={error ? loginFailure(error) : undefined} />
          <button type="submit" className="primary" disabled={busy} data-testid="login-submit">
            {busy ? t('login.signingIn') : t('login.signIn')}
          </button>
        </form>
      </div>
    </main>
  );
}
