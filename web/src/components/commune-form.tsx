import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { z } from 'zod';
import type { AdministrativeUnitItemSchema } from '../../../contracts/registry';
import type { Page } from '../api/client';
import type { Commune, Province } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { useRecordForm } from '../api/use-record-editor';
import { ErrorMessage } from './error-message';
import { FormCard } from './form-card';
import { TextField } from './text-field';

interface Draft {
  id: string;
  code: string;
  name: string;
  provinceId: string;
  district: string;
  approvalRequired: boolean;
}

function draftOf(commune: Commune | null): Draft {
  return {
    id: commune?.id ?? '',
    code: commune?.code ?? '',
    name: commune?.name ?? '',
    provinceId: commune?.provinceId ?? '',
    district: commune?.district ?? '',
    approvalRequired: commune?.approvalRequired ?? false,
  };
}

/** The body of POST /communes, or of a PATCH naming only what changed; an emptied field is cleared (null). */
function bodyOf(draft: Draft, before: Commune | null): Record<string, unknown> {
  const fields = {
    code: draft.code.trim() || null,
    name: draft.name.trim(),
    provinceId: draft.provinceId || null,
    district: draft.district.trim() || null,
    approvalRequired: draft.approvalRequired,
  };
  if (!before) return { id: draft.id.trim(), ...fields };
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields))
    if (value !== before[key as keyof typeof fields]) patch[key] = value;
  return patch;
}

type AdministrativeUnit = z.infer<typeof AdministrativeUnitItemSchema>;
/** Matches offered at once: enough to pick from, few enough to read. */
const MATCHES_SHOWN = 8;

/**
 * The national list of communes, wards and special zones of the chosen province, searched by name:
 * picking one fills the official code and the name (the server checks the pair again).
 */
function CatalogueSearch({
  provinceId,
  onPick,
}: {
  provinceId: string;
  onPick: (unit: AdministrativeUnit) => void;
}) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const typed = q.trim();
  const found = useFetch<Page<AdministrativeUnit>>(
    provinceId && typed ? '/api/v1/administrative-units' : null,
    { provinceId, q: typed, limit: MATCHES_SHOWN },
  );
  const matches = typed ? (found.data?.items ?? []) : [];
  const more = typed && found.data ? found.data.total - matches.length : 0;
  return (
    <fieldset className="catalogue-search" data-testid="commune-form-catalogue">
      <legend>{t('communes.catalogue')}</legend>
      {provinceId ? (
        <>
          <input
            type="search"
            value={q}
            maxLength={120}
            aria-label={t('communes.catalogue')}
            onChange={(event) => setQ(event.target.value)}
            data-testid="commune-form-catalogue-q"
          />
          <p className="muted">{t('communes.catalogueHint')}</p>
          {typed && found.data && matches.length === 0 ? (
            <p className="muted">{t('communes.catalogueNone')}</p>
          ) : null}
          <ul className="plain">
            {matches.map((unit) => (
              <li key={unit.code}>
                <button
                  type="button"
                  onClick={() => {
                    onPick(unit);
                    setQ('');
                  }}
                  data-testid={`commune-form-catalogue-${unit.code}`}
                >
                  {t('communes.catalogueUse', { code: unit.code, name: unit.fullName })}
                </button>
              </li>
            ))}
          </ul>
          {more > 0 ? <p className="muted">{t('communes.catalogueMore', { count: more })}</p> : null}
          <ErrorMessage error={found.error} />
        </>
      ) : (
        <p className="muted">{t('communes.catalogueNeedsProvince')}</p>
      )}
    </fieldset>
  );
}

/** Adds a commune, or renames one and says whether its announcements wait for approval. */
export function CommuneForm({
  commune,
  onSaved,
  onCancel,
}: {
  commune: Commune | null;
  onSaved: (commune: Commune) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const provinces = useFetch<{ items: Province[] }>('/api/v1/provinces');
  const { draft, set, busy, error, submit } = useRecordForm<Commune, Draft>({
    collection: '/api/v1/communes',
    record: commune,
    draftOf,
    bodyOf,
    onSaved,
  });
  return (
    <FormCard
      title={commune ? t('communes.editTitle', { name: commune.name }) : t('communes.newTitle')}
      testId="commune-form"
      onSubmit={submit}
      error={error}
      busy={busy}
      submitLabel={t('common.save')}
      onCancel={onCancel}
    >
      <div className="grid">
        {commune ? null : (
          <TextField
            label={t('communes.id')}
            required
            pattern="[a-z0-9][a-z0-9\-]{1,47}"
            value={draft.id}
            onChange={(id) => set({ id })}
            testId="commune-form-id"
          >
            <span className="muted">{t('communes.idHint')}</span>
          </TextField>
        )}
        <TextField
          label={t('communes.name')}
          required
          maxLength={120}
          value={draft.name}
          onChange={(name) => set({ name })}
          testId="commune-form-name"
        />
        <TextField
          label={t('communes.code')}
          inputMode="numeric"
          pattern="[0-9]{5}"
          maxLength={5}
          value={draft.code}
          onChange={(code) => set({ code })}
          testId="commune-form-code"
        >
          <span className="muted">{t('communes.codeHint')}</span>
        </TextField>
        <label>
          {t('communes.province')}
          <select
            value={draft.provinceId}
            onChange={(event) => set({ provinceId: event.target.value })}
            data-testid="commune-form-province"
          >
            <option value="">{t('communes.noProvince')}</option>
            {provinces.data?.items.map((province) => (
              <option key={province.id} value={province.id}>
                {province.name}
              </option>
            ))}
          </select>
        </label>
        <TextField
          label={t('communes.district')}
          maxLength={120}
          value={draft.district}
          onChange={(district) => set({ district })}
          testId="commune-form-district"
        >
          <span className="muted">{t('communes.districtHint')}</span>
        </TextField>
      </div>
      <CatalogueSearch
        provinceId={draft.provinceId}
        onPick={(unit) => set({ code: unit.code, name: unit.name })}
      />
      <ErrorMessage error={provinces.error} />
      <label className="check">
        <input
          type="checkbox"
          checked={draft.approvalRequired}
          onChange={(event) => set({ approvalRequired: event.target.checked })}
          data-testid="commune-form-approval"
        />
        {t('communes.approvalRequired')}
      </label>
      <p className="muted">{t('communes.approvalHint')}</p>
    </FormCard>
  );
}
