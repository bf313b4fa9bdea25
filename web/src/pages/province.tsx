import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { useReceiptChanges } from '../api/live';
import type { Province, ProvinceOverview } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { bulletinPath } from '../bulletin-path';
import { BulletinForm } from '../components/bulletin-form';
import { DataTable } from '../components/data-table';
import { ErrorMessage } from '../components/error-message';
import { ReceiptCounts } from '../components/receipt-state';
import { useFormat } from '../format';
import { allowed, useSession } from '../session';

/**
 * The province tier (Circular 39): its communes at a glance, a bulletin sent down to them, and the
 * recent bulletins with the communes' answers. A province account sees its own province; an admin
 * chooses one.
 */
export default function ProvincePage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const admin = me.roles.includes('admin');
  const own = me.user.provinceId;
  const provinces = useFetch<{ items: Province[] }>(!own && admin ? '/api/v1/provinces' : null);
  const [chosen, setChosen] = useState('');
  const listed = provinces.data?.items ?? [];
  // An admin starts with the first province that has communes here.
  const provinceId = own ?? (chosen || (listed.find((p) => p.communes > 0) ?? listed[0])?.id || null);
  const overview = useFetch<ProvinceOverview>(
    provinceId ? `/api/v1/provinces/${encodeURIComponent(provinceId)}/overview` : null,
  );
  // What waits in each commune and the recent receipts change with every commune's answer.
  useReceiptChanges(overview.reload);
  const [sending, setSending] = useState(false);

  if (!own && !admin)
    return (
      <section>
        <h1>{t('province.title')}</h1>
        <p data-testid="province-none">{t('province.none')}</p>
      </section>
    );

  const data = overview.data?.province.id === provinceId ? overview.data : null;
  return (
    <section>
      <h1>{data?.province.name ?? t('province.title')}</h1>
      {own ? null : (
        <label className="toolbar">
          {t('province.choose')}
          <select
            value={provinceId ?? ''}
            onChange={(event) => {
              setChosen(event.target.value);
              setSending(false);
            }}
            data-testid="province-select"
          >
            {listed.map((province) => (
              <option key={province.id} value={province.id}>
                {t('province.option', { name: province.name, count: province.communes })}
              </option>
            ))}
          </select>
        </label>
      )}
      <ErrorMessage error={provinces.error ?? overview.error} />
      {data ? (
        <>
          <Overview overview={data} />
          {allowed(me.roles, ['operator']) ? (
            <>
              <div className="toolbar">
                <button
                  type="button"
                  className="primary"
                  onClick={() => setSending(true)}
                  disabled={sending}
                  data-testid="bulletin-new"
                >
                  {t('province.send')}
                </button>
              </div>
              {sending ? (
                <BulletinForm
                  provinceId={own ? null : data.province.id}
                  communes={data.communes}
                  onCancel={() => setSending(false)}
                />
              ) : null}
            </>
          ) : null}
          <Recent overview={data} />
        </>
      ) : null}
    </section>
  );
}

function Overview({ overview }: { overview: ProvinceOverview }) {
  const { t } = useTranslation();
  const { totals } = overview;
  return (
    <section aria-labelledby="province-communes">
      <h2 id="province-communes">{t('province.communes')}</h2>
      <p
        data-testid="province-totals"
        data-communes={totals.communes}
        data-online={totals.online}
        data-clusters={totals.clusters}
        data-waiting={totals.waiting}
      >
        {t('province.totals', {
          communes: totals.communes,
          online: totals.online,
          clusters: totals.clusters,
          waiting: totals.waiting,
        })}
      </p>
      <DataTable
        testId="province-communes"
        empty={t('province.noCommunes')}
        rows={overview.communes}
        rowKey={(commune) => commune.id}
        rowAttributes={(commune) => ({
          'data-testid': `province-commune-${commune.id}`,
          'data-waiting': String(commune.waiting),
        })}
        columns={[
          { header: t('communes.code'), cell: (commune) => commune.code ?? t('common.none') },
          { header: t('communes.name'), names: true, cell: (commune) => commune.name },
          { header: t('province.villages'), cell: (commune) => commune.villages },
          {
            header: t('province.online'),
            cell: (commune) => (
              <span className={commune.online < commune.clusters ? 'warn' : undefined}>
                {commune.online}/{commune.clusters}
              </span>
            ),
          },
          {
            header: t('province.waiting'),
            cell: (commune) =>
              commune.waiting > 0 ? <span className="badge pending">{commune.waiting}</span> : 0,
          },
        ]}
      />
    </section>
  );
}

function Recent({ overview }: { overview: ProvinceOverview }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <section aria-labelledby="province-recent">
      <h2 id="province-recent">{t('province.recent')}</h2>
      <DataTable
        testId="province-recent"
        empty={t('province.noBulletins')}
        rows={overview.recent}
        rowKey={(bulletin) => bulletin.id}
        rowAttributes={(bulletin) => ({ 'data-testid': `recent-${bulletin.id}` })}
        columns={[
          {
            header: t('schedule.name'),
            names: true,
            cell: (bulletin) => (
              <Link href={bulletinPath(bulletin.id)} data-testid={`bulletin-link-${bulletin.id}`}>
                {bulletin.name}
              </Link>
            ),
          },
          {
            header: t('schedule.level'),
            cell: (bulletin) => (
              <span className={`level level-${bulletin.level}`}>{t(`level.${bulletin.level}`)}</span>
            ),
          },
          { header: t('province.sentAt'), cell: (bulletin) => format.minute(bulletin.createdAt) },
          {
            header: t('province.receipts'),
            cell: (bulletin) => <ReceiptCounts byState={bulletin.byState} />,
          },
        ]}
      />
    </section>
  );
}
