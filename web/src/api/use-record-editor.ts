import { type FormEvent, useState } from 'react';
import { type ApiError, api } from './client';
import { toApiError } from './use-fetch';

export interface RecordEditor<T> {
  /** The record whose form is open, or 'new' for an empty one. */
  editing: T | 'new' | null;
  setEditing: (record: T | 'new' | null) => void;
  /** The record waiting for the user to confirm its removal. */
  removing: T | null;
  setRemoving: (record: T | null) => void;
  error: ApiError | null;
  setError: (error: ApiError | null) => void;
  /** Deletes `removing`, then reloads the list. */
  remove: () => void;
}

/**
 * The state of a list page that edits its records: the record being edited (or a new one), the
 * one waiting for the user to confirm its removal, and the removal itself (DELETE, then the list
 * reloads; a refusal such as 409 is kept to show).
 */
export function useRecordEditor<T extends { id: string }>(
  collection: string,
  reload: () => void,
): RecordEditor<T> {
  const [editing, setEditing] = useState<T | 'new' | null>(null);
  const [removing, setRemoving] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const remove = () => {
    const record = removing;
    setRemoving(null);
    if (!record) return;
    setError(null);
    api(`${collection}/${encodeURIComponent(record.id)}`, { method: 'DELETE' })
      .then(reload)
      .catch((caught: unknown) => setError(toApiError(caught)));
  };
  return { editing, setEditing, removing, setRemoving, error, setError, remove };
}

/**
 * A record's form: its draft (from the record, or empty for a new one), and saving it — POST to
 * the collection for a new record, PATCH for an existing one — with the busy flag and the
 * refusal to show.
 */
export function useRecordForm<T extends { id: string }, Draft>(options: {
  collection: string;
  record: T | null;
  draftOf: (record: T | null) => Draft;
  bodyOf: (draft: Draft, before: T | null) => Record<string, unknown>;
  onSaved: (saved: T, created: boolean) => void;
}) {
  const { collection, record, draftOf, bodyOf, onSaved } = options;
  const [draft, setDraft] = useState<Draft>(() => draftOf(record));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const set = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const request = record
      ? api<T>(`${collection}/${encodeURIComponent(record.id)}`, {
          method: 'PATCH',
          body: bodyOf(draft, record),
        })
      : api<T>(collection, { method: 'POST', body: bodyOf(draft, null) });
    request
      .then((saved) => onSaved(saved, record === null))
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };
  return { draft, setDraft, set, busy, error, submit };
}
