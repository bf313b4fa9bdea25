import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api, type Page } from '../api/client';
import type { Media } from '../api/types';
import { type Fetched, toApiError, useFetch } from '../api/use-fetch';
import { ClipRecorder } from './clip-recorder';
import { ErrorMessage } from './error-message';
import { TextSpeech } from './text-speech';

interface Props {
  value: string;
  onChange: (mediaId: string) => void;
  id: string;
  /** The select's label; default "Tệp âm thanh". */
  label?: string;
  /** The select's test id (default `media-select`) and the upload's (`<testId>-upload`, default `media-upload`). */
  testId?: string;
  /** Choose or upload only: no recorder, no text read aloud (an item of a programme). */
  compact?: boolean;
  /** The library as a parent read it once for many pickers; read here when absent. */
  library?: Fetched<Page<Media>>;
}

/** The audio library as the pickers of one form share it; read only while `needed`. */
export function useMediaLibrary(needed = true): Fetched<Page<Media>> {
  return useFetch<Page<Media>>(needed ? '/api/v1/media' : null, { limit: 500 });
}

/** Picks an audio item from the library, or uploads, records or reads aloud a new one and picks it. */
export function MediaPicker({ value, onChange, id, label, testId, compact = false, library: shared }: Props) {
  const { t } = useTranslation();
  const own = useFetch<Page<Media>>(shared ? null : '/api/v1/media', { limit: 500 });
  const library = shared ?? own;
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  /** A new item in the library: listed again so the select holds it, and chosen. */
  const added = (mediaId: string) => {
    library.reload();
    onChange(mediaId);
  };

  const upload = (file: File) => {
    const form = new FormData();
    form.append('file', file);
    setUploading(true);
    setError(null);
    api<Media>('/api/v1/media', { method: 'POST', form })
      .then((media) => added(media.id))
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setUploading(false));
  };

  return (
    <div className={compact ? 'media-picker compact' : 'media-picker'}>
      <label htmlFor={id}>{label ?? t('media.choose')}</label>
      <select
        id={id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        data-testid={testId ?? 'media-select'}
      >
        <option value="">{t('media.none')}</option>
        {library.data?.items.map((media) => (
          <option key={media.id} value={media.id}>
            {media.name}
            {media.durationS ? ` (${t('units.seconds', { value: Math.round(media.durationS) })})` : ''}
          </option>
        ))}
      </select>
      <label className="upload">
        {uploading ? t('media.uploading') : t('media.upload')}
        <input
          type="file"
          accept="audio/*,.mp3,.wav,.ogg,.aac,.m4a"
          disabled={uploading}
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) upload(file);
            event.target.value = '';
          }}
          data-testid={testId ? `${testId}-upload` : 'media-upload'}
        />
      </label>
      {compact ? null : (
        <>
          <ClipRecorder onRecorded={added} />
          <TextSpeech onSaved={added} />
        </>
      )}
      <ErrorMessage error={error ?? library.error} />
    </div>
  );
}
