import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MaintenanceView } from '../../../contracts/alarms';
import { type ApiError, api } from '../api/client';
import type { Commune, Village } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { useFormat } from '../format';
import type { AlarmDevice } from './alarm-parts';
import { DataTable } from './data-table';
import { MaintenanceForm } from './maintenance-form';

/**
 * "Bảo trì": the maintenance windows not over yet, a form to open one, and a button to end one
 * early (the work is done, alarms should reach people again).
 */
export function MaintenancePanel({
  communeId,
  communes,
  villages,
  devices,
}: {
  /** '' for every commune the account reaches. */
  communeId: string;
  communes: Commune[];
  villages: Village[];
  devices: { list: AlarmDevice[]; byId: ReadonlyMap<string, AlarmDevice> };
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const windows = useFetch<{ items: MaintenanceView[] }>(
    '/api/v1/maintenance',
    communeId ? { communeId } : {},
  );
  const [adding, setAdding] = useState(false);
  const [ending, setEnding] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<ApiError | null>(null);
  const inCommune = <T extends { communeId: string }>(list: T[]) =>
    communeId ? list.filter((item) => item.communeId === communeId) : list;

  const end = (window: MaintenanceView) => {
    setEnding((current) => new Set(current).add(window.id));
    setError(null);
    api(`/api/v1/maintenance/${encodeURIComponent(window.id)}`, { method: 'DELETE' })
      .then(() => windows.reload())
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() =>
        setEnding((current) => {
          const next = new Set(current);
          next.delete(window.id);
          return next;
        }),
      );
  };

  const what = (window: MaintenanceView) =>
    window.villageId
      ? t('maintenance.ofVillage', {
          name: villages.find((v) => v.id === window.villageId)?.name ?? window.villageId,
        })
      : window.deviceIds.map((id) => devices.byId.get(id)?.name ?? id).join(', ');

  return (
    <section className="card" data-testid="maintenance">
      <h2>{t('maintenance.title')}</h2>
      <p className="muted">{t('maintenance.intro')}</p>
      {adding ? (
        <MaintenanceForm
          villages={inCommune(villages)}
          communes={communes}
          devices={inCommune(devices.list)}
          onSaved={() => {
            setAdding(false);
            windows.reload();
          }}
          onCancel={() => setAdding(false)}
        />
      ) : (
        <div className="toolbar">
          <button
            type="button"
            className="primary"
            onClick={() => setAdding(true)}
            data-testid="maintenance-new"
          >
            {t('maintenance.new')}
          </button>
        </div>
      )}
      <DataTable
        error={error ?? windows.error}
        empty={t('maintenance.none')}
        testId="maintenance-windows"
        rows={windows.data?.items}
        rowKey={(window) => window.id}
        rowAttributes={(window) => ({
          'data-testid': 'maintenance-row',
          'data-window-id': window.id,
          'data-village-id': window.villageId ?? undefined,
          'data-devices': window.deviceIds.join(' '),
        })}
        columns={[
          { header: t('maintenance.what'), names: true, cell: what },
          {
            header: t('maintenance.period'),
            cell: (window) =>
              t('alarms.fromTo', {
                from: format.dateTime(window.startsAt),
                to: format.dateTime(window.endsAt),
              }),
          },
          { header: t('maintenance.reason'), cell: (window) => window.reason },
          { header: t('maintenance.by'), cell: (window) => window.createdBy ?? t('common.none') },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (window) => (
              <button
                type="button"
                disabled={ending.has(window.id)}
                onClick={() => end(window)}
                data-testid="maintenance-end"
              >
                {t('maintenance.endNow')}
              </button>
            ),
          },
        ]}
      />
    </section>
  );
}
