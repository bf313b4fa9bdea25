import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLiveTalk } from '../audio/live-talk';
import { microphoneSupport } from '../audio/microphone';
import { useFormat } from '../format';
import { ErrorMessage } from './error-message';
import { Elapsed, LevelMeter } from './live-meters';
import { MicrophoneNotice } from './microphone-notice';

/** The longest name 'live.start' takes (contracts/live.ts). */
const NAME_MAX = 120;

/**
 * Records a clip from the microphone straight into the media library (a 'live.start' in `clip`
 * mode: no targets, nothing plays), then hands its media id to the picker.
 */
export function ClipRecorder({ onRecorded }: { onRecorded: (mediaId: string) => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const { talk, state } = useLiveTalk();
  const [support] = useState(microphoneSupport);
  const [name, setName] = useState('');
  const recorded = useRef(onRecorded);
  recorded.current = onRecorded;

  const mediaId = state.ended?.recordingMediaId ?? null;
  useEffect(() => {
    if (!mediaId) return;
    recorded.current(mediaId);
    setName('');
  }, [mediaId]);

  if (support !== 'ok') return <MicrophoneNotice support={support} compact />;

  const recording = state.phase === 'starting' || state.phase === 'live' || state.phase === 'stopping';
  const record = () => {
    const chosen = name.trim() || t('clip.defaultName', { time: format.dateTime(new Date().toISOString()) });
    talk
      .start({ mode: 'clip', name: chosen.slice(0, NAME_MAX) })
      .catch((error: unknown) => console.error('clip recording did not start', error));
  };
  const stop = () => {
    talk.stop().catch((error: unknown) => console.error('clip recording did not stop', error));
  };

  return (
    <div className="clip-recorder" data-phase={state.phase}>
      {recording ? (
        <div className="toolbar">
          <span className="badge bad">
            {state.phase === 'starting' ? t('clip.opening') : t('clip.recording')}
          </span>
          <Elapsed from={state.startedAt} until={state.endedAt} testId="clip-elapsed" />
          <LevelMeter level={talk.level} active={state.phase === 'live'} testId="clip-level" />
          <button
            type="button"
            className="danger"
            disabled={state.phase !== 'live'}
            onClick={stop}
            data-testid="clip-stop"
          >
            {state.phase === 'stopping' ? t('clip.saving') : t('clip.stop')}
          </button>
        </div>
      ) : (
        <div className="toolbar">
          <label>
            {t('clip.name')}
            <input
              value={name}
              maxLength={NAME_MAX}
              placeholder={t('clip.namePlaceholder')}
              onChange={(event) => setName(event.target.value)}
              onKeyDown={(event) => {
                // The picker sits inside other forms (a schedule's): Enter records, it does not submit them.
                if (event.key !== 'Enter') return;
                event.preventDefault();
                record();
              }}
              data-testid="clip-name"
            />
          </label>
          <button type="button" onClick={record} data-testid="clip-record">
            {t('clip.record')}
          </button>
        </div>
      )}
      {state.phase === 'ended' ? (
        <p className="muted" data-testid="clip-result" data-media-id={mediaId ?? ''}>
          {mediaId ? t('clip.saved') : t('clip.notKept')}
        </p>
      ) : null}
      {state.phase === 'lost' ? (
        <p className="error" role="alert" data-testid="clip-lost">
          {t('clip.lost')}
        </p>
      ) : null}
      <ErrorMessage error={state.error} />
    </div>
  );
}
