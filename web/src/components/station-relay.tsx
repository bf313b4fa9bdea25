import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../api/client';
import type { Broadcast, Level, Station, Targets } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { FormCard } from './form-card';
import { countTargets, TargetPicker } from './target-picker';
import { TextField } from './text-field';

const LEVELS: Level[] = ['normal', 'priority', 'emergency'];
/** The platform relays for at most 12 hours at a time (LiveRequestSchema). */
const MAX_MINUTES = 12 * 60;

/**
 * Relays a station now (POST /broadcasts/live with its id) to the chosen targets for a number of
 * minutes; the platform listens to it meanwhile and switches to its fallback if it fails.
 */
export function StationRelayForm({
  station,
  onStarted,
  onCancel,
}: {
  station: Station;
  onStarted: (broadcast: Broadcast) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(station.name);
  const [targets, setTargets] = useState<Targets>({});
  const [level, setLevel] = useState<Level>('normal');
  const [minutes, setMinutes] = useState('60');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (countTargets(targets) === 0) {
      setError(new ApiError(400, 'no_targets', t('schedule.needTargets')));
      return;
    }
    setBusy(true);
    setError(null);
    api<Broadcast>('/api/v1/broadcasts/live', {
      method: 'POST',
      body: {
        name: name.trim() || station.name,
        stationId: station.id,
        durationS: Number(minutes) * 60,
        targets,
        level,
      },
    })
      .then(onStarted)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <FormCard
      title={t('stations.relayTitle', { name: station.name })}
      testId="station-relay-form"
      saveTestId="relay-start"
      onSubmit={submit}
      error={error}
      busy={busy}
      submitLabel={busy ? t('stations.relayStarting') : t('stations.relayStart')}
      onCancel={onCancel}
    >
      <div className="grid">
        <TextField
          label={t('stations.relayName')}
          required
          maxLength={120}
          value={name}
          onChange={setName}
          testId="relay-name"
        />
        <label>
          {t('schedule.level')}
          <select value={level} onChange={(e) => setLevel(e.target.value as Level)} data-testid="relay-level">
            {LEVELS.map((choice) => (
              <option key={choice} value={choice}>
                {t(`level.${choice}`)}
              </option>
            ))}
          </select>
        </label>
        <TextField
          label={t('stations.relayMinutes')}
          type="number"
          required
          min={1}
          max={MAX_MINUTES}
          value={minutes}
          onChange={setMinutes}
          testId="relay-minutes"
        />
      </div>
      {level === 'emergency' ? (
        <p className="notice level-emergency" role="note">
          {t('live.emergencyNote')}
        </p>
      ) : null}
      <TargetPicker legend={t('stations.relayTargets')} value={targets} onChange={setTargets} />
    </FormCard>
  );
}
