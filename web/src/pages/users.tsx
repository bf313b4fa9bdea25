import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api, type Page } from '../api/client';
import type { Role, User } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { DataTable } from '../components/data-table';
import { ErrorMessage } from '../components/error-message';
import { FormActions } from '../components/form-card';
import { PASSWORD_MIN_LENGTH, PasswordResetDialog } from '../components/password-reset';
import { TextField } from '../components/text-field';
import { useFormat } from '../format';

const ROLES: Role[] = ['admin', 'operator', 'approver', 'police', 'technician'];

function RoleChecks({
  value,
  onChange,
  prefix,
}: {
  value: Role[];
  onChange: (roles: Role[]) => void;
  prefix: string;
}) {
  const { t } = useTranslation();
  return (
    <fieldset className="inline">
      <legend>{t('users.roles')}</legend>
      {ROLES.map((role) => (
        <label key={role}>
          <input
            type="checkbox"
            checked={value.includes(role)}
            onChange={(e) => onChange(e.target.checked ? [...value, role] : value.filter((r) => r !== role))}
            data-testid={`${prefix}-role-${role}`}
          />
          {t(`role.${role}`)}
        </label>
      ))}
    </fieldset>
  );
}

export default function UsersPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const users = useFetch<Page<User>>('/api/v1/users', { limit: 500 });
  const [error, setError] = useState<ApiError | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);

  const patch = (user: User, body: Partial<Pick<User, 'roles' | 'disabled' | 'displayName'>>) => {
    setError(null);
    api<User>(`/api/v1/users/${user.id}`, { method: 'PATCH', body })
      .then(() => {
        setEditing(null);
        users.reload();
      })
      .catch((caught: unknown) => setError(toApiError(caught)));
  };

  return (
    <section>
      <h1>{t('users.title')}</h1>
      <CreateUser onCreated={users.reload} />
      <DataTable
        error={error ?? users.error}
        rows={users.data?.items}
        rowKey={(user) => user.id}
        rowAttributes={(user) => ({
          'data-testid': `user-${user.username}`,
          className: user.disabled ? 'disabled' : undefined,
        })}
        columns={[
          {
            header: t('users.username'),
            names: true,
            cell: (user) => (
              <>
                {user.username}
                {user.disabled ? <span className="badge">{t('users.disabled')}</span> : null}
              </>
            ),
          },
          { header: t('users.displayName'), cell: (user) => user.displayName },
          {
            header: t('users.roles'),
            cell: (user) =>
              editing === user.id ? (
                <RoleChecks
                  prefix={`edit-${user.username}`}
                  value={user.roles}
                  onChange={(roles) => patch(user, { roles })}
                />
              ) : (
                user.roles.map((role) => t(`role.${role}`)).join(', ')
              ),
          },
          { header: t('users.commune'), cell: (user) => user.communeId ?? t('users.allCommunes') },
          { header: t('users.lastLogin'), cell: (user) => format.dateTime(user.lastLoginAt) },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (user) => (
              <>
                <button type="button" onClick={() => setEditing(editing === user.id ? null : user.id)}>
                  {editing === user.id ? t('common.done') : t('users.editRoles')}
                </button>
                <button type="button" onClick={() => patch(user, { disabled: !user.disabled })}>
                  {user.disabled ? t('users.enable') : t('users.disable')}
                </button>
                <button
                  type="button"
                  onClick={() => setResetting(user)}
                  data-testid={`user-reset-password-${user.username}`}
                >
                  {t('passwordReset.open')}
                </button>
              </>
            ),
          },
        ]}
      />
      <PasswordResetDialog user={resetting} onClose={() => setResetting(null)} />
    </section>
  );
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Role[]>(['operator']);
  const [communeId, setCommuneId] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    api<User>('/api/v1/users', {
      method: 'POST',
      body: { username, displayName, password, roles, communeId: communeId || undefined },
    })
      .then(() => {
        setUsername('');
        setDisplayName('');
        setPassword('');
        onCreated();
      })
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <details className="card">
      <summary>{t('users.create')}</summary>
      <form className="form grid" onSubmit={submit} data-testid="user-form">
        <TextField
          label={t('users.username')}
          required
          autoComplete="off"
          value={username}
          onChange={setUsername}
        />
        <TextField label={t('users.displayName')} required value={displayName} onChange={setDisplayName} />
        <TextField
          label={t('users.password')}
          required
          type="password"
          minLength={PASSWORD_MIN_LENGTH}
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
        />
        <TextField
          label={t('users.commune')}
          value={communeId}
          placeholder={t('users.allCommunes')}
          onChange={setCommuneId}
        />
        <RoleChecks prefix="new" value={roles} onChange={setRoles} />
        <ErrorMessage error={error} />
        <FormActions label={t('common.save')} disabled={busy} testId="user-save" />
      </form>
    </details>
  );
}
