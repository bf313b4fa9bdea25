import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import type { Media, SpeechMediaRequest } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { useFormat } from '../format';
import { ErrorMessage } from './error-message';
import { type Speech, SpeechFields } from './speech-fields';

/** The limit of SpeechMediaRequestSchema (contracts/tts.ts). */
const NAME_MAX = 200;

/**
 * Reads a typed bulletin aloud on the platform: a preview to listen to here, or the speech kept in
 * the media library (POST /tts/media) and handed to the picker, as a recorded clip is.
 */
export function TextSpeech({ onSaved }: { onSaved: (mediaId: string) => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [speech, setSpeech] = useState<Speech>({ text: '', voice: 'northern' });
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [savedId, setSavedId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const blank = speech.text.trim() === '';

  const save = () => {
    const chosen = name.trim() || t('tts.defaultName', { time: format.minute(new Date().toISOString()) });
    const body: SpeechMediaRequest = { ...speech, name: chosen.slice(0, NAME_MAX) };
    setBusy(true);
    setError(null);
    api<Media>('/api/v1/tts/media', { method: 'POST', body })
      .then((media) => {
        setSavedId(media.id);
        setName('');
        onSaved(media.id);
      })
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <fieldset className="text-speech">
      <legend>{t('tts.title')}</legend>
      <SpeechFields
        value={speech}
        onChange={(next) => {
          setSavedId(null);
          setSpeech(next);
        }}
        testIdPrefix="tts"
      />
      <p className="muted">{t('tts.hint')}</p>
      <div className="toolbar">
        <label>
          {t('tts.name')}
          <input
            value={name}
            maxLength={NAME_MAX}
            placeholder={t('tts.namePlaceholder')}
            onChange={(event) => setName(event.target.value)}
            onKeyDown={(event) => {
              // The picker sits inside other forms (a schedule's): Enter saves, it does not submit them.
              if (event.key !== 'Enter') return;
              event.preventDefault();
              if (!blank && !busy) save();
            }}
            data-testid="tts-name"
          />
        </label>
        <button type="button" disabled={blank || busy} onClick={save} data-testid="tts-save">
          {busy ? t('tts.saving') : t('tts.save')}
        </button>
      </div>
      {savedId ? (
        <p className="muted" data-testid="tts-result" data-media-id={savedId}>
          {t('tts.saved')}
        </p>
      ) : null}
      <ErrorMessage error={error} />
    </fieldset>
  );
}
