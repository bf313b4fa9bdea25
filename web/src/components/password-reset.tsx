import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import type { PasswordChanged, User } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { Dialog } from './dialog';
import { ErrorMessage } from './error-message';
import { TextField } from './text-field';

/** The platform's minimum (services/accounts/passwords.ts), checked here before a round trip. */
export const PASSWORD_MIN_LENGTH = 12;

/** A new password typed twice; reports it only when both agree. */
export function NewPasswordFields({
  value,
  onChange,
  prefix,
}: {
  value: { password: string; repeat: string };
  onChange: (value: { password: string; repeat: string }) => void;
  prefix: string;
}) {
  const { t } = useTranslation();
  const mismatch = value.repeat !== '' && value.repeat !== value.password;
  return (
    <>
      <TextField
        label={t('passwordReset.newPassword', { min: PASSWORD_MIN_LENGTH })}
        required
        type="password"
        minLength={PASSWORD_MIN_LENGTH}
        maxLength={256}
        autoComplete="new-password"
        value={value.password}
        onChange={(password) => onChange({ ...value, password })}
        testId={`${prefix}-new`}
      />
      <TextField
        label={t('passwordReset.repeat')}
        required
        type="password"
        autoComplete="new-password"
        value={value.repeat}
        aria-invalid={mismatch}
        aria-describedby={mismatch ? `${prefix}-mismatch` : undefined}
        onChange={(repeat) => onChange({ ...value, repeat })}
        testId={`${prefix}-repeat`}
      >
        {mismatch ? (
          <span id={`${prefix}-mismatch`} className="error">
            {t('passwordReset.mismatch')}
          </span>
        ) : null}
      </TextField>
    </>
  );
}

/** An admin sets a new password for someone; their sessions end and their API tokens stop working. */
export function PasswordResetDialog({ user, onClose }: { user: User | null; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Dialog
      open={user !== null}
      title={t('passwordReset.title', { name: user?.displayName || user?.username || '' })}
      onClose={onClose}
      testId="password-reset"
    >
      {user ? <ResetForm user={user} onClose={onClose} /> : null}
    </Dialog>
  );
}

/**
 * A new password typed twice and sent (only when both agree) to `url` with `bodyOf`; `ready` says
 * the form may be sent, `done` holds the answer (how many API tokens were revoked with the old one).
 */
export function useNewPassword(url: string, bodyOf: (password: string) => Record<string, unknown>) {
  const [value, setValue] = useState({ password: '', repeat: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<PasswordChanged | null>(null);
  const submit = (event: FormEvent, after?: () => void) => {
    event.preventDefault();
    if (value.password !== value.repeat) return;
    setBusy(true);
    setError(null);
    setDone(null);
    api<PasswordChanged>(url, { method: 'POST', body: bodyOf(value.password) })
      .then((answer) => {
        setDone(answer);
        setValue({ password: '', repeat: '' });
        after?.();
      })
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };
  const ready = !busy && value.password === value.repeat;
  return { value, setValue, ready, error, done, submit };
}

function ResetForm({ user, onClose }: { user: User; onClose: () => void }) {
  const { t } = useTranslation();
  const { value, setValue, ready, error, done, submit } = useNewPassword(
    `/api/v1/users/${encodeURIComponent(user.id)}/password`,
    (password) => ({ password }),
  );

  if (done)
    return (
      <div className="notice" role="status" data-testid="password-reset-result">
        <p>{t('passwordReset.done', { name: user.username })}</p>
        <p data-testid="password-reset-tokens" data-count={done.tokensRevoked}>
          {t('passwordReset.tokensRevoked', { count: done.tokensRevoked })}
        </p>
        <div className="actions">
          <button type="button" className="primary" onClick={onClose} data-testid="password-reset-close">
            {t('common.done')}
          </button>
        </div>
      </div>
    );

  return (
    <form className="form" onSubmit={submit} data-testid="password-reset-form">
      <p className="muted">{t('passwordReset.explain')}</p>
      <NewPasswordFields value={value} onChange={setValue} prefix="password-reset" />
      <ErrorMessage error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="danger" disabled={!ready} data-testid="password-reset-save">
          {t('passwordReset.reset')}
        </button>
      </div>
    </form>
  );
}
