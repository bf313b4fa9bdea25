import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AlarmView } from '../../../contracts/alarms';
import { type ApiError, api } from '../api/client';
import { toApiError } from '../api/use-fetch';
import { Dialog } from './dialog';
import { ErrorMessage } from './error-message';

const NOTE_MAX = 1_000;

/** What is being acknowledged: one alarm, or the open alarms of a village outage under one note. */
export interface AckRequest {
  title: string;
  alarms: AlarmView[];
}

/**
 * Acknowledges alarms with a note saying what is being done. Each is sent on its own (the API
 * takes one alarm at a time); the first refusal stays on screen, and the list is read again
 * either way, since a refused one was most often taken by someone else meanwhile.
 */
export function AlarmAckDialog({
  request,
  onClose,
  onChanged,
}: {
  request: AckRequest | null;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { t } = useTranslation();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const close = () => {
    setNote('');
    setError(null);
    onClose();
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!request) return;
    setBusy(true);
    setError(null);
    let refused: ApiError | null = null;
    for (const alarm of request.alarms) {
      try {
        await api<AlarmView>(`/api/v1/alarms/${encodeURIComponent(alarm.id)}/acknowledge`, {
          method: 'POST',
          body: { note: note.trim() },
        });
      } catch (caught) {
        refused ??= toApiError(caught);
      }
    }
    setBusy(false);
    onChanged();
    if (refused) setError(refused);
    else close();
  };
  return (
    <Dialog open={request !== null} title={request?.title ?? ''} onClose={close} testId="alarm-ack-dialog">
      <form
        className="form"
        onSubmit={(event) => {
          submit(event).catch((caught: unknown) => setError(toApiError(caught)));
        }}
      >
        <label>
          {t('alarms.ackNote')}
          <textarea
            value={note}
            rows={3}
            required
            maxLength={NOTE_MAX}
            onChange={(event) => setNote(event.target.value)}
            data-testid="alarm-ack-note-input"
          />
        </label>
        <ErrorMessage error={error} />
        <div className="actions">
          <button type="button" onClick={close}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className="primary"
            disabled={busy || note.trim() === ''}
            data-testid="alarm-ack-confirm"
          >
            {t('alarms.acknowledge')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
