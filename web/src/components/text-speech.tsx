import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api, apiBlob } from '../api/client';
import type { Media, SpeechMediaRequest, SpeechRequest, Voice } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { useFormat } from '../format';
import { ErrorMessage } from './error-message';

/** The limits of SpeechMediaRequestSchema (contracts/tts.ts). */
const TEXT_MAX = 5_000;
const NAME_MAX = 200;

/** Every voice the platform reads in, each with its words; a voice added to the contract fails here. */
const VOICES: Record<Voice, string> = {
  northern: 'tts.voices.northern',
  central: 'tts.voices.central',
  southern: 'tts.voices.southern',
};

/**
 * Reads a typed bulletin aloud on the platform: a preview to listen to here, or the speech kept in
 * the media library (POST /tts/media) and handed to the picker, as a recorded clip is.
 */
export function TextSpeech({ onSaved }: { onSaved: (mediaId: string) => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [text, setText] = useState('');
  const [voice, setVoice] = useState<Voice>('northern');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState<'preview' | 'save' | null>(null);
  const [previewUrl, setPreviewUrl] = useState<string | null>(null);
  const [unplayable, setUnplayable] = useState(false);
  const [savedId, setSavedId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const previewing = useRef<AbortController | null>(null);

  // Each preview's object URL lives until the next one, an edit, or the panel going away.
  useEffect(() => {
    if (!previewUrl) return;
    return () => URL.revokeObjectURL(previewUrl);
  }, [previewUrl]);
  useEffect(() => () => previewing.current?.abort(), []);

  const blank = text.trim() === '';
  /** A preview of other words or another voice than those now chosen would mislead: it goes. */
  const forgetPreview = () => {
    previewing.current?.abort();
    setPreviewUrl(null);
    setUnplayable(false);
    setSavedId(null);
  };

  const preview = () => {
    const controller = new AbortController();
    previewing.current = controller;
    const body: SpeechRequest = { text, voice };
    setBusy('preview');
    setError(null);
    setUnplayable(false);
    apiBlob('/api/v1/tts/preview', { method: 'POST', body, signal: controller.signal })
      .then((wav) => setPreviewUrl(URL.createObjectURL(wav)))
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(toApiError(caught));
      })
      .finally(() => {
        if (previewing.current === controller) previewing.current = null;
        setBusy(null);
      });
  };

  const save = () => {
    const chosen = name.trim() || t('tts.defaultName', { time: format.minute(new Date().toISOString()) });
    const body: SpeechMediaRequest = { text, voice, name: chosen.slice(0, NAME_MAX) };
    setBusy('save');
    setError(null);
    api<Media>('/api/v1/tts/media', { method: 'POST', body })
      .then((media) => {
        setSavedId(media.id);
        setName('');
        onSaved(media.id);
      })
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(null));
  };

  return (
    <fieldset className="text-speech">
      <legend>{t('tts.title')}</legend>
      <label>
        {t('tts.text')}
        <textarea
          value={text}
          rows={4}
          maxLength={TEXT_MAX}
          placeholder={t('tts.textPlaceholder')}
          onChange={(event) => {
            forgetPreview();
            setText(event.target.value);
          }}
          data-testid="tts-text"
        />
      </label>
      <p className="muted">{t('tts.hint')}</p>
      <div className="toolbar">
        <label>
          {t('tts.voice')}
          <select
            value={voice}
            onChange={(event) => {
              forgetPreview();
              setVoice(event.target.value as Voice);
            }}
            data-testid="tts-voice"
          >
            {Object.entries(VOICES).map(([code, label]) => (
              <option key={code} value={code}>
                {t(label)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={blank || busy !== null} onClick={preview} data-testid="tts-preview">
          {busy === 'preview' ? t('tts.previewing') : t('tts.preview')}
        </button>
      </div>
      {previewUrl ? (
        // biome-ignore lint/a11y/useMediaCaption: the speech of the text typed just above.
        <audio
          controls
          src={previewUrl}
          aria-label={t('tts.preview')}
          onError={() => setUnplayable(true)}
          data-testid="tts-audio"
        />
      ) : null}
      {unplayable ? (
        <p className="error" role="alert" data-testid="tts-unplayable">
          {t('tts.unplayable')}
        </p>
      ) : null}
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
              if (!blank && busy === null) save();
            }}
            data-testid="tts-name"
          />
        </label>
        <button type="button" disabled={blank || busy !== null} onClick={save} data-testid="tts-save">
          {busy === 'save' ? t('tts.saving') : t('tts.save')}
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
