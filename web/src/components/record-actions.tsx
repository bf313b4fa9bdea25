import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { RecordEditor } from '../api/use-record-editor';
import { ConfirmDialog } from './dialog';

/**
 * A record's edit and delete buttons (test ids `<prefix>-edit-<id>` and `<prefix>-delete-<id>`);
 * the record's other actions, as `children`, stand between them.
 */
export function RecordButtons<T extends { id: string }>({
  editor,
  record,
  testIdPrefix,
  children,
}: {
  editor: RecordEditor<T>;
  record: T;
  testIdPrefix: string;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <>
      <button
        type="button"
        onClick={() => editor.setEditing(record)}
        data-testid={`${testIdPrefix}-edit-${record.id}`}
      >
        {t('common.edit')}
      </button>
      {children}
      <button
        type="button"
        className="danger"
        onClick={() => editor.setRemoving(record)}
        data-testid={`${testIdPrefix}-delete-${record.id}`}
      >
        {t('common.delete')}
      </button>
    </>
  );
}

/** Asks before the editor removes the record waiting in `removing`; the confirm button reads "Delete" unless told. */
export function RemoveDialog<T>({
  editor,
  title,
  message,
  confirmLabel,
  testId,
}: {
  editor: RecordEditor<T>;
  title: string;
  message: string;
  confirmLabel?: string;
  testId: string;
}) {
  const { t } = useTranslation();
  return (
    <ConfirmDialog
      open={editor.removing !== null}
      title={title}
      message={message}
      confirmLabel={confirmLabel ?? t('common.delete')}
      danger
      onConfirm={editor.remove}
      onCancel={() => editor.setRemoving(null)}
      testId={testId}
    />
  );
}

/** The button (in its toolbar) that opens the editor's form for a new record. */
export function NewRecordButton<T>({
  editor,
  label,
  testId,
}: {
  editor: RecordEditor<T>;
  label: string;
  testId: string;
}) {
  return (
    <div className="toolbar">
      <button type="button" className="primary" onClick={() => editor.setEditing('new')} data-testid={testId}>
        {label}
      </button>
    </div>
  );
}
