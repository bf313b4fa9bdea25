import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api, type Page } from '../api/client';
import type { Media } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { ClipRecorder } from './clip-recorder';
import { ErrorMessage } from './error-message';
import { TextSpeech } from './text-speech';

interface Props {
  value: string;
  onChange: (mediaId: string) => void;
  id: string;
}

/** Picks an audio item from the library, or uploads, records or reads aloud a new one and picks it. */
export function MediaPicker({ value, onChange, id }: Props) {
  const { t } = useTranslation();
  const library = useFetch<Page<Media>>('/api/v1/media', { limit: 500 });
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
    <div className="media-picker">
      <label htmlFor={id}>{t('media.choose')}</label>
      <select
        id={id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        data-testid="media-select"
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
          data-testid="media-upload"
        />
      </label>
      <ClipRecorder onRecorded={added} />
      <TextSpeech onSaved={added} />
      <ErrorMessage error={error ?? library.error} />
    </div>
  );
}
