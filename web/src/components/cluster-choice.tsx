import { useTranslation } from 'react-i18next';
import { useClusters } from '../api/registry';
import { CheckList } from './text-field';

/** Villages and single clusters, as the platform's targets take them (no groups: those are operators'). */
export interface ClusterTargets {
  villageIds: string[];
  clusterIds: string[];
}

export const NO_TARGETS: ClusterTargets = { villageIds: [], clusterIds: [] };

/** Whole villages or single clusters, as checkboxes (test ids `<testId>-village-<id>`, `<testId>-cluster-<id>`). */
export function ClusterChoice({
  value,
  onChange,
  legend,
  testId,
}: {
  value: ClusterTargets;
  onChange: (value: ClusterTargets) => void;
  legend: string;
  testId: string;
}) {
  const { t } = useTranslation();
  const { clusters, villages } = useClusters();
  return (
    <fieldset className="targets">
      <legend>{legend}</legend>
      {(['village', 'cluster'] as const).map((kind) => (
        <details key={kind} open={kind === 'village'}>
          <summary>{t(`targets.${kind}s`)}</summary>
          <CheckList
            options={kind === 'village' ? villages : clusters}
            value={value[`${kind}Ids`]}
            onChange={(ids) => onChange({ ...value, [`${kind}Ids`]: ids })}
            testId={`${testId}-${kind}`}
          />
        </details>
      ))}
    </fieldset>
  );
}
