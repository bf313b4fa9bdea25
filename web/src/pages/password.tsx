import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../components/error-message';
import { FormActions } from '../components/form-card';
import { NewPasswordFields, useNewPassword } from '../components/password-reset';
import { TextField } from '../components/text-field';
import { useSession } from '../session';

/** Anyone signed in changes their own password; their other sessions end and API tokens stop. */
export default function PasswordPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const [current, setCurrent] = useState('');
  const change = useNewPassword('/api/v1/auth/password', (newPassword) => ({
    currentPassword: current,
    newPassword,
  }));
  const { value, setValue, ready, error, done } = change;
  const submit = (event: FormEvent) => change.submit(event, () => setCurrent(''));

  return (
    <section>
      <h1>{t('passwordReset.ownTitle')}</h1>
      <p className="muted">{t('passwordReset.ownExplain', { name: me.user.username })}</p>
      <form className="card form narrow" onSubmit={submit} data-testid="own-password-form">
        {/* Lets a password manager file the new password under the right account. */}
        <input type="hidden" autoComplete="username" value={me.user.username} readOnly />
        <TextField
          label={t('passwordReset.current')}
          required
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={setCurrent}
          testId="own-password-current"
        />
        <NewPasswordFields value={value} onChange={setValue} prefix="own-password" />
        <ErrorMessage error={error} />
        {done ? (
          <p className="notice" role="status" data-testid="own-password-done">
            {t('passwordReset.ownDone')} {t('passwordReset.tokensRevoked', { count: done.tokensRevoked })}
          </p>
        ) : null}
        <FormActions label={t('passwordReset.change')} disabled={!ready} testId="own-password-save" />
      </form>
    </section>
  );
}
