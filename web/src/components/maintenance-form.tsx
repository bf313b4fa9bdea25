import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MaintenanceView } from '../../../contracts/alarms';
import { type ApiError, api } from '../api/client';
import type { Commune, Village } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { useFormat, wallTimeOf, zoneInstant } from '../format';
import type { AlarmDevice } from './alarm-parts';
import { DateInput } from './date-input';
import { FormCard } from './form-card';
import { VillageSelect } from './place-select';
import { TextField } from './text-field';

const REASON_MAX = 500;
const DEFAULT_HOURS = 4;

/**
 * Puts a village, or some devices, under maintenance from now until a time: their alarms are kept
 * but held, reaching no one while the technician works on them.
 */
export function MaintenanceForm({
  villages,
  communes,
  devices,
  onSaved,
  onCancel,
}: {
  villages: Village[];
  communes: Commune[];
  devices: AlarmDevice[];
  onSaved: (window: MaintenanceView) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const { timeZone } = useFormat();
  const [scope, setScope] = useState<'village' | 'devices'>('village');
  const [villageId, setVillageId] = useState('');
  const [deviceIds, setDeviceIds] = useState<ReadonlySet<string>>(new Set());
  const [until, setUntil] = useState(() =>
    wallTimeOf(new Date(Date.now() + DEFAULT_HOURS * 3600_000), timeZone).slice(0, 16),
  );
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const toggle = (id: string, on: boolean) =>
    setDeviceIds((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    api<MaintenanceView>('/api/v1/maintenance', {
      method: 'POST',
      body: {
        ...(scope === 'village' ? { villageId } : { deviceIds: [...deviceIds] }),
        endsAt: zoneInstant(until, timeZone).toISOString(),
        reason: reason.trim(),
      },
    })
      .then(onSaved)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <FormCard
      title={t('maintenance.new')}
      testId="maintenance-form"
      onSubmit={submit}
      error={error}
      busy={busy || (scope === 'devices' && deviceIds.size === 0)}
      submitLabel={t('maintenance.save')}
      onCancel={onCancel}
    >
      <fieldset className="bare">
        <legend>{t('maintenance.what')}</legend>
        <label className="check">
          <input
            type="radio"
            name="maintenance-scope"
            checked={scope === 'village'}
            onChange={() => setScope('village')}
            data-testid="maintenance-scope-village"
          />
          {t('maintenance.wholeVillage')}
        </label>
        <label className="check">
          <input
            type="radio"
            name="maintenance-scope"
            checked={scope === 'devices'}
            onChange={() => setScope('devices')}
            data-testid="maintenance-scope-devices"
          />
          {t('maintenance.someDevices')}
        </label>
      </fieldset>
      {scope === 'village' ? (
        <label htmlFor="maintenance-village">
          {t('maintenance.village')}
          <VillageSelect
            id="maintenance-village"
            villages={villages}
            communes={communes}
            value={villageId}
            onChange={setVillageId}
            emptyLabel={t('maintenance.chooseVillage')}
            required
            testId="maintenance-village"
          />
        </label>
      ) : (
        <fieldset className="checks">
          <legend>{t('maintenance.devices')}</legend>
          {devices.map((device) => (
            <label key={device.id} className="check">
              <input
                type="checkbox"
                checked={deviceIds.has(device.id)}
                onChange={(e) => toggle(device.id, e.target.checked)}
                data-testid={`maintenance-device-${device.id}`}
              />
              {device.name}
            </label>
          ))}
        </fieldset>
      )}
      <label>
        {t('maintenance.until', { zone: timeZone })}
        <DateInput
          type="datetime-local"
          value={until}
          onChange={setUntil}
          required
          data-testid="maintenance-until"
        />
      </label>
      <TextField
        label={t('maintenance.reason')}
        value={reason}
        onChange={setReason}
        required
        maxLength={REASON_MAX}
        testId="maintenance-reason"
      />
    </FormCard>
  );
}
