import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { buildUrl, type Page } from '../api/client';
import type { AvailabilityReport, Broadcast } from '../api/types';
import { useFetch } from '../api/use-fetch';
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
  const [openId, setOpenId] = useState<string | null>(null);
  const from = zoneMidnight(fromDay, timeZone).toISOString();
  const to = zoneMidnight(addDays(toDay, 1), timeZone).toISOString();
  const log = useFetch<Page<Broadcast>>('/api/v1/broadcasts', { from, to, limit: PAGE, offset });
  const availability = useFetch<AvailabilityReport>('/api/v1/reports/availability', { from, to, limit: 500 });
  const detail = useFetch<Broadcast>(openId ? `/api/v1/broadcasts/${openId}` : null);

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
      <ErrorMessage error={log.error} />
      <div className="table-wrap">
        <table data-testid="broadcast-log">
          <thead>
            <tr>
              <th scope="col">{t('broadcast.start')}</th>
              <th scope="col">{t('broadcast.name')}</th>
              <th scope="col">{t('broadcast.kind')}</th>
              <th scope="col">{t('schedule.level')}</th>
              <th scope="col">{t('broadcast.status')}</th>
              <th scope="col">{t('broadcast.delivered')}</th>
              <th scope="col">{t('broadcast.by')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {log.data?.items.map((broadcast) => (
              <tr key={broadcast.id} data-testid={`broadcast-${broadcast.id}`} data-status={broadcast.status}>
                <td>{format.dateTime(broadcast.startAt)}</td>
                <th scope="row">{broadcast.name}</th>
                <td>{t(`broadcastKind.${broadcast.kind}`)}</td>
                <td>{t(`level.${broadcast.level}`)}</td>
                <td>{t(`broadcastStatus.${statusOf(broadcast)}`)}</td>
                <td>
                  {broadcast.deliveries.filter((d) => d.state === 'done').length}/
                  {broadcast.deliveries.length}
                </td>
                <td>{broadcast.createdBy ?? t('common.none')}</td>
                <td>
                  <button
                    type="button"
                    aria-expanded={openId === broadcast.id}
                    onClick={() => setOpenId(openId === broadcast.id ? null : broadcast.id)}
                  >
                    {t('reports.detail')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager page={log.data} onOffset={setOffset} />
      {openId && detail.data?.id === openId ? (
        <section className="card" data-testid="broadcast-detail">
          <h3>{detail.data.name}</h3>
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
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('reports.village')}</th>
                  <th scope="col">{t('reports.devices')}</th>
                  <th scope="col">{t('reports.uptime')}</th>
                  <th scope="col">{t('reports.offlineTime')}</th>
                </tr>
              </thead>
              <tbody>
                {availability.data.villages.map((village) => (
                  <tr key={village.id}>
                    <th scope="row">{village.name}</th>
                    <td>{village.devices}</td>
                    <td>{t('units.percent', { value: format.number(village.uptimePct, 1) })}</td>
                    <td>{format.duration(village.offlineS)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <details>
            <summary>{t('reports.perCluster')}</summary>
            <div className="table-wrap">
              <table>
                <tbody>
                  {availability.data.devices.items.map((device) => (
                    <tr key={device.id}>
                      <th scope="row">{device.name}</th>
                      <td>{t('units.percent', { value: format.number(device.uptimePct, 1) })}</td>
                      <td>{format.duration(device.offlineS)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
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
