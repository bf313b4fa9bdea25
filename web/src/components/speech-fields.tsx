import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, apiBlob } from '../api/client';
import type { SpeechRequest, Voice } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { ErrorMessage } from './error-message';

/** The limit of SpeechRequestSchema (contracts/tts.ts). */
export const TEXT_MAX = 5_000;

/** Every voice the platform reads in, each with its words; a voice added to the contract fails here. */
export const VOICES: Record<Voice, string> = {
  northern: 'tts.voices.northern',
  central: 'tts.voices.central',
  southern: 'tts.voices.southern',
};

/** A text to read aloud as a form holds it. */
export interface Speech {
  text: string;
  voice: Voice;
}

export interface SpeechPreview {
  /** The object URL of the last preview, null when none (or it was let go). */
  url: string | null;
  busy: boolean;
  error: ApiError | null;
  /** Synthesizes the text on the platform (POST /tts/preview) and keeps the WAV to play. */
  preview(speech: Speech): void;
  /** Drops the preview (another text or voice would mislead) and any request still out. */
  forget(): void;
}

/**
 * A text heard before it is kept or approved. Each preview's object URL lives until the next one,
 * `forget()`, or the component going away.
 */
export function useSpeechPreview(): SpeechPreview {
  const [url, setUrl] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const previewing = useRef<AbortController | null>(null);

  useEffect(() => {
    if (!url) return;
    return () => URL.revokeObjectURL(url);
  }, [url]);
  useEffect(() => () => previewing.current?.abort(), []);

  const forget = useCallback(() => {
    previewing.current?.abort();
    setUrl(null);
    setError(null);
  }, []);

  const preview = useCallback((speech: Speech) => {
    previewing.current?.abort();
    const controller = new AbortController();
    previewing.current = controller;
    const body: SpeechRequest = { text: speech.text, voice: speech.voice };
    setBusy(true);
    setError(null);
    apiBlob('/api/v1/tts/preview', { method: 'POST', body, signal: controller.signal })
      .then((wav) => setUrl(URL.createObjectURL(wav)))
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(toApiError(caught));
      })
      .finally(() => {
        if (previewing.current !== controller) return;
        previewing.current = null;
        setBusy(false);
      });
  }, []);

  return { url, busy, error, preview, forget };
}

/** The "Nghe thử" button and, once the platform has read the text, the player of what it said. */
export function PreviewPlayer({
  speech,
  preview,
  testIdPrefix,
}: {
  speech: Speech;
  preview: SpeechPreview;
  testIdPrefix: string;
}) {
  const { t } = useTranslation();
  const [unplayable, setUnplayable] = useState(false);
  const { url } = preview;
  // A new preview gets its own chance to play.
  useEffect(() => {
    if (url) setUnplayable(false);
  }, [url]);
  return (
    <>
      <button
        type="button"
        disabled={speech.text.trim() === '' || preview.busy}
        onClick={() => preview.preview(speech)}
        data-testid={`${testIdPrefix}-preview`}
      >
        {preview.busy ? t('tts.previewing') : t('tts.preview')}
      </button>
      {url ? (
        // biome-ignore lint/a11y/useMediaCaption: the speech of the text shown with it.
        <audio
          controls
          src={url}
          aria-label={t('tts.preview')}
          onError={() => setUnplayable(true)}
          data-testid={`${testIdPrefix}-audio`}
        />
      ) : null}
      {url && unplayable ? (
        <p className="error" role="alert" data-testid={`${testIdPrefix}-unplayable`}>
          {t('tts.unplayable')}
        </p>
      ) : null}
      <ErrorMessage error={preview.error} />
    </>
  );
}

/**
 * A text to read aloud and its voice, with a preview to hear it: the text content of a schedule or
 * an emergency, an item of a programme, and the library's "Đọc văn bản". Test ids are
 * `<testIdPrefix>-text`, `-voice`, `-preview`, `-audio`.
 */
export function SpeechFields({
  value,
  onChange,
  testIdPrefix,
  legend,
  textLabel,
  rows = 4,
}: {
  value: Speech;
  onChange: (speech: Speech) => void;
  testIdPrefix: string;
  /** Without one the fields stand in the form's own fieldset (a programme item). */
  legend?: string;
  /** The text's label; default "Nội dung cần đọc". */
  textLabel?: string;
  rows?: number;
}) {
  const { t } = useTranslation();
  const preview = useSpeechPreview();
  /** A preview of other words or another voice than those now chosen would mislead: it goes. */
  const change = (speech: Speech) => {
    preview.forget();
    onChange(speech);
  };
  const fields = (
    <>
      <label>
        {textLabel ?? t('tts.text')}
        <textarea
          value={value.text}
          rows={rows}
          maxLength={TEXT_MAX}
          placeholder={t('tts.textPlaceholder')}
          onChange={(event) => change({ ...value, text: event.target.value })}
          data-testid={`${testIdPrefix}-text`}
        />
      </label>
      <div className="toolbar">
        <label>
          {t('tts.voice')}
          <select
            value={value.voice}
            onChange={(event) => change({ ...value, voice: event.target.value as Voice })}
            data-testid={`${testIdPrefix}-voice`}
          >
            {Object.entries(VOICES).map(([code, label]) => (
              <option key={code} value={code}>
                {t(label)}
              </option>
            ))}
          </select>
        </label>
        <PreviewPlayer speech={value} preview={preview} testIdPrefix={testIdPrefix} />
      </div>
    </>
  );
  return legend === undefined ? (
    <div className="speech-fields">{fields}</div>
  ) : (
    <fieldset className="text-speech">
      <legend>{legend}</legend>
      {fields}
      <p className="muted">{t('tts.hint')}</p>
    </fieldset>
  );
}
