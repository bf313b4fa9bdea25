import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';
import { toApiError } from '../api/use-fetch';
import { ErrorMessage } from './error-message';

interface DialogProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
}

/** A modal <dialog>: the browser traps focus, Escape closes it and focus returns to the opener. */
export function Dialog({ open, title, onClose, children, testId }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const { t } = useTranslation();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog ref={ref} onClose={onClose} aria-label={title} data-testid={testId}>
      <header className="dialog-header">
        <h2>{title}</h2>
        <button type="button" className="icon" onClick={onClose} aria-label={t('common.close')}>
          ×
        </button>
      </header>
      {open ? children : null}
    </dialog>
  );
}

interface ConfirmProps {
  open: boolean;
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
}

export function ConfirmDialog(props: ConfirmProps) {
  const { t } = useTranslation();
  return (
    <Dialog open={props.open} title={props.title} onClose={props.onCancel} testId={props.testId}>
      <p>{props.message}</p>
      <div className="actions">
        <button type="button" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
        <button
          type="button"
          className={props.danger ? 'danger' : 'primary'}
          onClick={props.onConfirm}
          data-testid={props.testId ? `${props.testId}-confirm` : undefined}
        >
          {props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

interface NoteDialogProps {
  open: boolean;
  title: string;
  /** The words of the note's label, which holds the text area. */
  label: string;
  confirmLabel: string;
  /** The confirm button warns (class `danger`) rather than leads (`primary`). */
  danger?: boolean;
  /** Without a note the action is refused; an optional note may be left empty. */
  required?: boolean;
  maxLength: number;
  rows?: number;
  /** Sends the trimmed note; a rejection is shown in the dialog, with the note kept to try again. */
  onConfirm: (note: string) => Promise<unknown>;
  onCancel: () => void;
  /** `<testId>-dialog` and `<testId>-confirm`; `noteTestId` is the text area's. */
  testId: string;
  noteTestId: string;
}

/**
 * A note asked for before an action: what to change, why a bulletin is declined, what is done about
 * an alarm. The confirm button waits while the action runs; success empties the note (the caller
 * closes the dialog), and leaving by Cancel, Escape or × forgets the note and any refusal.
 */
export function NoteDialog({
  open,
  title,
  label,
  confirmLabel,
  danger,
  required = true,
  maxLength,
  rows = 3,
  onConfirm,
  onCancel,
  testId,
  noteTestId,
}: NoteDialogProps) {
  const { t } = useTranslation();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const close = () => {
    setNote('');
    setError(null);
    onCancel();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    onConfirm(note.trim())
      .then(() => setNote(''))
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };
  return (
    <Dialog open={open} title={title} onClose={close} testId={`${testId}-dialog`}>
      <form className="form" onSubmit={submit}>
        <label>
          {label}
          <textarea
            value={note}
            rows={rows}
            required={required}
            maxLength={maxLength}
            onChange={(event) => setNote(event.target.value)}
            data-testid={noteTestId}
          />
        </label>
        <ErrorMessage error={error} />
        <div className="actions">
          <button type="button" onClick={close}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className={danger ? 'danger' : 'primary'}
            disabled={busy || (required && note.trim() === '')}
            data-testid={`${testId}-confirm`}
          >
            {confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
