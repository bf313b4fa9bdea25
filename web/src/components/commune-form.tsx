import { useTranslation } from 'react-i18next';
import type { Commune } from '../api/types';
import { useRecordForm } from '../api/use-record-editor';
import { FormCard } from './form-card';
import { TextField } from './text-field';

interface Draft {
  id: string;
  name: string;
  approvalRequired: boolean;
}

function draftOf(commune: Commune | null): Draft {
  return {
    id: commune?.id ?? '',
    name: commune?.name ?? '',
    approvalRequired: commune?.approvalRequired ?? false,
  };
}

/** The body of POST /communes, or of a PATCH naming only what changed. */
function bodyOf(draft: Draft, before: Commune | null): Record<string, unknown> {
  const fields = { name: draft.name.trim(), approvalRequired: draft.approvalRequired };
  if (!before) return { id: draft.id.trim(), ...fields };
  const patch: Record<string, unknown> = {};
  if (fields.name !== before.name) patch.name = fields.name;
  if (fields.approvalRequired !== before.approvalRequired) patch.approvalRequired = fields.approvalRequired;
  return patch;
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
      </div>
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
