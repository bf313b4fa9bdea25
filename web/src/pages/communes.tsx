import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Page } from '../api/client';
import type { Commune } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { CommuneForm } from '../components/commune-form';
import { DataTable } from '../components/data-table';

/** The communes the platform serves, and whether each one's announcements wait for approval. */
export default function CommunesPage() {
  const { t } = useTranslation();
  const communes = useFetch<Page<Commune>>('/api/v1/communes', { limit: 500 });
  const [editing, setEditing] = useState<Commune | 'new' | null>(null);

  return (
    <section>
      <h1>{t('communes.title')}</h1>
      <div className="toolbar">
        <button type="button" className="primary" onClick={() => setEditing('new')} data-testid="commune-new">
          {t('communes.new')}
        </button>
      </div>
      {editing ? (
        <CommuneForm
          key={editing === 'new' ? 'new' : editing.id}
          commune={editing === 'new' ? null : editing}
          onSaved={() => {
            setEditing(null);
            communes.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      <DataTable
        error={communes.error}
        empty={t('communes.empty')}
        rows={communes.data?.items}
        rowKey={(commune) => commune.id}
        rowAttributes={(commune) => ({
          'data-testid': `commune-${commune.id}`,
          'data-approval-required': String(commune.approvalRequired),
          'data-province': commune.provinceId ?? undefined,
          'data-code': commune.code ?? undefined,
        })}
        columns={[
          { header: t('communes.code'), cell: (commune) => commune.code ?? t('common.none') },
          { header: t('communes.name'), names: true, cell: (commune) => commune.name },
          { header: t('communes.province'), cell: (commune) => commune.province ?? t('common.none') },
          { header: t('communes.districtShort'), cell: (commune) => commune.district ?? t('common.none') },
          {
            header: t('communes.approval'),
            cell: (commune) =>
              commune.approvalRequired ? (
                <span className="badge pending">{t('communes.approvalOn')}</span>
              ) : (
                t('communes.approvalOff')
              ),
          },
          {
            header: t('common.actions'),
            cell: (commune) => (
              <button
                type="button"
                onClick={() => setEditing(commune)}
                data-testid={`commune-edit-${commune.id}`}
              >
                {t('common.edit')}
              </button>
            ),
          },
        ]}
      />
    </section>
  );
}
