import { useTranslation } from 'react-i18next';
import type { AlarmView } from '../../../contracts/alarms';
import { type ApiError, api } from '../api/client';
import { toApiError } from '../api/use-fetch';
import { NoteDialog } from './dialog';

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
  const acknowledge = async (note: string) => {
    if (!request) return;
    let refused: ApiError | null = null;
    for (const alarm of request.alarms) {
      try {
        await api<AlarmView>(`/api/v1/alarms/${encodeURIComponent(alarm.id)}/acknowledge`, {
          method: 'POST',
          body: { note },
        });
      } catch (caught) {
        refused ??= toApiError(caught);
      }
    }
    onChanged();
    if (refused) throw refused;
    onClose();
  };
  return (
    <NoteDialog
      open={request !== null}
      title={request?.title ?? ''}
      label={t('alarms.ackNote')}
      confirmLabel={t('alarms.acknowledge')}
      maxLength={NOTE_MAX}
      onConfirm={acknowledge}
      onCancel={onClose}
      testId="alarm-ack"
      noteTestId="alarm-ack-note-input"
    />
  );
}
