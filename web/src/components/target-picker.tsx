import { useTranslation } from 'react-i18next';
import { useClusters, useGroups } from '../api/registry';
import type { Targets } from '../api/types';

interface Props {
  value: Targets;
  onChange: (targets: Targets) => void;
  legend: string;
}

function toggle(list: string[] | undefined, id: string, on: boolean): string[] {
  const set = new Set(list ?? []);
  if (on) set.add(id);
  else set.delete(id);
  return [...set];
}

/** Villages, groups and single clusters as checkboxes; the platform resolves them to clusters. */
export function TargetPicker({ value, onChange, legend }: Props) {
  const { t } = useTranslation();
  const { clusters, villages } = useClusters();
  const groups = useGroups();

  return (
    <fieldset className="targets">
      <legend>{legend}</legend>
      <details open>
        <summary>{t('targets.villages')}</summary>
        <div className="checks">
          {villages.map((village) => (
            <label key={village.id}>
              <input
                type="checkbox"
                checked={value.villageIds?.includes(village.id) ?? false}
                onChange={(event) =>
                  onChange({
                    ...value,
                    villageIds: toggle(value.villageIds, village.id, event.target.checked),
                  })
                }
                data-testid={`target-village-${village.id}`}
              />
              {village.name}
            </label>
          ))}
        </div>
      </details>
      {(groups.data?.items.length ?? 0) > 0 ? (
        <details>
          <summary>{t('targets.groups')}</summary>
          <div className="checks">
            {groups.data?.items.map((group) => (
              <label key={group.id}>
                <input
                  type="checkbox"
                  checked={value.groupIds?.includes(group.id) ?? false}
                  onChange={(event) =>
                    onChange({ ...value, groupIds: toggle(value.groupIds, group.id, event.target.checked) })
                  }
                />
                {group.name}
              </label>
            ))}
          </div>
        </details>
      ) : null}
      <details>
        <summary>{t('targets.clusters')}</summary>
        <div className="checks">
          {clusters.map((cluster) => (
            <label key={cluster.id}>
              <input
                type="checkbox"
                checked={value.clusterIds?.includes(cluster.id) ?? false}
                onChange={(event) =>
                  onChange({
                    ...value,
                    clusterIds: toggle(value.clusterIds, cluster.id, event.target.checked),
                  })
                }
                data-testid={`target-cluster-${cluster.id}`}
              />
              {cluster.name}
              <span className={cluster.online ? 'dot ok' : 'dot bad'} aria-hidden="true" />
            </label>
          ))}
        </div>
      </details>
    </fieldset>
  );
}

export function countTargets(targets: Targets): number {
  return (
    (targets.communeIds?.length ?? 0) +
    (targets.villageIds?.length ?? 0) +
    (targets.clusterIds?.length ?? 0) +
    (targets.groupIds?.length ?? 0)
  );
}
