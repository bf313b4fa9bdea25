import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, type Page } from '../api/client';
import type { Commune, Province, Role, User } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import {
  EVERYWHERE,
  type ScopeDraft,
  ScopeFields,
  scopeBody,
  scopeDraftOf,
  scopeProblem,
  useScopeWords,
} from '../components/account-scope';
import { DataTable } from '../components/data-table';
import { Dialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { FormActions } from '../components/form-card';
import { PASSWORD_MIN_LENGTH, PasswordResetDialog } from '../components/password-reset';
import { TextField } from '../components/text-field';
import { useFormat } from '../format';

const ROLES: Role[] = ['admin', 'operator', 'approver', 'viewer', 'police', 'technician'];

/** The communes and provinces a scope is chosen from. */
interface Places {
  communes: Commune[];
  provinces: Province[];
}

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
  const communes = useFetch<Page<Commune>>('/api/v1/communes', { limit: 500 });
  const provinces = useFetch<{ items: Province[] }>('/api/v1/provinces');
  const places: Places = { communes: communes.data?.items ?? [], provinces: provinces.data?.items ?? [] };
  const scopeWords = useScopeWords(places.communes, places.provinces);
  const [error, setError] = useState<ApiError | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const [scoping, setScoping] = useState<User | null>(null);

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
      <CreateUser onCreated={users.reload} places={places} />
      <DataTable
        error={error ?? users.error ?? communes.error ?? provinces.error}
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
          {
            header: t('users.scope'),
            cell: (user) => scopeWords(user),
            data: (user) => ({
              'data-testid': 'user-scope',
              'data-province': user.provinceId ?? undefined,
              'data-communes': user.communeIds.join(',') || undefined,
            }),
          },
          { header: t('users.lastLogin'), cell: (user) => format.dateTime(user.lastLoginAt) },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (user) => (
              <>
                <button type="button" onClick={() => setEditing(editing === user.id ? null : user.id)}>
                  {editing === user.id ? t('common.done') : t('users.editRoles')}
                </button>
                <button
                  type="button"
                  onClick={() => setScoping(user)}
                  data-testid={`user-edit-scope-${user.username}`}
                >
                  {t('users.editScope')}
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
      <Dialog
        open={scoping !== null}
        title={t('users.scopeTitle', { name: scoping?.username ?? '' })}
        onClose={() => setScoping(null)}
        testId="user-scope-dialog"
      >
        {scoping ? (
          <ScopeEditor
            key={scoping.id}
            user={scoping}
            places={places}
            onClose={() => setScoping(null)}
            onSaved={() => {
              setScoping(null);
              users.reload();
            }}
          />
        ) : null}
      </Dialog>
    </section>
  );
}

/** Changes where an account may act: every commune, one, several, or a province. */
function ScopeEditor({
  user,
  places,
  onClose,
  onSaved,
}: {
  user: User;
  places: Places;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { t } = useTranslation();
  const [scope, setScope] = useState<ScopeDraft>(() => scopeDraftOf(user));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problem = scopeProblem(scope);
    if (problem) {
      setError(new ApiError(400, 'scope_incomplete', t(problem)));
      return;
    }
    setBusy(true);
    setError(null);
    api<User>(`/api/v1/users/${user.id}`, { method: 'PATCH', body: scopeBody(scope) })
      .then(onSaved)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };
  return (
    <form className="form" onSubmit={submit}>
      <ScopeFields value={scope} onChange={setScope} prefix="edit" {...places} />
      <ErrorMessage error={error} />
      <FormActions label={t('common.save')} disabled={busy} testId="user-scope-save" onCancel={onClose} />
    </form>
  );
}

function CreateUser({ onCreated, places }: { onCreated: () => void; places: Places }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Role[]>(['operator']);
  const [scope, setScope] = useState<ScopeDraft>(EVERYWHERE);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problem = scopeProblem(scope);
    if (problem) {
      setError(new ApiError(400, 'scope_incomplete', t(problem)));
      return;
    }
    setBusy(true);
    setError(null);
    api<User>('/api/v1/users', {
      method: 'POST',
      body: { username, displayName, password, roles, ...scopeBody(scope) },
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
          testId="user-form-username"
        />
        <TextField
          label={t('users.displayName')}
          required
          value={displayName}
          onChange={setDisplayName}
          testId="user-form-display-name"
        />
        <TextField
          label={t('users.password')}
          required
          type="password"
          minLength={PASSWORD_MIN_LENGTH}
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          testId="user-form-password"
        />
        <RoleChecks prefix="new" value={roles} onChange={setRoles} />
        <ScopeFields value={scope} onChange={setScope} prefix="new" {...places} />
        <ErrorMessage error={error} />
        <FormActions label={t('common.save')} disabled={busy} testId="user-save" />
      </form>
    </details>
  );
}
