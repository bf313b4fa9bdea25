import { type FormEvent, type ReactNode, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';
import { ErrorMessage } from './error-message';
import { useFocusFirst } from './focus-first';

/** A form's submit button, then (given `onCancel`) a cancel button, then the form's other actions. */
export function FormActions({
  label,
  disabled,
  testId,
  onCancel,
  children,
}: {
  label: string;
  disabled: boolean;
  testId: string;
  onCancel?: () => void;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <div className="actions">
      <button type="submit" className="primary" disabled={disabled} data-testid={testId}>
        {label}
      </button>
      {onCancel ? (
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      ) : null}
      {children}
    </div>
  );
}

/**
 * A record's form opened above its list: its title, its fields, the refusal if saving failed,
 * then save (test id `<testId>-save` unless `saveTestId` names it) and cancel. It takes the
 * keyboard as it opens.
 */
export function FormCard({
  title,
  testId,
  onSubmit,
  error,
  busy,
  submitLabel,
  onCancel,
  saveTestId,
  children,
}: {
  title: string;
  testId: string;
  saveTestId?: string;
  onSubmit: (event: FormEvent) => void;
  error: ApiError | null;
  busy: boolean;
  submitLabel: string;
  onCancel: () => void;
  children: ReactNode;
}) {
  const formRef = useRef<HTMLFormElement>(null);
  useFocusFirst(formRef);
  return (
    <form ref={formRef} className="card form" onSubmit={onSubmit} data-testid={testId}>
      <h2>{title}</h2>
      {children}
      <ErrorMessage error={error} />
      <FormActions
        label={submitLabel}
        disabled={busy}
        testId={saveTestId ?? `${testId}-save`}
        onCancel={onCancel}
      />
    </form>
  );
}

/**
 * A card of settings: its title, the error, then (once read) the fields, disabled unless the
 * account `writes`, and save (test id `<testId>-save`) for those who may.
 */
export function SettingsCard<Draft>({
  title,
  testId,
  onSubmit,
  error,
  busy,
  writes,
  draft,
  before,
  children,
}: {
  title: string;
  testId: string;
  onSubmit: (event: FormEvent) => void;
  error: ApiError | null;
  busy: boolean;
  writes: boolean;
  draft: Draft | null;
  before?: ReactNode;
  children: (draft: Draft) => ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <form className="card form" onSubmit={onSubmit} data-testid={testId}>
      <h2>{title}</h2>
      <ErrorMessage error={error} />
      {before}
      {draft ? (
        <fieldset className="bare" disabled={!writes}>
          {children(draft)}
          {writes ? <FormActions label={t('common.save')} disabled={busy} testId={`${testId}-save`} /> : null}
        </fieldset>
      ) : null}
    </form>
  );
}
