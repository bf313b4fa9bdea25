import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import { useLive } from '../api/live';
import type { Broadcast, Targets } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { DeliveryTable, FINAL_STATES } from '../components/deliveries';
import { ConfirmDialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { MediaPicker } from '../components/media-picker';
import { countTargets, TargetPicker } from '../components/target-picker';

const POLL_MS = 3000;

export default function EmergencyPage() {
  const { t } = useTranslation();
  const { deliveries } = useLive();
  const [mediaId, setMediaId] = useState('');
  const [everywhere, setEverywhere] = useState(true);
  const [targets, setTargets] = useState<Targets>({});
  const [volume, setVolume] = useState('100');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [broadcast, setBroadcast] = useState<Broadcast | null>(null);

  const ready = mediaId !== '' && (everywhere || countTargets(targets) > 0);
  const broadcastId = broadcast?.id;
  const settled =
    broadcast !== null &&
    (broadcast.status !== 'active' || broadcast.deliveries.every((d) => FINAL_STATES.has(d.state)));

  // Socket.IO deltas show acks at once; polling backs them up and fills in times and speakers.
  useEffect(() => {
    if (!broadcastId || settled) return;
    const timer = setInterval(() => {
      api<Broadcast>(`/api/v1/broadcasts/${broadcastId}`)
        .then(setBroadcast)
        .catch((caught: unknown) => setError(toApiError(caught)));
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [broadcastId, settled]);

  const send = () => {
    setConfirming(false);
    setBusy(true);
    setError(null);
    api<Broadcast>('/api/v1/broadcasts/emergency', {
      method: 'POST',
      query: { waitMs: 0 },
      body: {
        content: { kind: 'media', mediaId },
        targets: everywhere ? undefined : targets,
        volume: volume ? Number(volume) : undefined,
      },
    })
      .then(setBroadcast)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  const stop = () => {
    if (!broadcast) return;
    api<Broadcast>(`/api/v1/broadcasts/${broadcast.id}/stop`, { method: 'POST' })
      .then(setBroadcast)
      .catch((caught: unknown) => setError(toApiError(caught)));
  };

  return (
    <section>
      <h1>{t('emergency.title')}</h1>
      <p className="muted">{t('emergency.intro')}</p>
      <div className="card form">
        <MediaPicker id="emergency-media" value={mediaId} onChange={setMediaId} />
        <fieldset className="inline">
          <legend>{t('emergency.targets')}</legend>
          <label>
            <input
              type="radio"
              name="scope"
              checked={everywhere}
              onChange={() => setEverywhere(true)}
              data-testid="emergency-all"
            />
            {t('emergency.allClusters')}
          </label>
          <label>
            <input
              type="radio"
              name="scope"
              checked={!everywhere}
              onChange={() => setEverywhere(false)}
              data-testid="emergency-some"
            />
            {t('emergency.chosen')}
          </label>
        </fieldset>
        {everywhere ? null : (
          <TargetPicker legend={t('emergency.chooseTargets')} value={targets} onChange={setTargets} />
        )}
        <label>
          {t('schedule.volume')}
          <input type="number" min={0} max={100} value={volume} onChange={(e) => setVolume(e.target.value)} />
        </label>
        <button
          type="button"
          className="danger big"
          disabled={!ready || busy}
          onClick={() => setConfirming(true)}
          data-testid="emergency-button"
        >
          {busy ? t('emergency.sending') : t('emergency.send')}
        </button>
        {ready ? null : <p className="muted">{t('emergency.needMedia')}</p>}
      </div>
      <ConfirmDialog
        open={confirming}
        title={t('emergency.confirmTitle')}
        message={
          everywhere
            ? t('emergency.confirmAll')
            : t('emergency.confirmSome', { count: countTargets(targets) })
        }
        confirmLabel={t('emergency.confirm')}
        danger
        onConfirm={send}
        onCancel={() => setConfirming(false)}
        testId="emergency-confirm"
      />
      <ErrorMessage error={error} />
      {broadcast ? (
        <section className="card" data-testid="emergency-progress" data-status={broadcast.status}>
          <h2>{t('emergency.progress', { name: broadcast.name })}</h2>
          <p>
            {t(`broadcastStatus.${broadcast.status}`)} ·{' '}
            {t('emergency.acked', {
              done: broadcast.deliveries.filter((d) => {
                const state = deliveries.get(broadcast.id)?.get(d.clusterId)?.state ?? d.state;
                return state !== 'scheduled' && state !== 'sent';
              }).length,
              total: broadcast.deliveries.length,
            })}
          </p>
          {broadcast.status === 'active' ? (
            <button type="button" className="danger" onClick={stop} data-testid="emergency-stop">
              {t('emergency.stop')}
            </button>
          ) : null}
          <DeliveryTable deliveries={broadcast.deliveries} live={deliveries.get(broadcast.id)} />
        </section>
      ) : null}
    </section>
  );
}
