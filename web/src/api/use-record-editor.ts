import { type FormEvent, useEffect, useState } from 'react';
import { type ApiError, api } from './client';
import { toApiError, useFetch } from './use-fetch';

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
  const { busy, error, send } = useRequest();
  const set = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send(
      () =>
        record
          ? api<T>(`${collection}/${encodeURIComponent(record.id)}`, {
              method: 'PATCH',
              body: bodyOf(draft, record),
            })
          : api<T>(collection, { method: 'POST', body: bodyOf(draft, null) }),
      (saved) => onSaved(saved, record === null),
    );
  };
  return { draft, setDraft, set, busy, error, submit };
}

/**
 * A request the user sent (a save, a start): busy until it is answered, then the answer goes to
 * `then`, or the refusal is kept to show.
 */
export function useRequest() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const send = <A>(request: () => Promise<A>, then: (answer: A) => void) => {
    setBusy(true);
    setError(null);
    request()
      .then(then)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };
  return { busy, error, send };
}

/**
 * Settings read from `path` and changed as a draft (made from what was read, and again after
 * each save), then saved with PATCH and read again.
 */
export function useSettingsForm<S, Draft>(
  path: string,
  draftOf: (settings: S) => Draft,
  bodyOf: (draft: Draft) => Record<string, unknown>,
) {
  const settings = useFetch<S>(path);
  const [draft, setDraft] = useState<Draft | null>(null);
  const { busy, error, send } = useRequest();
  const data = settings.data;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the draft follows what was read, not a new draftOf each render.
  useEffect(() => {
    if (data) setDraft(draftOf(data));
  }, [data]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!draft) return;
    send(() => api<S>(path, { method: 'PATCH', body: bodyOf(draft) }), settings.reload);
  };
  return { settings, draft, setDraft, busy, error: settings.error ?? error, submit };
}
