import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api, type Page } from '../api/client';
import type { Role, User } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { ErrorMessage } from '../components/error-message';
import { PasswordResetDialog } from '../components/password-reset';
import { useFormat } from '../format';

const ROLES: Role[] = ['admin', 'operator', 'police', 'technician'];

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
      <ErrorMessage error={error ?? users.error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('users.username')}</th>
              <th scope="col">{t('users.displayName')}</th>
              <th scope="col">{t('users.roles')}</th>
              <th scope="col">{t('users.commune')}</th>
              <th scope="col">{t('users.lastLogin')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users.data?.items.map((user) => (
              <tr
                key={user.id}
                data-testid={`user-${user.username}`}
                className={user.disabled ? 'disabled' : undefined}
              >
                <th scope="row">
                  {user.username}
                  {user.disabled ? <span className="badge">{t('users.disabled')}</span> : null}
                </th>
                <td>{user.displayName}</td>
                <td>
                  {editing === user.id ? (
                    <RoleChecks
                      prefix={`edit-${user.username}`}
                      value={user.roles}
                      onChange={(roles) => patch(user, { roles })}
                    />
                  ) : (
                    user.roles.map((role) => t(`role.${role}`)).join(', ')
                  )}
                </td>
                <td>{user.communeId ?? t('users.allCommunes')}</td>
                <td>{format.dateTime(user.lastLoginAt)}</td>
                <td className="row-actions">
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
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
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
        <label>
          {t('users.username')}
          <input required autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          {t('users.displayName')}
          <input required value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        <label>
          {t('users.password')}
          <input
            required
            type="password"
            minLength={12}
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          {t('users.commune')}
          <input
            value={communeId}
            placeholder={t('users.allCommunes')}
            onChange={(e) => setCommuneId(e.target.value)}
          />
        </label>
        <RoleChecks prefix="new" value={roles} onChange={setRoles} />
        <ErrorMessage error={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy} data-testid="user-save">
            {t('common.save')}
          </button>
        </div>
      </form>
    </details>
  );
}
