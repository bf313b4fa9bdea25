import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { LiveEnded, LiveStatus } from '../../../contracts/live';
import type { Page } from '../api/client';
import type { Commune, Level, Targets } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { type TalkRequest, type TalkState, useLiveTalk } from '../audio/live-talk';
import { microphoneSupport } from '../audio/microphone';
import { broadcastLogPath } from '../broadcast-log';
import { ErrorMessage } from '../components/error-message';
import { Elapsed, LevelMeter } from '../components/live-meters';
import { MicrophoneNotice } from '../components/microphone-notice';
import { countTargets, TargetPicker } from '../components/target-picker';
import { TextField } from '../components/text-field';
import { useFormat } from '../format';

const LEVELS: Level[] = ['normal', 'priority', 'emergency'];
/** Delivery states counted as a cluster that will not play the talk. */
const FAILED_STATES = ['failed', 'missed', 'expired'] as const;

/** A signed-in operator reads library items here (clusters use signed links instead). */
function mediaContentPath(mediaId: string): string {
  return `/api/v1/media/${encodeURIComponent(mediaId)}/content`;
}

export default function LivePage() {
  const { t } = useTranslation();
  const [support] = useState(microphoneSupport);
  return (
    <section>
      <h1>{t('live.title')}</h1>
      <p className="muted">{t('live.intro')}</p>
      {support === 'ok' ? <LiveTalkForm /> : <MicrophoneNotice support={support} />}
    </section>
  );
}

function LiveTalkForm() {
  const { t } = useTranslation();
  const format = useFormat();
  const { talk, state } = useLiveTalk();
  const communes = useFetch<Page<Commune>>('/api/v1/communes', { limit: 500 });
  const [everywhere, setEverywhere] = useState(true);
  const [targets, setTargets] = useState<Targets>({});
  const [level, setLevel] = useState<Level>('normal');
  const [name, setName] = useState('');
  const [volume, setVolume] = useState('');

  const { phase } = state;
  const busy = phase === 'starting' || phase === 'live' || phase === 'stopping';
  const communeIds = communes.data?.items.map((commune) => commune.id) ?? [];
  const ready = everywhere ? communeIds.length > 0 : countTargets(targets) > 0;

  const start = () => {
    const request: TalkRequest = {
      mode: 'broadcast',
      level,
      // 'live.start' always names its targets: "everywhere" is every commune this account may address.
      targets: everywhere ? { communeIds } : targets,
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(volume ? { volume: Number(volume) } : {}),
    };
    talk.start(request).catch((error: unknown) => console.error('live talk did not start', error));
  };
  const stop = () => {
    talk.stop().catch((error: unknown) => console.error('live talk did not stop', error));
  };

  return (
    <>
      <div className="card form">
        <fieldset className="bare form" disabled={busy}>
          <fieldset className="inline">
            <legend>{t('live.targets')}</legend>
            <label>
              <input
                type="radio"
                name="live-scope"
                checked={everywhere}
                onChange={() => setEverywhere(true)}
                data-testid="live-all"
              />
              {t('live.allClusters')}
            </label>
            <label>
              <input
                type="radio"
                name="live-scope"
                checked={!everywhere}
                onChange={() => setEverywhere(false)}
                data-testid="live-some"
              />
              {t('live.chosen')}
            </label>
          </fieldset>
          {everywhere ? null : (
            <TargetPicker legend={t('live.chooseTargets')} value={targets} onChange={setTargets} />
          )}
          <div className="grid">
            <label>
              {t('schedule.level')}
              <select
                value={level}
                onChange={(event) => setLevel(event.target.value as Level)}
                data-testid="live-level-select"
              >
                {LEVELS.map((choice) => (
                  <option key={choice} value={choice}>
                    {t(`level.${choice}`)}
                  </option>
                ))}
              </select>
            </label>
            <TextField
              label={t('live.name')}
              maxLength={120}
              placeholder={t('live.namePlaceholder')}
              value={name}
              onChange={setName}
              testId="live-name"
            />
            <TextField
              label={t('live.volume')}
              type="number"
              min={0}
              max={100}
              value={volume}
              onChange={setVolume}
              testId="live-volume"
            />
          </div>
          {level === 'emergency' ? (
            <p className="notice level-emergency" role="note" data-testid="live-emergency-note">
              {t('live.emergencyNote')}
            </p>
          ) : null}
        </fieldset>
        <TalkButton
          state={state}
          ready={ready}
          emergency={level === 'emergency'}
          onStart={start}
          onStop={stop}
        />
        {ready || busy ? null : <p className="muted">{t('live.needTargets')}</p>}
        {state.started && busy ? (
          <p className="muted">
            {t('live.limits', {
              max: format.duration(state.started.maxDurationS),
              silence: state.started.silenceLimitS,
            })}
          </p>
        ) : null}
      </div>
      <ErrorMessage error={state.error ?? communes.error} />
      {phase === 'lost' || (phase === 'live' && state.stalled) ? <ConnectionWarning state={state} /> : null}
      {phase === 'idle' ? null : <OnAir state={state} level={talk.level} />}
      {phase === 'ended' && state.ended ? <Ended ended={state.ended} /> : null}
    </>
  );
}

function TalkButton({
  state,
  ready,
  emergency,
  onStart,
  onStop,
}: {
  state: TalkState;
  ready: boolean;
  emergency: boolean;
  onStart: () => void;
  onStop: () => void;
}) {
  const { t } = useTranslation();
  if (state.phase === 'live' || state.phase === 'stopping')
    return (
      <button
        type="button"
        className="danger big talk-button"
        disabled={state.phase === 'stopping'}
        onClick={onStop}
        data-testid="live-stop"
      >
        {state.phase === 'stopping' ? t('live.stopping') : t('live.stop')}
      </button>
    );
  return (
    <button
      type="button"
      className={emergency ? 'danger big talk-button' : 'primary big talk-button'}
      disabled={!ready || state.phase === 'starting'}
      onClick={onStart}
      data-testid="live-start"
    >
      {state.phase === 'starting' ? t('live.starting') : t('live.start')}
    </button>
  );
}

/** Clusters per delivery state, as 'live.status' counts them. */
function counts(status: LiveStatus | null) {
  const of = (state: keyof LiveStatus['deliveries']) => status?.deliveries[state] ?? 0;
  return {
    playing: of('playing'),
    accepted: of('accepted'),
    failed: FAILED_STATES.reduce((sum, state) => sum + of(state), 0),
    total: Object.values(status?.deliveries ?? {}).reduce((sum, n) => sum + (n ?? 0), 0),
  };
}

function OnAir({ state, level }: { state: TalkState; level: () => number }) {
  const { t } = useTranslation();
  const { playing, accepted, failed, total } = counts(state.status);
  const headline =
    state.phase === 'starting'
      ? t('live.opening')
      : state.phase === 'live'
        ? t('live.onAir')
        : state.phase === 'stopping'
          ? t('live.stopping')
          : t('live.offAir');
  return (
    <section className={state.phase === 'live' ? 'card on-air live' : 'card on-air'} data-phase={state.phase}>
      <h2 aria-live="polite">{headline}</h2>
      <div className="on-air-meters">
        <LevelMeter level={level} active={state.phase === 'live'} testId="live-level" />
        <Elapsed from={state.startedAt} until={state.endedAt} testId="live-elapsed" />
      </div>
      <dl className="values">
        <div>
          <dt>{t('live.playing')}</dt>
          <dd data-testid="live-playing">{playing}</dd>
        </div>
        <div>
          <dt>{t('live.accepted')}</dt>
          <dd data-testid="live-accepted">{accepted}</dd>
        </div>
        <div>
          <dt>{t('live.failed')}</dt>
          <dd data-testid="live-failed">{failed}</dd>
        </div>
        <div>
          <dt>{t('live.total')}</dt>
          <dd data-testid="live-total">{total}</dd>
        </div>
        <div>
          <dt>{t('live.listeners')}</dt>
          <dd data-testid="live-listeners">{state.status?.listeners ?? 0}</dd>
        </div>
      </dl>
    </section>
  );
}

/**
 * The connection is gone (`lost`), or nothing has come from the platform for seconds while live
 * (`stalled`, which clears if the network comes back in time): either way the operator must know
 * that the clusters end the talk after the silence limit.
 */
function ConnectionWarning({ state }: { state: TalkState }) {
  const { t } = useTranslation();
  const broadcastId = state.started?.broadcastId;
  const seconds = state.started?.silenceLimitS ?? 0;
  const lost = state.phase === 'lost';
  return (
    <div
      className="notice warning"
      role="alert"
      data-testid="live-warning"
      data-state={lost ? 'lost' : 'stalled'}
    >
      <strong>{lost ? t('live.lostTitle') : t('live.stalledTitle')}</strong>
      <p>{lost ? t('live.lost', { seconds }) : t('live.stalled', { seconds })}</p>
      {lost && broadcastId ? <Link href={broadcastLogPath(broadcastId)}>{t('live.inLog')}</Link> : null}
    </div>
  );
}

function Ended({ ended }: { ended: LiveEnded }) {
  const { t } = useTranslation();
  return (
    <section className="card" data-testid="live-ended" data-reason={ended.reason}>
      <h2>{t('live.endedTitle')}</h2>
      <p>{t(`liveEnd.${ended.reason}`, { defaultValue: t('liveEnd.failed') })}</p>
      {ended.broadcastId ? (
        <p>
          <Link href={broadcastLogPath(ended.broadcastId)} data-testid="live-broadcast">
            {t('live.inLog')}
          </Link>
        </p>
      ) : null}
      {ended.recordingMediaId ? (
        <figure className="recording">
          <figcaption>{t('live.recording')}</figcaption>
          {/* biome-ignore lint/a11y/useMediaCaption: a recording of the operator's own voice has no captions. */}
          <audio
            controls
            preload="none"
            src={mediaContentPath(ended.recordingMediaId)}
            data-testid="live-recording"
            data-media-id={ended.recordingMediaId}
          />
          <a href={mediaContentPath(ended.recordingMediaId)} download>
            {t('live.download')}
          </a>
        </figure>
      ) : (
        <p className="muted">{t('live.noRecording')}</p>
      )}
    </section>
  );
}
