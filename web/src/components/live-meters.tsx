import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * The microphone's level as a bar, read once a frame. The element is written to directly, not
 * through React state, so a talk does not re-render its page sixty times a second.
 */
export function LevelMeter({
  level,
  active,
  testId,
}: {
  level: () => number;
  active: boolean;
  testId: string;
}) {
  const { t } = useTranslation();
  const meter = useRef<HTMLMeterElement>(null);

  useEffect(() => {
    const show = (value: number) => {
      const element = meter.current;
      if (!element) return;
      element.value = value;
      element.setAttribute('aria-valuenow', String(value));
    };
    if (!active) {
      show(0);
      return;
    }
    let frame = 0;
    let shown = -1;
    const tick = () => {
      const value = level();
      if (value !== shown) {
        shown = value;
        show(value);
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame);
      show(0);
    };
  }, [active, level]);

  return (
    <meter
      ref={meter}
      className="level-meter"
      min={0}
      max={100}
      // Speech sits around 60–75; the top of the scale is the microphone clipping.
      low={85}
      high={95}
      optimum={40}
      value={0}
      aria-valuenow={0}
      aria-label={t('live.meter')}
      data-testid={testId}
    />
  );
}

/** Minutes and seconds, as a stopwatch shows them: 00:07, 12:45, 75:02. */
export function stopwatch(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(whole / 60)).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`;
}

/** Time since `from` (ms since the epoch), ticking until `until` is set. */
export function Elapsed({
  from,
  until,
  testId,
}: {
  from: number | null;
  until: number | null;
  testId: string;
}) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (from === null || until !== null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [from, until]);
  const seconds = from === null ? 0 : ((until ?? now) - from) / 1000;
  return (
    <time className="elapsed" dateTime={`PT${Math.max(0, Math.floor(seconds))}S`} data-testid={testId}>
      {stopwatch(seconds)}
    </time>
  );
}
