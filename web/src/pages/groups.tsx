import { useTranslation } from 'react-i18next';
import { usePlaces } from '../api/places';
import { useClusters, useGroups } from '../api/registry';
import type { Group } from '../api/types';
import { useRecordEditor } from '../api/use-record-editor';
import { DataTable } from '../components/data-table';
import { GroupForm } from '../components/group-form';
import { RecordButtons, RemoveDialog } from '../components/record-actions';

/** Named sets of clusters an operator aims bulletins at. */
export default function GroupsPage() {
  const { t } = useTranslation();
  const groups = useGroups();
  const { clusters, villages, error: clustersError } = useClusters();
  const { communes } = usePlaces();
  const editor = useRecordEditor<Group>('/api/v1/groups', () => groups.reload());
  const { editing, setEditing, error } = editor;

  const clusterName = (id: string) => clusters.find((c) => c.id === id)?.name ?? id;
  const communeName = (id: string) => communes.find((c) => c.id === id)?.name ?? id;

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
      <DataTable
        error={error ?? groups.error ?? clustersError}
        empty={t('groups.empty')}
        rows={groups.data?.items}
        rowKey={(group) => group.id}
        rowAttributes={(group) => ({ 'data-testid': `group-${group.id}`, 'data-name': group.name })}
        columns={[
          { header: t('groups.name'), names: true, cell: (group) => group.name },
          communes.length > 1 && {
            header: t('groups.commune'),
            cell: (group) => communeName(group.communeId),
          },
          {
            header: t('groups.clusters'),
            cell: (group) => (
              <>
                <strong>{t('groups.count', { count: group.clusterIds.length })}</strong>
                <div className="muted">{group.clusterIds.map(clusterName).join(', ')}</div>
              </>
            ),
          },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (group) => <RecordButtons editor={editor} record={group} testIdPrefix="group" />,
          },
        ]}
      />
      <RemoveDialog
        editor={editor}
        title={t('groups.removeTitle', { name: editor.removing?.name ?? '' })}
        message={t('groups.removeMessage')}
        testId="group-remove"
      />
    </section>
  );
}
