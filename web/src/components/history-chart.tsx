import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

interface Props {
  points: { at: string; value: number }[];
  label: string;
  timeZone: string;
}

/** 24-hour clock and day-month order, as both of the console's languages write them here. */
const clock = uPlot.fmtDate('{HH}:{mm}');
const dayMonth = uPlot.fmtDate('{DD}/{MM}');
const full = uPlot.fmtDate('{DD}/{MM}/{YYYY} {HH}:{mm}:{ss}');

/** A uPlot line chart whose axis and legend show the commune's time zone, 24-hour, day first. */
export function HistoryChart({ points, label, timeZone }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const { t } = useTranslation();
  const timeLabel = t('chart.time');

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const zoned = (ts: number) => uPlot.tzDate(new Date(ts * 1000), timeZone);
    const xs = points.map((p) => Date.parse(p.at) / 1000);
    const ys = points.map((p) => p.value);
    const chart = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 260,
        tzDate: zoned,
        series: [
          { label: timeLabel, value: (_u, ts) => (ts === null ? '—' : full(zoned(ts))) },
          { label, stroke: '#1f6feb', width: 2, spanGaps: false },
        ],
        axes: [{ values: (_u, splits) => tickLabels(splits, zoned) }, { size: 60 }],
        legend: { show: true },
      },
      [xs, ys],
      element,
    );
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(280, element.clientWidth), height: 260 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [points, label, timeZone, timeLabel]);

  return <div ref={container} className="chart" data-testid="history-chart" />;
}

/** Hours on the time axis, with the day where one begins (and on the first tick). */
function tickLabels(splits: number[], zoned: (ts: number) => Date): string[] {
  return splits.map((ts, i) => {
    const date = zoned(ts);
    const midnight = date.getHours() === 0 && date.getMinutes() === 0;
    if (i === 0 || midnight) return midnight ? dayMonth(date) : `${dayMonth(date)} ${clock(date)}`;
    return clock(date);
  });
}
