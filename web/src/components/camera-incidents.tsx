import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Page } from '../api/client';
import { type CameraEventLive, useCameraEvents } from '../api/live';
import { useFetch } from '../api/use-fetch';
import { useFormat } from '../format';
import { ErrorMessage } from './error-message';

const SHOWN = 50;

/** A console left open all day at a busy crossroads: what arrived live is kept to what can be shown. */
function keepShown(events: Map<number, CameraEventLive>): Map<number, CameraEventLive> {
  if (events.size <= SHOWN * 2) return events;
  const ended = [...events.values()]
    .filter((e) => e.endedAt !== null)
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  for (const old of ended.slice(SHOWN)) events.delete(old.id);
  return events;
}

/**
 * Motion, tamper and video loss the cameras of the wall reported: what is going on now first, then
 * the latest that ended. Live from the `cameras.event` stream; read again after a reconnect, when
 * events may have been missed.
 */
export function CameraIncidents() {
  const { t } = useTranslation();
  const format = useFormat();
  const fetched = useFetch<Page<CameraEventLive>>('/api/v1/camera-events', { limit: SHOWN });
  const [live, setLive] = useState<ReadonlyMap<number, CameraEventLive>>(new Map());
  const { reload } = fetched;
  useCameraEvents(
    useCallback(
      (event: CameraEventLive | null) => {
        if (event === null) {
          setLive(new Map());
          reload();
          return;
        }
        setLive((current) => keepShown(new Map(current).set(event.id, event)));
      },
      [reload],
    ),
  );

  const byId = new Map((fetched.data?.items ?? []).map((e) => [e.id, e]));
  for (const [id, event] of live) byId.set(id, event);
  const newest = [...byId.values()].sort(
    (a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || b.id - a.id,
  );
  const ongoing = newest.filter((e) => e.endedAt === null);
  const ended = newest.filter((e) => e.endedAt !== null).slice(0, Math.max(0, SHOWN - ongoing.length));

  return (
    <section className="camera-incidents" data-testid="camera-incidents-panel" aria-live="polite">
      <h2>{t('cameraEvents.title')}</h2>
      <ErrorMessage error={fetched.error} />
      {fetched.data && newest.length === 0 ? <p className="muted">{t('cameraEvents.none')}</p> : null}
      <ol className="timeline">
        {[...ongoing, ...ended].map((event) => (
          <li
            key={event.id}
            className={`state-${event.endedAt === null ? 'offline' : 'ok'}`}
            data-testid={`camera-event-${event.id}`}
            data-kind={event.kind}
            data-camera-id={event.cameraId}
            data-ongoing={event.endedAt === null}
          >
            <strong>{t(`cameraEventKind.${event.kind}`)}</strong> · {event.cameraName}{' '}
            {event.endedAt === null ? (
              <span className="state-badge state-offline">
                {t('cameraEvents.ongoingSince', { time: format.dateTime(event.startedAt) })}
              </span>
            ) : (
              <span className="muted">
                {t('cameras.period', {
                  from: format.dateTime(event.startedAt),
                  to: format.dateTime(event.endedAt),
                })}{' '}
                · {format.duration(event.durationS)}
              </span>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
