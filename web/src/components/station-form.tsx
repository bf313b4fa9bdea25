import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import type { Fallback, Station, StationKind } from '../api/types';
import { useRecordForm } from '../api/use-record-editor';
import { FormCard } from './form-card';
import { MediaPicker } from './media-picker';
import { TextField } from './text-field';

export const STATION_KINDS: StationKind[] = ['national', 'provincial', 'commune', 'other'];

interface Draft {
  id: string;
  name: string;
  url: string;
  kind: StationKind;
  fallbackKind: Fallback['kind'];
  fallbackStationId: string;
  fallbackMediaId: string;
}

function draftOf(station: Station | null): Draft {
  const fallback = station?.fallback ?? { kind: 'stop' };
  return {
    id: station?.id ?? '',
    name: station?.name ?? '',
    url: station?.url ?? '',
    kind: station?.kind ?? 'national',
    fallbackKind: fallback.kind,
    fallbackStationId: fallback.kind === 'station' ? fallback.stationId : '',
    fallbackMediaId: fallback.kind === 'media' ? fallback.mediaId : '',
  };
}

function fallbackOf(draft: Draft): Fallback {
  switch (draft.fallbackKind) {
    case 'stop':
      return { kind: 'stop' };
    case 'station':
      return { kind: 'station', stationId: draft.fallbackStationId };
    case 'media':
      return { kind: 'media', mediaId: draft.fallbackMediaId };
  }
}

/** The body of POST /stations, or of a PATCH: the id is fixed once the station is kept. */
function bodyOf(draft: Draft, before: Station | null): Record<string, unknown> {
  const fields = {
    name: draft.name.trim(),
    url: draft.url.trim(),
    kind: draft.kind,
    fallback: fallbackOf(draft),
  };
  return before ? fields : { id: draft.id.trim(), ...fields };
}

/** Adds a station an admin wants relayed, or changes one: its stream, its kind, its fallback. */
export function StationForm({
  station,
  stations,
  onSaved,
  onCancel,
}: {
  station: Station | null;
  /** Every station, for a fallback to another one. */
  stations: Station[];
  onSaved: (saved: Station) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const { draft, set, busy, error, submit } = useRecordForm({
    collection: '/api/v1/stations',
    record: station,
    draftOf,
    bodyOf,
    onSaved,
  });
  const [missing, setMissing] = useState<ApiError | null>(null);
  const others = stations.filter((other) => other.id !== station?.id);

  // A media fallback needs a chosen item; the library picker is not a required field by itself.
  const save = (event: FormEvent) => {
    if (draft.fallbackKind === 'media' && !draft.fallbackMediaId) {
      event.preventDefault();
      setMissing(new ApiError(400, 'no_fallback_media', t('stations.needFallbackMedia')));
      return;
    }
    setMissing(null);
    submit(event);
  };

  return (
    <FormCard
      title={station ? t('stations.editTitle', { name: station.name }) : t('stations.newTitle')}
      testId="station-form"
      saveTestId="station-save"
      onSubmit={save}
      error={missing ?? error}
      busy={busy}
      submitLabel={t('common.save')}
      onCancel={onCancel}
    >
      <div className="grid">
        <TextField
          label={t('stations.id')}
          required
          value={draft.id}
          readOnly={station !== null}
          pattern="[a-z0-9][a-z0-9\-]{1,47}"
          title={t('stations.idHint')}
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          onChange={(id) => set({ id: id.toLowerCase() })}
          testId="station-form-id"
        >
          <span className="muted">{t('stations.idHint')}</span>
        </TextField>
        <TextField
          label={t('stations.name')}
          required
          maxLength={120}
          value={draft.name}
          onChange={(name) => set({ name })}
          testId="station-form-name"
        />
        <TextField
          label={t('stations.url')}
          type="url"
          required
          maxLength={2048}
          placeholder="https://"
          value={draft.url}
          onChange={(url) => set({ url })}
          testId="station-form-url"
        >
          <span className="muted">{t('stations.urlHint')}</span>
        </TextField>
        <label>
          {t('stations.kind')}
          <select
            value={draft.kind}
            onChange={(e) => set({ kind: e.target.value as StationKind })}
            data-testid="station-form-kind"
          >
            {STATION_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {t(`stationKind.${kind}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('stations.fallback')}
          <select
            value={draft.fallbackKind}
            onChange={(e) => set({ fallbackKind: e.target.value as Fallback['kind'] })}
            data-testid="station-form-fallback"
          >
            <option value="stop">{t('fallback.stop')}</option>
            <option value="station">{t('stations.fallbackStation')}</option>
            <option value="media">{t('stations.fallbackMedia')}</option>
          </select>
        </label>
        {draft.fallbackKind === 'station' ? (
          <label>
            {t('stations.fallbackStation')}
            <select
              required
              value={draft.fallbackStationId}
              onChange={(e) => set({ fallbackStationId: e.target.value })}
              data-testid="station-form-fallback-station"
            >
              <option value="">{t('stations.choose')}</option>
              {others.map((other) => (
                <option key={other.id} value={other.id}>
                  {other.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      {draft.fallbackKind === 'media' ? (
        <MediaPicker
          id="station-fallback-media"
          value={draft.fallbackMediaId}
          onChange={(fallbackMediaId) => set({ fallbackMediaId })}
        />
      ) : null}
      <p className="muted">{t('stations.fallbackHint')}</p>
    </FormCard>
  );
}
