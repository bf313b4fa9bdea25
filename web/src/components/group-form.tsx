import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import type { ClusterView } from '../api/registry';
import type { Commune, Group, Village } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { FormCard } from './form-card';
import { CommuneSelect } from './place-select';
import { TextField } from './text-field';

/** A village's checkbox: ticked when all its clusters are members, mixed when some are. */
function VillageCheck({
  all,
  some,
  onChange,
  label,
  testId,
}: {
  all: boolean;
  some: boolean;
  onChange: (on: boolean) => void;
  label: string;
  testId: string;
}) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = some && !all;
  }, [all, some]);
  return (
    <label className="check">
      <input
        ref={ref}
        type="checkbox"
        checked={all}
        onChange={(e) => onChange(e.target.checked)}
        data-testid={testId}
      />
      {label}
    </label>
  );
}

/** Creates a group (the platform picks its id) or renames one and changes its members. */
export function GroupForm({
  group,
  communes,
  villages,
  clusters,
  onSaved,
  onCancel,
}: {
  group: Group | null;
  communes: Commune[];
  villages: Village[];
  clusters: ClusterView[];
  onSaved: (group: Group) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(group?.name ?? '');
  const [communeId, setCommuneId] = useState(group?.communeId ?? communes[0]?.id ?? '');
  const [members, setMembers] = useState<Set<string>>(() => new Set(group?.clusterIds ?? []));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  // The communes arrive after the form may have opened.
  useEffect(() => {
    if (!communeId && communes[0]) setCommuneId(communes[0].id);
  }, [communeId, communes]);

  const inCommune = clusters.filter((c) => c.communeId === communeId);
  const villageIds = [...new Set(inCommune.map((c) => c.villageId))];
  const ordered = [
    ...villages.filter((v) => villageIds.includes(v.id)).map((v) => v.id),
    ...villageIds.filter((id) => !villages.some((v) => v.id === id)),
  ];

  const toggle = (ids: string[], on: boolean) =>
    setMembers((current) => {
      const next = new Set(current);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    // Only clusters of the group's commune can be members.
    const clusterIds = inCommune.filter((c) => members.has(c.id)).map((c) => c.id);
    const request = group
      ? api<Group>(`/api/v1/groups/${encodeURIComponent(group.id)}`, {
          method: 'PATCH',
          body: { name: name.trim(), clusterIds },
        })
      : api<Group>('/api/v1/groups', { method: 'POST', body: { communeId, name: name.trim(), clusterIds } });
    request
      .then(onSaved)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  const chosen = inCommune.filter((c) => members.has(c.id)).length;

  return (
    <FormCard
      title={group ? t('groups.editTitle', { name: group.name }) : t('groups.newTitle')}
      testId="group-form"
      onSubmit={submit}
      error={error}
      busy={busy}
      submitLabel={t('common.save')}
      onCancel={onCancel}
    >
      <div className="grid">
        <TextField
          label={t('groups.name')}
          required
          maxLength={120}
          value={name}
          onChange={setName}
          testId="group-form-name"
        />
        {!group && communes.length > 1 ? (
          <label htmlFor="group-form-commune">
            {t('groups.commune')}
            <CommuneSelect
              id="group-form-commune"
              value={communeId}
              onChange={(id) => {
                setCommuneId(id);
                setMembers(new Set());
              }}
              communes={communes}
            />
          </label>
        ) : null}
      </div>
      <fieldset className="targets">
        <legend>{t('groups.members', { count: chosen })}</legend>
        {ordered.length === 0 ? <p className="muted">{t('groups.noClusters')}</p> : null}
        {ordered.map((villageId) => {
          const own = inCommune.filter((c) => c.villageId === villageId);
          const ids = own.map((c) => c.id);
          const picked = ids.filter((id) => members.has(id)).length;
          return (
            <div key={villageId} className="picker-village">
              <VillageCheck
                all={picked === ids.length}
                some={picked > 0}
                onChange={(on) => toggle(ids, on)}
                label={villages.find((v) => v.id === villageId)?.name ?? villageId}
                testId={`group-village-${villageId}`}
              />
              <div className="checks">
                {own.map((cluster) => (
                  <label key={cluster.id}>
                    <input
                      type="checkbox"
                      checked={members.has(cluster.id)}
                      onChange={(e) => toggle([cluster.id], e.target.checked)}
                      data-testid={`group-cluster-${cluster.id}`}
                    />
                    {cluster.name}
                    <span className={cluster.online ? 'dot ok' : 'dot bad'} aria-hidden="true" />
                  </label>
                ))}
              </div>
            </div>
          );
        })}
      </fieldset>
    </FormCard>
  );
}
