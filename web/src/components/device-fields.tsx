import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { TextField } from './text-field';

/**
 * The device id printed on a cluster or a camera: lower case, fixed once registered (it is the
 * device's login), with the rule shown under it.
 */
export function DeviceIdField({
  label,
  value,
  fixed,
  onChange,
  testId,
}: {
  label: string;
  value: string;
  fixed: boolean;
  onChange: (id: string) => void;
  testId: string;
}) {
  const { t } = useTranslation();
  return (
    <TextField
      label={label}
      required
      value={value}
      readOnly={fixed}
      pattern="[a-z0-9][a-z0-9\-]{1,22}"
      title={t('clusterForm.idHint')}
      autoCapitalize="none"
      autoComplete="off"
      spellCheck={false}
      onChange={(id) => onChange(id.toLowerCase())}
      testId={testId}
    >
      <span className="muted">{t('clusterForm.idHint')}</span>
    </TextField>
  );
}

/**
 * A device's name, required, and the address where it stands (or, for a camera, what it watches),
 * optional; each form words the two labels its own way.
 */
export function NameAddressFields({
  labels,
  value,
  onChange,
  testIdPrefix,
}: {
  labels: { name: string; address: string };
  value: { name: string; address: string };
  onChange: (change: { name: string } | { address: string }) => void;
  testIdPrefix: string;
}) {
  return (
    <>
      <TextField
        label={labels.name}
        required
        maxLength={120}
        value={value.name}
        onChange={(name) => onChange({ name })}
        testId={`${testIdPrefix}-name`}
      />
      <TextField
        label={labels.address}
        maxLength={240}
        value={value.address}
        onChange={(address) => onChange({ address })}
        testId={`${testIdPrefix}-address`}
      />
    </>
  );
}

/**
 * Latitude and longitude as typed (strings, so a half-typed number is kept), and where the
 * browser can tell, a button that fills in where the technician stands. Required always, or (for a
 * place that is optional) only once one of the two is given.
 */
export function LocationFields({
  lat,
  lon,
  onChange,
  required,
  testIdPrefix,
}: {
  lat: string;
  lon: string;
  onChange: (location: { lat: string; lon: string }) => void;
  required: 'always' | 'as-a-pair';
  testIdPrefix: string;
}) {
  const { t } = useTranslation();
  const [locating, setLocating] = useState(false);
  const [locateError, setLocateError] = useState<string | null>(null);
  const locate = () => {
    setLocating(true);
    setLocateError(null);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        onChange({ lat: position.coords.latitude.toFixed(6), lon: position.coords.longitude.toFixed(6) });
        setLocating(false);
      },
      (failure) => {
        setLocateError(failure.message || t('clusterForm.locateFailed'));
        setLocating(false);
      },
      { enableHighAccuracy: true, timeout: 15_000 },
    );
  };
  const coordinate = (which: 'lat' | 'lon', limit: number) => (
    <TextField
      label={t(`clusterForm.${which}`)}
      required={required === 'always' || (which === 'lat' ? lon !== '' : lat !== '')}
      type="number"
      inputMode="decimal"
      step="any"
      min={-limit}
      max={limit}
      value={which === 'lat' ? lat : lon}
      onChange={(value) => onChange(which === 'lat' ? { lat: value, lon } : { lat, lon: value })}
      testId={`${testIdPrefix}-${which}`}
    />
  );
  return (
    <>
      {coordinate('lat', 90)}
      {coordinate('lon', 180)}
      {'geolocation' in navigator ? (
        <div className="actions">
          <button type="button" onClick={locate} disabled={locating}>
            {locating ? t('clusterForm.locating') : t('clusterForm.here')}
          </button>
          {locateError ? <span className="error">{locateError}</span> : null}
        </div>
      ) : null}
    </>
  );
}
