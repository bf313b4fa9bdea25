import { useTranslation } from 'react-i18next';
import type { Commune, Village } from '../api/types';

interface Props {
  id: string;
  value: string;
  onChange: (villageId: string) => void;
  villages: Village[];
  communes: Commune[];
  /** The label of the empty choice: "none chosen yet" when `required`, else "no village" or "all". */
  emptyLabel: string;
  required?: boolean;
  testId?: string;
}

/** Villages to choose from, under their commune's name when the account reaches several. */
export function VillageSelect({
  id,
  value,
  onChange,
  villages,
  communes,
  emptyLabel,
  required,
  testId,
}: Props) {
  const { t } = useTranslation();
  const communeIds = [...new Set(villages.map((v) => v.communeId))];
  const option = (village: Village) => (
    <option key={village.id} value={village.id}>
      {village.name}
    </option>
  );
  return (
    <select
      id={id}
      value={value}
      required={required}
      onChange={(event) => onChange(event.target.value)}
      data-testid={testId}
    >
      <option value="">{emptyLabel}</option>
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
    </select>
  );
}
