import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import { useLive } from '../api/live';
import type { Broadcast, Content, Targets } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { DeliveryTable, FINAL_STATES } from '../components/deliveries';
import { ConfirmDialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { MediaPicker, useMediaLibrary } from '../components/media-picker';
import { type ItemDraft, ProgrammeEditor, programmeOf, programmeReady } from '../components/programme-editor';
import { type Speech, SpeechFields } from '../components/speech-fields';
import { countTargets, TargetPicker } from '../components/target-picker';

const POLL_MS = 3000;
/** What an emergency may play: a file, a text read aloud, or a programme of them. */
type Kind = Extract<Content['kind'], 'media' | 'tts' | 'programme'>;
const KINDS: [Kind, string][] = [
  ['media', 'schedule.contentMedia'],
  ['tts', 'schedule.contentTts'],
  ['programme', 'schedule.contentProgramme'],
];

export default function EmergencyPage() {
  const { t } = useTranslation();
  const { deliveries } = useLive();
  const [kind, setKind] = useState<Kind>('media');
  const [mediaId, setMediaId] = useState('');
  const [speech, setSpeech] = useState<Speech>({ text: '', voice: 'northern' });
  const [programme, setProgramme] = useState<ItemDraft[]>([]);
  const library = useMediaLibrary(kind === 'programme');
  const [everywhere, setEverywhere] = useState(true);
  const [targets, setTargets] = useState<Targets>({});
  const [volume, setVolume] = useState('100');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [broadcast, setBroadcast] = useState<Broadcast | null>(null);

  const contentReady =
    kind === 'media'
      ? mediaId !== ''
      : kind === 'tts'
        ? speech.text.trim() !== ''
        : programme.length > 0 && programmeReady(programme);
  const ready = contentReady && (everywhere || countTargets(targets) > 0);
  const content = (): Content =>
    kind === 'media'
      ? { kind, mediaId }
      : kind === 'tts'
        ? { kind, text: speech.text.trim(), voice: speech.voice }
        : { kind, items: programmeOf(programme) };
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
        // Text is spoken by the platform before it goes out; an emergency does not wait for approval.
        content: content(),
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
        <fieldset className="inline">
          <legend>{t('schedule.content')}</legend>
          {KINDS.map(([choice, label]) => (
            <label key={choice}>
              <input
                type="radio"
                name="emergency-content"
                checked={kind === choice}
                onChange={() => setKind(choice)}
                data-testid={`emergency-content-${choice}`}
              />
              {t(label)}
            </label>
          ))}
        </fieldset>
        {kind === 'media' ? <MediaPicker id="emergency-media" value={mediaId} onChange={setMediaId} /> : null}
        {kind === 'tts' ? (
          <SpeechFields
            legend={t('schedule.contentTts')}
            value={speech}
            onChange={setSpeech}
            testIdPrefix="emergency-tts"
          />
        ) : null}
        {kind === 'programme' ? (
          <ProgrammeEditor value={programme} onChange={setProgramme} library={library} />
        ) : null}
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
        {ready ? null : <p className="muted">{t('emergency.needContent')}</p>}
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
        <section
          className="card"
          data-testid="emergency-progress"
          data-status={broadcast.status}
          data-broadcast-id={broadcast.id}
        >
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
