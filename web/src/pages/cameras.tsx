import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Page } from '../api/client';
import { useLive } from '../api/live';
import type { Camera, CameraIncident } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { useCameraOnboarding } from '../components/camera-form';
import { CameraIncidents } from '../components/camera-incidents';
import { CameraLiveDialog } from '../components/camera-live-view';
import { Dialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { OutageBanner } from '../components/outage-banner';
import { TechnicalDetail } from '../components/technical-detail';
import { useFormat } from '../format';
import { allowed, useSession } from '../session';

export default function CamerasPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const cameras = useFetch<Page<Camera>>('/api/v1/cameras', { limit: 500 });
  const { cameras: liveCameras } = useLive();
  const [problemsOnly, setProblemsOnly] = useState(false);
  const [incidentsOf, setIncidentsOf] = useState<Camera | null>(null);
  const installer = allowed(useSession().me.roles, ['technician']);
  // Live pictures of people are for police (and admins); every view is audited.
  const [liveOf, setLiveOf] = useState<Camera | null>(null);
  const police = allowed(useSession().me.roles, ['police']);
  const onboarding = useCameraOnboarding(cameras.reload);

  const items = (cameras.data?.items ?? []).map((camera) => {
    const update = liveCameras.get(camera.id);
    return update
      ? {
          ...camera,
          health: {
            ...camera.health,
            state: update.state,
            since: update.since,
            reason: update.reason,
            detail: update.detail,
            lastPollAt: update.lastPollAt,
          },
        }
      : camera;
  });
  const shown = problemsOnly ? items.filter((camera) => camera.health.state !== 'ok') : items;
  const problems = items.filter((camera) => camera.health.state !== 'ok').length;

  return (
    <section>
      <h1>{t('cameras.title')}</h1>
      <div className="toolbar">
        <label className="check">
          <input
            type="checkbox"
            checked={problemsOnly}
            onChange={(e) => setProblemsOnly(e.target.checked)}
            data-testid="cameras-problems-only"
          />
          {t('cameras.problemsOnly')}
        </label>
        <span data-testid="cameras-summary">{t('cameras.summary', { problems, total: items.length })}</span>
        {installer ? onboarding.toolbar : null}
      </div>
      {installer ? onboarding.panel : null}
      <ErrorMessage error={cameras.error} />
      <OutageBanner />
      <CameraIncidents />
      <ul className="camera-wall">
        {shown.map((camera) => (
          <li
            key={camera.id}
            className={`camera state-${camera.health.state}`}
            data-testid={`camera-${camera.id}`}
            data-state={camera.health.state}
          >
            <img
              src={`/api/v1/cameras/${encodeURIComponent(camera.id)}/snapshot?t=${encodeURIComponent(camera.health.snapshotAt ?? camera.health.lastPollAt ?? '')}`}
              alt={t('cameras.snapshotOf', { name: camera.name })}
              loading="lazy"
              width={320}
              height={180}
            />
            <div className="camera-body">
              <h2>{camera.name}</h2>
              <p>
                <span className={`state-badge state-${camera.health.state}`}>
                  {t(`cameraState.${camera.health.state}`)}
                </span>{' '}
                {t('cameras.since', { time: format.dateTime(camera.health.since) })}
              </p>
              {camera.health.state !== 'ok' ? (
                <p className="muted">
                  {t(`cameraReason.${camera.health.reason}`, { defaultValue: camera.health.reason })}
                </p>
              ) : null}
              {camera.health.state !== 'ok' && camera.health.detail ? (
                <TechnicalDetail text={camera.health.detail} />
              ) : null}
              <p className="muted">
                {t('cameras.uptime', {
                  day: format.number(camera.uptime.last24hPct, 1),
                  week: format.number(camera.uptime.last7dPct, 1),
                })}
              </p>
              <button
                type="button"
                onClick={() => setIncidentsOf(camera)}
                data-testid={`camera-incidents-${camera.id}`}
              >
                {t('cameras.incidents')}
              </button>
              {police ? (
                <button
                  type="button"
                  onClick={() => setLiveOf(camera)}
                  data-testid={`camera-live-${camera.id}`}
                >
                  {t('cameras.live')}
                </button>
              ) : null}
              {installer ? onboarding.tileActions(camera) : null}
            </div>
          </li>
        ))}
      </ul>
      <Dialog
        open={incidentsOf !== null}
        title={t('cameras.incidentsOf', { name: incidentsOf?.name ?? '' })}
        onClose={() => setIncidentsOf(null)}
        testId="camera-incidents"
      >
        {incidentsOf ? <Incidents cameraId={incidentsOf.id} /> : null}
      </Dialog>
      <CameraLiveDialog camera={liveOf} onClose={() => setLiveOf(null)} />
    </section>
  );
}

function Incidents({ cameraId }: { cameraId: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const incidents = useFetch<Page<CameraIncident>>(
    `/api/v1/cameras/${encodeURIComponent(cameraId)}/incidents`,
    {
      limit: 100,
    },
  );
  return (
    <>
      <ErrorMessage error={incidents.error} />
      {incidents.data?.items.length === 0 ? <p>{t('cameras.noIncidents')}</p> : null}
      <ol className="timeline">
        {incidents.data?.items.map((incident) => (
          <li key={incident.id} className={`state-${incident.kind}`}>
            <strong>{t(`cameraState.${incident.kind}`)}</strong>{' '}
            {t('cameras.period', {
              from: format.dateTime(incident.startedAt),
              to: incident.endedAt ? format.dateTime(incident.endedAt) : t('cameras.ongoing'),
            })}
            {incident.durationS !== null ? ` · ${format.duration(incident.durationS)}` : ''}
            <div className="muted">
              {t(`cameraReason.${incident.reason}`, { defaultValue: incident.reason })}
              {incident.detail ? <TechnicalDetail text={incident.detail} /> : null}
            </div>
          </li>
        ))}
      </ol>
    </>
  );
}
