import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

interface Props {
  points: { at: string; value: number }[];
  label: string;
  timeZone: string;
}

/** A uPlot line chart whose axis shows the commune's time zone. */
export function HistoryChart({ points, label, timeZone }: Props) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const xs = points.map((p) => Date.parse(p.at) / 1000);
    const ys = points.map((p) => p.value);
    const chart = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
        series: [{}, { label, stroke: '#1f6feb', width: 2, spanGaps: false }],
        axes: [{}, { size: 60 }],
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
  }, [points, label, timeZone]);

  return <div ref={container} className="chart" data-testid="history-chart" />;
}
