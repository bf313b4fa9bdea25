import { useTranslation } from 'react-i18next';
import { usePlaces } from '../api/places';
import { useClusters, useGroups } from '../api/registry';
import type { Group } from '../api/types';
import { useRecordEditor } from '../api/use-record-editor';
import { ConfirmDialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { GroupForm } from '../components/group-form';

/** Named sets of clusters an operator aims bulletins at. */
export default function GroupsPage() {
  const { t } = useTranslation();
  const groups = useGroups();
  const { clusters, villages, error: clustersError } = useClusters();
  const { communes } = usePlaces();
  const { editing, setEditing, removing, setRemoving, error, remove } = useRecordEditor<Group>(
    '/api/v1/groups',
    () => groups.reload(),
  );

  const clusterName = (id: string) => clusters.find((c) => c.id === id)?.name ?? id;
  const communeName = (id: string) => communes.find((c) => c.id === id)?.name ?? id;
  const items = groups.data?.items ?? [];

  return (
    <section>
      <h1>{t('groups.title')}</h1>
      <p className="muted">{t('groups.intro')}</p>
      <div className="toolbar">
        <button type="button" className="primary" onClick={() => setEditing('new')} data-testid="group-new">
          {t('groups.new')}
        </button>
      </div>
      {editing ? (
        <GroupForm
          key={editing === 'new' ? 'new' : editing.id}
          group={editing === 'new' ? null : editing}
          communes={communes}
          villages={villages}
          clusters={clusters}
          onSaved={() => {
            setEditing(null);
            groups.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      <ErrorMessage error={error ?? groups.error ?? clustersError} />
      {groups.data && items.length === 0 ? <p>{t('groups.empty')}</p> : null}
      {items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('groups.name')}</th>
                {communes.length > 1 ? <th scope="col">{t('groups.commune')}</th> : null}
                <th scope="col">{t('groups.clusters')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((group) => (
                <tr key={group.id} data-testid={`group-${group.id}`} data-name={group.name}>
                  <th scope="row">{group.name}</th>
                  {communes.length > 1 ? <td>{communeName(group.communeId)}</td> : null}
                  <td>
                    <strong>{t('groups.count', { count: group.clusterIds.length })}</strong>
                    <div className="muted">{group.clusterIds.map(clusterName).join(', ')}</div>
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      onClick={() => setEditing(group)}
                      data-testid={`group-edit-${group.id}`}
                    >
                      {t('common.edit')}
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => setRemoving(group)}
                      data-testid={`group-delete-${group.id}`}
                    >
                      {t('common.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog
        open={removing !== null}
        title={t('groups.removeTitle', { name: removing?.name ?? '' })}
        message={t('groups.removeMessage')}
        confirmLabel={t('common.delete')}
        danger
        onConfirm={remove}
        onCancel={() => setRemoving(null)}
        testId="group-remove"
      />
    </section>
  );
}
