import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Commune, Village } from '../api/types';

interface SelectProps {
  id: string;
  value: string;
  onChange: (id: string) => void;
  /** The label of the empty first choice: "none chosen yet" when `required`, else "no village" or "all". */
  emptyLabel?: string;
  required?: boolean;
  testId?: string;
}

/** The select both share: the empty choice, if it has one, then the places. */
function PlaceSelect({
  id,
  value,
  onChange,
  emptyLabel,
  required,
  testId,
  children,
}: SelectProps & { children: ReactNode }) {
  return (
    <select
      id={id}
      value={value}
      required={required}
      onChange={(event) => onChange(event.target.value)}
      data-testid={testId}
    >
      {emptyLabel === undefined ? null : <option value="">{emptyLabel}</option>}
      {children}
    </select>
  );
}

/** The communes the account reaches. */
export function CommuneSelect({ communes, ...select }: SelectProps & { communes: Commune[] }) {
  return (
    <PlaceSelect {...select}>
      {communes.map((commune) => (
        <option key={commune.id} value={commune.id}>
          {commune.name}
        </option>
      ))}
    </PlaceSelect>
  );
}

/** A page's commune, in its toolbar (id and test id `id`), when the account reaches more than one. */
export function CommuneToolbar({
  id,
  communes,
  value,
  onChange,
}: {
  id: string;
  communes: Commune[];
  value: string;
  onChange: (id: string) => void;
}) {
  const { t } = useTranslation();
  return communes.length > 1 ? (
    <div className="toolbar">
      <label htmlFor={id}>
        {t('alarms.commune')}
        <CommuneSelect id={id} communes={communes} value={value} onChange={onChange} testId={id} />
      </label>
    </div>
  ) : null;
}

/** Villages to choose from, under their commune's name when the account reaches several. */
export function VillageSelect({
  villages,
  communes,
  ...select
}: SelectProps & { villages: Village[]; communes: Commune[]; emptyLabel: string }) {
  const { t } = useTranslation();
  const communeIds = [...new Set(villages.map((v) => v.communeId))];
  const option = (village: Village) => (
    <option key={village.id} value={village.id}>
      {village.name}
    </option>
  );
  return (
    <PlaceSelect {...select}>
      {communeIds.length <= 1
        ? villages.map(option)
        : communeIds.map((communeId) => (
            <optgroup
              key={communeId}
              label={t('clusterForm.communeOf', {
                name: communes.find((c) => c.id === communeId)?.name ?? communeId,
              })}
            >
              {villages.filter((v) => v.communeId === communeId).map(option)}
            </optgroup>
          ))}
    </PlaceSelect>
  );
}
