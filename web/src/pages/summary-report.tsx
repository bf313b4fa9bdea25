import { Fragment, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SummaryFigures, SummaryReport } from '../../../contracts/reports';
import { buildUrl, type Page } from '../api/client';
import type { Commune, Level, Province } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { DataTable } from '../components/data-table';
import { DateInput } from '../components/date-input';
import { ErrorMessage } from '../components/error-message';
import { Pager } from '../components/pager';
import { addDays, dayKey, useFormat, zoneMidnight } from '../format';
import { useLabels } from '../labels';
import { useSession } from '../session';

const PAGE = 50;
/** Most urgent first, as the report prints them. */
const LEVELS: readonly Level[] = ['emergency', 'priority', 'normal'];
const ORIGIN_COLOURS = { province: '#b54708', commune: '#1f6feb' } as const;

/** The first and the last day of the month holding a YYYY-MM-DD day. */
function monthOf(day: string): { first: string; last: string } {
  const first = `${day.slice(0, 8)}01`;
  const [y, m] = first.split('-').map(Number);
  const next = new Date(Date.UTC(y ?? 1970, m ?? 1, 1)).toISOString().slice(0, 10);
  return { first, last: addDays(next, -1) };
}

/**
 * Báo cáo tổng hợp (Circular 39: the station reports to the level above): for a period — this
 * month unless chosen — and a commune, a province or everything the account sees, the bulletins
 * by level and origin, hours aired, delivery rate, availability and faults, per commune; with the
 * CSV and the printable report to sign and send up.
 */
export default function SummaryReportPage() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const labels = useLabels();
  const { me } = useSession();
  const { timeZone } = format;
  const month = monthOf(dayKey(new Date(), timeZone));
  const [fromDay, setFromDay] = useState(month.first);
  const [toDay, setToDay] = useState(month.last);
  const [place, setPlace] = useState('');
  const [offset, setOffset] = useState(0);

  const communes = useFetch<Page<Commune>>('/api/v1/communes', { limit: 500 });
  // A province account reports for its province; an account of every commune for any province
  // that has communes here; an account of some communes for those communes only.
  const everywhere = me.user.provinceId === null && me.user.communeIds.length === 0 && !me.user.communeId;
  const provinces = useFetch<{ items: Province[] }>(
    me.user.provinceId !== null || everywhere ? '/api/v1/provinces' : null,
  );
  const provinceChoices = (provinces.data?.items ?? []).filter((p) =>
    me.user.provinceId !== null ? p.id === me.user.provinceId : p.communes > 0,
  );

  const [kind, id] = place.split(':');
  const scope = kind === 'province' ? { provinceId: id } : kind === 'commune' ? { communeId: id } : {};
  const period = {
    from: zoneMidnight(fromDay, timeZone).toISOString(),
    to: zoneMidnight(addDays(toDay, 1), timeZone).toISOString(),
  };
  const lang = i18n.language.startsWith('en') ? 'en' : 'vi';
  const report = useFetch<SummaryReport>('/api/v1/reports/summary', {
    ...period,
    ...scope,
    limit: PAGE,
    offset,
  });
  const data = report.data;
  const choose = (change: () => void) => {
    change();
    setOffset(0);
  };
  const percent = (value: number | null | undefined) =>
    value === null || value === undefined
      ? t('common.none')
      : t('units.percent', { value: format.number(value, 2) });

  return (
    <section>
      <h1>{t('summary.title')}</h1>
      <p className="muted">{t('summary.intro')}</p>
      <form className="toolbar wrap" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('reports.from')}
          <DateInput
            value={fromDay}
            max={toDay}
            onChange={(day) => choose(() => setFromDay(day))}
            data-testid="summary-from"
          />
        </label>
        <label>
          {t('reports.to')}
          <DateInput
            value={toDay}
            min={fromDay}
            onChange={(day) => choose(() => setToDay(day))}
            data-testid="summary-to"
          />
        </label>
        <label>
          {t('summary.place')}
          <select
            value={place}
            onChange={(event) => choose(() => setPlace(event.target.value))}
            data-testid="summary-place"
          >
            <option value="">{t('summary.everything')}</option>
            {provinceChoices.length > 0 ? (
              <optgroup label={t('summary.provinces')}>
                {provinceChoices.map((p) => (
                  <option key={p.id} value={`province:${p.id}`}>
                    {p.name}
                  </option>
                ))}
              </optgroup>
            ) : null}
            <optgroup label={t('summary.communes')}>
              {(communes.data?.items ?? []).map((c) => (
                <option key={c.id} value={`commune:${c.id}`}>
                  {c.name}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        <a
          className="button"
          href={buildUrl('/api/v1/reports/summary', { ...period, ...scope, format: 'csv', lang })}
          download
          data-testid="summary-csv"
        >
          {t('summary.csv')}
        </a>
        <a
          className="button"
          href={buildUrl('/api/v1/reports/summary', { ...period, ...scope, format: 'html', lang })}
          target="_blank"
          rel="noopener"
          data-testid="summary-print"
        >
          {t('summary.print')}
          <span className="visually-hidden"> {t('summary.newTab')}</span>
        </a>
      </form>
      <ErrorMessage error={communes.error ?? provinces.error ?? report.error} />
      {data ? (
        <>
          <h2 data-testid="summary-scope">
            {data.scope.kind === 'all' ? t('summary.everything') : data.scope.name}
          </h2>
          {data.availabilityError ? (
            <p className="warn" data-testid="summary-no-history">
              {t('summary.noHistory')}
            </p>
          ) : null}
          <Totals figures={data.total} communes={data.total.communes} percent={percent} />

          <h2>{t('summary.byLevel')}</h2>
          <LevelChart figures={data.total} />
          <DataTable
            testId="summary-levels"
            rows={LEVELS}
            rowKey={(level) => level}
            columns={[
              { header: t('schedule.level'), names: true, cell: (level) => t(`level.${level}`) },
              {
                header: t('summary.origin.province'),
                cell: (level) => format.number(data.total.bulletins.byLevel[level].province),
              },
              {
                header: t('summary.origin.commune'),
                cell: (level) => format.number(data.total.bulletins.byLevel[level].commune),
              },
              {
                header: t('summary.total'),
                cell: (level) => format.number(data.total.bulletins.byLevel[level].total),
              },
            ]}
          />

          <h2>{t('summary.perCommune')}</h2>
          <DataTable
            testId="summary-communes"
            rows={data.communes}
            rowKey={(commune) => commune.id}
            rowAttributes={(commune) => ({ 'data-commune': commune.id })}
            columns={[
              { header: t('summary.commune'), names: true, cell: (commune) => commune.name },
              { header: t('summary.code'), cell: (commune) => commune.code ?? t('common.none') },
              { header: t('summary.bulletins'), cell: (commune) => format.number(commune.bulletins.total) },
              {
                header: t('summary.fromProvince'),
                cell: (commune) =>
                  format.number(
                    LEVELS.reduce((n, level) => n + commune.bulletins.byLevel[level].province, 0),
                  ),
              },
              { header: t('summary.aired'), cell: (commune) => format.duration(commune.airedS) },
              {
                header: t('summary.delivered'),
                cell: (commune) =>
                  t('summary.doneOf', {
                    done: format.number(commune.deliveries.done),
                    targeted: format.number(commune.deliveries.targeted),
                  }),
              },
              {
                header: t('summary.deliveryRate'),
                cell: (commune) => percent(commune.deliveries.deliveryPct),
              },
              { header: t('summary.uptime'), cell: (commune) => percent(commune.availability?.uptimePct) },
              {
                header: t('summary.failed'),
                cell: (commune) => format.number(commune.faults.failedDeliveries),
              },
              {
                header: t('summary.speakerFaults'),
                cell: (commune) => format.number(commune.faults.speakerFaultDeliveries),
              },
            ]}
          />
          {data.communes.length > 1 ? <p className="muted">{t('summary.totalNote')}</p> : null}

          <h2>{t('summary.perBroadcast')}</h2>
          <DataTable
            testId="summary-broadcasts"
            rows={data.broadcasts.items}
            rowKey={(broadcast) => broadcast.id}
            rowAttributes={(broadcast) => ({ 'data-broadcast': broadcast.id })}
            empty={t('summary.noBroadcasts')}
            columns={[
              { header: t('summary.start'), cell: (broadcast) => format.minute(broadcast.startAt) },
              { header: t('summary.name'), names: true, cell: (broadcast) => broadcast.name },
              { header: t('schedule.level'), cell: (broadcast) => t(`level.${broadcast.level}`) },
              {
                header: t('summary.originColumn'),
                cell: (broadcast) => t(`summary.origin.${broadcast.origin}`),
              },
              data.communes.length > 1 && {
                header: t('summary.communesReached'),
                cell: (broadcast) => format.number(broadcast.communes),
              },
              {
                header: t('summary.delivered'),
                cell: (broadcast) =>
                  t('summary.doneOf', {
                    done: format.number(broadcast.done),
                    targeted: format.number(broadcast.targeted),
                  }),
              },
              { header: t('summary.heard'), cell: (broadcast) => format.number(broadcast.heard) },
              { header: t('summary.deliveryRate'), cell: (broadcast) => percent(broadcast.deliveryPct) },
              { header: t('summary.airedOne'), cell: (broadcast) => format.duration(broadcast.airedS) },
            ]}
          />
          <Pager page={data.broadcasts} onOffset={setOffset} />

          {data.failures.length > 0 ? (
            <>
              <h2>{t('summary.failures')}</h2>
              <DataTable
                testId="summary-failures"
                rows={data.failures}
                rowKey={(failure) => `${failure.state}/${failure.reason ?? ''}`}
                columns={[
                  { header: t('summary.outcome'), cell: (failure) => t(`deliveryState.${failure.state}`) },
                  {
                    header: t('summary.reason'),
                    names: true,
                    cell: (failure) =>
                      failure.reason ? labels.deliveryReason(failure.reason) : t('common.none'),
                  },
                  { header: t('summary.count'), cell: (failure) => format.number(failure.count) },
                ]}
              />
            </>
          ) : null}
          <details>
            <summary>{t('summary.definitionsTitle')}</summary>
            <ul>
              {(['bulletins', 'aired', 'rate', 'uptime', 'faults'] as const).map((key) => (
                <li key={key}>{t(`summary.definitions.${key}`)}</li>
              ))}
            </ul>
          </details>
        </>
      ) : report.loading ? (
        <p className="loading">{t('common.loading')}</p>
      ) : null}
    </section>
  );
}

/** The scope's figures, as the report's first part lists them. */
function Totals({
  figures,
  communes,
  percent,
}: {
  figures: SummaryFigures;
  communes: number;
  percent: (value: number | null | undefined) => string;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const rows: [string, string, string][] = [
    ['communes', t('summary.communeCount'), format.number(communes)],
    ['bulletins', t('summary.bulletins'), format.number(figures.bulletins.total)],
    ['aired', t('summary.aired'), format.duration(figures.airedS)],
    ['cluster-aired', t('summary.clusterAired'), format.duration(figures.clusterAiredS)],
    [
      'delivered',
      t('summary.delivered'),
      t('summary.doneOf', {
        done: format.number(figures.deliveries.done),
        targeted: format.number(figures.deliveries.targeted),
      }),
    ],
    ['heard', t('summary.heard'), format.number(figures.deliveries.heard)],
    ['delivery-rate', t('summary.deliveryRate'), percent(figures.deliveries.deliveryPct)],
    ['clusters', t('summary.clusters'), format.number(figures.availability?.clusters)],
    ['uptime', t('summary.uptime'), percent(figures.availability?.uptimePct)],
    ['outages', t('summary.outages'), format.number(figures.faults.clustersWithOutage)],
    ['failed', t('summary.failed'), format.number(figures.faults.failedDeliveries)],
    ['speaker-faults', t('summary.speakerFaults'), format.number(figures.faults.speakerFaultDeliveries)],
  ];
  return (
    <dl className="facts card" data-testid="summary-totals">
      {rows.map(([key, label, value]) => (
        <Fragment key={key}>
          <dt>{label}</dt>
          <dd data-figure={key}>{value}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

/**
 * Bulletins by level, the province's and the commune's side by side (uPlot, as the device history
 * chart). A canvas says nothing to a screen reader: its label says it all, and the table below it
 * holds the same numbers.
 */
function LevelChart({ figures }: { figures: SummaryFigures }) {
  const container = useRef<HTMLDivElement>(null);
  const { t } = useTranslation();
  const names = LEVELS.map((level) => t(`level.${level}`));
  const province = LEVELS.map((level) => figures.bulletins.byLevel[level].province);
  const commune = LEVELS.map((level) => figures.bulletins.byLevel[level].commune);
  const provinceLabel = t('summary.origin.province');
  const communeLabel = t('summary.origin.commune');
  const levelLabel = t('schedule.level');
  const description = t('summary.chartLabel', {
    values: LEVELS.map(
      (_, i) => `${names[i]}: ${provinceLabel} ${province[i]}, ${communeLabel} ${commune[i]}`,
    ).join('; '),
  });
  const key = JSON.stringify([names, province, commune, provinceLabel, communeLabel, levelLabel]);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const [levels, fromProvince, fromCommune, provinceName, communeName, levelName] = JSON.parse(key) as [
      string[],
      number[],
      number[],
      string,
      string,
      string,
    ];
    const bars = (align: -1 | 1) => uPlot.paths.bars?.({ size: [0.35, 64], align, gap: 2 });
    const xs = levels.map((_, i) => i);
    const options: uPlot.Options = {
      width: Math.max(280, element.clientWidth),
      height: 240,
      scales: {
        x: { time: false, range: () => [-0.6, levels.length - 0.4] },
        y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
      },
      series: [
        { label: levelName, value: (_u, v) => (v === null ? '—' : (levels[v] ?? '')) },
        {
          label: provinceName,
          fill: ORIGIN_COLOURS.province,
          stroke: ORIGIN_COLOURS.province,
          paths: bars(-1),
          points: { show: false },
        },
        {
          label: communeName,
          fill: ORIGIN_COLOURS.commune,
          stroke: ORIGIN_COLOURS.commune,
          paths: bars(1),
          points: { show: false },
        },
      ],
      axes: [
        { splits: () => xs, values: (_u, splits) => splits.map((s) => levels[s] ?? '') },
        { size: 50, values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? String(s) : '')) },
      ],
      // The bars' numbers are in the table below; the legend names the colours.
      legend: { show: true, live: false },
      cursor: { show: false },
    };
    const chart = new uPlot(options, [xs, fromProvince, fromCommune], element);
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(280, element.clientWidth), height: 240 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [key]);

  return (
    <div ref={container} className="chart" role="img" aria-label={description} data-testid="summary-chart" />
  );
}
