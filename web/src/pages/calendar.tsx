import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LunarDate, Occurrence } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { airs } from '../components/approval-state';
import { ErrorMessage } from '../components/error-message';
import { useContentWords } from '../content-words';
import { addDays, dayKey, useFormat, weekStart, zoneMidnight } from '../format';

export default function CalendarPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const { timeZone } = format;
  const [start, setStart] = useState(() => weekStart(dayKey(new Date(), timeZone)));
  const days = Array.from({ length: 7 }, (_, i) => addDays(start, i));
  const from = zoneMidnight(start, timeZone).toISOString();
  const to = zoneMidnight(addDays(start, 7), timeZone).toISOString();
  const { data, error, loading } = useFetch<{ items: Occurrence[] }>('/api/v1/schedules/occurrences', {
    from,
    to,
  });

  const { words, error: wordsError } = useContentWords();

  const byDay = new Map<string, Occurrence[]>();
  for (const occurrence of data?.items ?? []) {
    const key = dayKey(new Date(occurrence.start), timeZone);
    byDay.set(key, [...(byDay.get(key) ?? []), occurrence]);
  }

  return (
    <section>
      <h1>{t('calendar.title')}</h1>
      <div className="toolbar">
        <button type="button" onClick={() => setStart(addDays(start, -7))} data-testid="calendar-prev">
          {t('calendar.previous')}
        </button>
        <button type="button" onClick={() => setStart(weekStart(dayKey(new Date(), timeZone)))}>
          {t('calendar.thisWeek')}
        </button>
        <button type="button" onClick={() => setStart(addDays(start, 7))} data-testid="calendar-next">
          {t('calendar.next')}
        </button>
        <span className="muted">
          {t('calendar.range', {
            from: format.day(zoneMidnight(start, timeZone)),
            to: format.day(zoneMidnight(addDays(start, 6), timeZone)),
          })}
          {loading ? ` · ${t('common.loading')}` : ''}
        </span>
      </div>
      <ErrorMessage error={error ?? wordsError} />
      <div className="week">
        {days.map((day) => {
          const items = byDay.get(day) ?? [];
          return (
            <section key={day} className="day" aria-label={format.day(zoneMidnight(day, timeZone))}>
              <h2>{format.day(zoneMidnight(day, timeZone))}</h2>
              {items.length === 0 ? <p className="muted">{t('calendar.empty')}</p> : null}
              <ol>
                {items.map((occurrence) => (
                  <li
                    key={`${occurrence.scheduleId}-${occurrence.start}`}
                    // Not approved (yet): shown where it would air, dimmed, for it will not.
                    className={`occurrence level-${occurrence.level}${airs(occurrence.approval) ? '' : ' unapproved'}`}
                    data-testid="occurrence"
                    data-schedule-id={occurrence.scheduleId}
                    data-content-kind={occurrence.content.kind}
                    data-approval={occurrence.approval}
                  >
                    <time dateTime={occurrence.start}>
                      {format.time(occurrence.start)}–{format.time(occurrence.end)}
                    </time>{' '}
                    <strong>{occurrence.name}</strong>
                    {airs(occurrence.approval) ? null : (
                      <span className="badge pending" data-testid="occurrence-approval">
                        {t(
                          occurrence.approval === 'submitted'
                            ? 'calendar.awaitingApproval'
                            : 'calendar.notApproved',
                        )}
                      </span>
                    )}
                    <OccurrenceDates start={occurrence.start} lunar={occurrence.lunarDate} />
                    <div className="muted">
                      {t(`level.${occurrence.level}`)} · {words.content(occurrence.content)} ·{' '}
                      {t('calendar.clusters', { count: occurrence.clusterIds.length })}
                    </div>
                    {occurrence.preemptedBy.length > 0 ? (
                      <div className="warn">
                        {t('calendar.preemptedBy', {
                          names: occurrence.preemptedBy.map((c) => c.scheduleName).join(', '),
                        })}
                      </div>
                    ) : null}
                    {occurrence.preempts.length > 0 ? (
                      <div className="muted">
                        {t('calendar.preempts', {
                          names: occurrence.preempts.map((c) => c.scheduleName).join(', '),
                        })}
                      </div>
                    ) : null}
                    {occurrence.clashes.length > 0 ? (
                      <div className="error">
                        {t('calendar.clashes', {
                          names: occurrence.clashes.map((c) => c.scheduleName).join(', '),
                        })}
                      </div>
                    ) : null}
                  </li>
                ))}
              </ol>
            </section>
          );
        })}
      </div>
    </section>
  );
}

/** An occurrence's day in both calendars: 21/08 · 15/7 ÂL, with "nhuận" in a leap month. */
function OccurrenceDates({ start, lunar }: { start: string; lunar: LunarDate }) {
  const { t } = useTranslation();
  const format = useFormat();
  const values = { day: lunar.day, month: lunar.month, year: lunar.year };
  return (
    <div
      className="muted"
      data-testid="occurrence-dates"
      data-lunar-day={lunar.day}
      data-lunar-month={lunar.month}
      data-lunar-leap={String(lunar.leap)}
    >
      {format.dayMonth(start)} ·{' '}
      <span title={t(lunar.leap ? 'calendar.lunarLeapTitle' : 'calendar.lunarTitle', values)}>
        {t(lunar.leap ? 'calendar.lunarLeapDate' : 'calendar.lunarDate', values)}
      </span>
    </div>
  );
}
