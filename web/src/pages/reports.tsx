import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearch } from 'wouter';
import { buildUrl, type Page } from '../api/client';
import type { AvailabilityReport, Broadcast } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { DataTable } from '../components/data-table';
import { DateInput } from '../components/date-input';
import { DeliveryTable } from '../components/deliveries';
import { ErrorMessage } from '../components/error-message';
import { Pager } from '../components/pager';
import { addDays, dayKey, useFormat, zoneMidnight } from '../format';

const PAGE = 50;

export default function ReportsPage() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const { timeZone } = format;
  const today = dayKey(new Date(), timeZone);
  const [fromDay, setFromDay] = useState(addDays(today, -6));
  const [toDay, setToDay] = useState(today);
  const [offset, setOffset] = useState(0);
  // `?broadcast=<id>` (a link from the live talk page) opens that broadcast's detail.
  const search = useSearch();
  const [openId, setOpenId] = useState<string | null>(() => new URLSearchParams(search).get('broadcast'));
  const from = zoneMidnight(fromDay, timeZone).toISOString();
  const to = zoneMidnight(addDays(toDay, 1), timeZone).toISOString();
  const log = useFetch<Page<Broadcast>>('/api/v1/broadcasts', { from, to, limit: PAGE, offset });
  const availability = useFetch<AvailabilityReport>('/api/v1/reports/availability', { from, to, limit: 500 });
  const detail = useFetch<Broadcast>(openId ? `/api/v1/broadcasts/${openId}` : null);
  const percent = (pct: number | null) => t('units.percent', { value: format.number(pct, 1) });

  return (
    <section>
      <h1>{t('reports.title')}</h1>
      <form className="toolbar" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('reports.from')}
          <DateInput
            value={fromDay}
            max={toDay}
            onChange={(day) => {
              setFromDay(day);
              setOffset(0);
            }}
          />
        </label>
        <label>
          {t('reports.to')}
          <DateInput
            value={toDay}
            min={fromDay}
            onChange={(day) => {
              setToDay(day);
              setOffset(0);
            }}
          />
        </label>
        <a
          className="button"
          href={buildUrl('/api/v1/broadcasts', {
            from,
            to,
            format: 'csv',
            limit: 500,
            // The report in the console's language: Vietnamese headers and values, or English.
            lang: i18n.language.startsWith('en') ? 'en' : 'vi',
          })}
          download
          data-testid="broadcasts-csv"
        >
          {t('reports.csv')}
        </a>
      </form>

      <h2>{t('reports.log')}</h2>
      <DataTable
        error={log.error}
        testId="broadcast-log"
        rows={log.data?.items}
        rowKey={(broadcast) => broadcast.id}
        rowAttributes={(broadcast) => ({
          'data-testid': `broadcast-${broadcast.id}`,
          'data-status': broadcast.status,
        })}
        columns={[
          { header: t('broadcast.start'), cell: (broadcast) => format.dateTime(broadcast.startAt) },
          { header: t('broadcast.name'), names: true, cell: (broadcast) => broadcast.name },
          { header: t('broadcast.kind'), cell: (broadcast) => t(`broadcastKind.${broadcast.kind}`) },
          { header: t('schedule.level'), cell: (broadcast) => t(`level.${broadcast.level}`) },
          {
            header: t('broadcast.status'),
            cell: (broadcast) => t(`broadcastStatus.${statusOf(broadcast)}`),
          },
          {
            header: t('broadcast.delivered'),
            cell: (broadcast) =>
              `${broadcast.deliveries.filter((d) => d.state === 'done').length}/${broadcast.deliveries.length}`,
          },
          { header: t('broadcast.by'), cell: (broadcast) => broadcast.createdBy ?? t('common.none') },
          {
            header: t('common.actions'),
            cell: (broadcast) => (
              <button
                type="button"
                aria-expanded={openId === broadcast.id}
                onClick={() => setOpenId(openId === broadcast.id ? null : broadcast.id)}
              >
                {t('reports.detail')}
              </button>
            ),
          },
        ]}
      />
      <Pager page={log.data} onOffset={setOffset} />
      {openId && detail.data?.id === openId ? (
        <section className="card" data-testid="broadcast-detail">
          <h3>{detail.data.name}</h3>
          {detail.data.recordingMediaId ? (
            <figure className="recording">
              <figcaption>{t('live.recording')}</figcaption>
              {/* biome-ignore lint/a11y/useMediaCaption: a recording of the operator's own voice has no captions. */}
              <audio
                controls
                preload="none"
                src={`/api/v1/media/${encodeURIComponent(detail.data.recordingMediaId)}/content`}
                data-testid="broadcast-recording"
                data-media-id={detail.data.recordingMediaId}
              />
            </figure>
          ) : null}
          <DeliveryTable deliveries={detail.data.deliveries} />
        </section>
      ) : null}
      <ErrorMessage error={detail.error} />

      <h2>{t('reports.availability')}</h2>
      <ErrorMessage error={availability.error} />
      {availability.data ? (
        <>
          <p data-testid="availability-overall">
            {t('reports.overall', {
              pct: format.number(availability.data.overall.uptimePct, 1),
              devices: availability.data.overall.devices,
            })}
          </p>
          <DataTable
            rows={availability.data.villages}
            rowKey={(village) => village.id}
            columns={[
              { header: t('reports.village'), names: true, cell: (village) => village.name },
              { header: t('reports.devices'), cell: (village) => village.devices },
              { header: t('reports.uptime'), cell: (village) => percent(village.uptimePct) },
              { header: t('reports.offlineTime'), cell: (village) => format.duration(village.offlineS) },
            ]}
          />
          <details>
            <summary>{t('reports.perCluster')}</summary>
            <DataTable
              rows={availability.data.devices.items}
              rowKey={(device) => device.id}
              columns={[
                { names: true, cell: (device) => device.name },
                { cell: (device) => percent(device.uptimePct) },
                { cell: (device) => format.duration(device.offlineS) },
              ]}
            />
          </details>
        </>
      ) : null}
    </section>
  );
}

/** 'upcoming' for a broadcast under way whose start is still ahead: it is not playing yet. */
function statusOf(broadcast: Broadcast): Broadcast['status'] | 'upcoming' {
  return broadcast.status === 'active' && Date.parse(broadcast.startAt) > Date.now()
    ? 'upcoming'
    : broadcast.status;
}
