import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearch } from 'wouter';
import { buildUrl, type Page } from '../api/client';
import type { AvailabilityReport, Broadcast, RelaySwitch } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { broadcastLogPath } from '../broadcast-log';
import { DataTable } from '../components/data-table';
import { DateInput } from '../components/date-input';
import { DeliveryTable } from '../components/deliveries';
import { ErrorMessage } from '../components/error-message';
import { Pager } from '../components/pager';
import { TechnicalDetail } from '../components/technical-detail';
import { type ContentWords, useContentWords } from '../content-words';
import { addDays, dayKey, useFormat, zoneMidnight } from '../format';
import { useLabels } from '../labels';
import { allowed, useSession } from '../session';

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
  const linkedId = new URLSearchParams(search).get('broadcast');
  const [openId, setOpenId] = useState<string | null>(linkedId);
  // A link within the page (a relay's fallback broadcast) opens that one instead.
  useEffect(() => {
    if (linkedId) setOpenId(linkedId);
  }, [linkedId]);
  const from = zoneMidnight(fromDay, timeZone).toISOString();
  const to = zoneMidnight(addDays(toDay, 1), timeZone).toISOString();
  const log = useFetch<Page<Broadcast>>('/api/v1/broadcasts', { from, to, limit: PAGE, offset });
  // Approvers read the log of what aired; the clusters' availability is the operators' and technicians'.
  const uptime = allowed(useSession().me.roles, ['operator', 'technician']);
  const availability = useFetch<AvailabilityReport>(uptime ? '/api/v1/reports/availability' : null, {
    from,
    to,
    limit: 500,
  });
  const detail = useFetch<Broadcast>(openId ? `/api/v1/broadcasts/${openId}` : null);
  // Read with the page, so a detail opened (or followed from a switch) names what it played at once.
  const content = useContentWords();
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
            header: t('broadcast.approvedBy'),
            cell: (broadcast) => <Approval broadcast={broadcast} />,
            data: (broadcast) => ({
              'data-approved-by': broadcast.approvedBy ?? undefined,
              'data-review': broadcast.review?.state,
            }),
          },
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
        <BroadcastDetail broadcast={detail.data} words={content.words} />
      ) : null}
      <ErrorMessage error={content.error} />
      <ErrorMessage error={detail.error} />

      {uptime ? <h2>{t('reports.availability')}</h2> : null}
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

/** Who approved what aired, or where an emergency that did not wait stands in its review after. */
function Approval({ broadcast }: { broadcast: Broadcast }) {
  const { t } = useTranslation();
  if (broadcast.approvedBy) return <>{broadcast.approvedBy}</>;
  if (broadcast.review?.state === 'pending')
    return (
      <span className="badge pending" data-testid="broadcast-review">
        {t('review.pending')}
      </span>
    );
  if (broadcast.review?.state === 'reviewed')
    return (
      <span className="badge ok" data-testid="broadcast-review">
        {t('review.reviewedBy', { name: broadcast.review.reviewedBy ?? t('common.none') })}
      </span>
    );
  return <>{t('common.none')}</>;
}

/** 'upcoming' for a broadcast under way whose start is still ahead: it is not playing yet. */
function statusOf(broadcast: Broadcast): Broadcast['status'] | 'upcoming' {
  return broadcast.status === 'active' && Date.parse(broadcast.startAt) > Date.now()
    ? 'upcoming'
    : broadcast.status;
}

/** One broadcast: what it played, its recording, its switches to a fallback, and each cluster's outcome. */
function BroadcastDetail({ broadcast, words }: { broadcast: Broadcast; words: ContentWords }) {
  const { t } = useTranslation();
  return (
    <section className="card" data-testid="broadcast-detail" data-broadcast-id={broadcast.id}>
      <h3>{broadcast.name}</h3>
      <p data-testid="broadcast-content" data-content-kind={broadcast.content.kind}>
        {/* A talk's stream is the platform's own signed link: say what it was instead. */}
        {t('schedule.content')}:{' '}
        {broadcast.kind === 'talk' ? t('contentText.talk') : words.content(broadcast.content)}
      </p>
      {broadcast.approvedBy || broadcast.review ? (
        <p data-testid="broadcast-approval">
          {t('broadcast.approvedBy')}: <Approval broadcast={broadcast} />
        </p>
      ) : null}
      {broadcast.content.kind === 'programme' ? (
        <ol className="programme-summary" data-testid="broadcast-programme">
          {broadcast.content.items.map((item, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a programme's items are known by their place
            <li key={index}>{words.programmeItem(item)}</li>
          ))}
        </ol>
      ) : null}
      {broadcast.recordingMediaId ? (
        <figure className="recording">
          <figcaption>{t('live.recording')}</figcaption>
          {/* biome-ignore lint/a11y/useMediaCaption: a recording of the operator's own voice has no captions. */}
          <audio
            controls
            preload="none"
            src={`/api/v1/media/${encodeURIComponent(broadcast.recordingMediaId)}/content`}
            data-testid="broadcast-recording"
            data-media-id={broadcast.recordingMediaId}
          />
        </figure>
      ) : null}
      {broadcast.switches.length > 0 ? <Switches switches={broadcast.switches} words={words} /> : null}
      <DeliveryTable deliveries={broadcast.deliveries} />
    </section>
  );
}

/** A station relay's switches to its fallback: when, why, to what, and the broadcast that played it. */
function Switches({ switches, words }: { switches: RelaySwitch[]; words: ContentWords }) {
  const { t } = useTranslation();
  const format = useFormat();
  const labels = useLabels();
  return (
    <section data-testid="broadcast-switches">
      <h4>{t('switches.title')}</h4>
      <DataTable
        rows={switches}
        rowKey={(change) => `${change.at}-${change.toBroadcastId ?? 'stop'}`}
        rowAttributes={(change) => ({
          'data-testid': 'broadcast-switch',
          'data-to': change.to.kind,
          'data-to-broadcast-id': change.toBroadcastId ?? undefined,
        })}
        columns={[
          {
            header: t('switches.at'),
            cell: (change) => <time dateTime={change.at}>{format.stamp(change.at)}</time>,
          },
          {
            header: t('switches.reason'),
            cell: (change) => (
              <>
                {labels.relayReason(change.reason)}
                <TechnicalDetail text={change.reason} />
              </>
            ),
          },
          { header: t('switches.to'), cell: (change) => words.switchedTo(change.to) },
          {
            header: t('switches.broadcast'),
            cell: (change) =>
              change.toBroadcastId ? (
                <Link href={broadcastLogPath(change.toBroadcastId)} data-testid="switch-broadcast">
                  {t('switches.open')}
                </Link>
              ) : (
                t('common.none')
              ),
          },
        ]}
      />
    </section>
  );
}
