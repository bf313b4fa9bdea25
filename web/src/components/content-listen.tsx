import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Content, ProgrammeItem } from '../api/types';
import type { ContentWords } from '../content-words';
import { PreviewPlayer, useSpeechPreview } from './speech-fields';

/**
 * A file of the library to play as it will air (GET /media/{id}/content with the session). Loaded
 * only when played; a refusal or a missing file says so instead of an empty player.
 */
function MediaAudio({ mediaId, label }: { mediaId: string; label: string }) {
  const { t } = useTranslation();
  const [failed, setFailed] = useState(false);
  return (
    <>
      {/* biome-ignore lint/a11y/useMediaCaption: the bulletin's audio; its text, when it has one, is shown with it. */}
      <audio
        controls
        preload="none"
        src={`/api/v1/media/${encodeURIComponent(mediaId)}/content`}
        aria-label={label}
        onError={() => setFailed(true)}
        data-testid="listen-audio"
        data-media-id={mediaId}
      />
      {failed ? (
        <p className="error" role="alert" data-testid="listen-failed">
          {t('listen.failed')}
        </p>
      ) : null}
    </>
  );
}

/** A text read aloud: the words in full and the speech the platform made of them (or, not yet made, a reading). */
function SpokenText({
  text,
  voice,
  mediaId,
  testIdPrefix,
}: Extract<Content, { kind: 'tts' }> & { testIdPrefix: string }) {
  const { t } = useTranslation();
  const preview = useSpeechPreview();
  return (
    <div className="spoken-text">
      <blockquote data-testid="listen-text">{text}</blockquote>
      <p className="muted">{t(`tts.voices.${voice}`)}</p>
      {mediaId ? (
        <MediaAudio mediaId={mediaId} label={t('listen.speech')} />
      ) : (
        <div className="toolbar">
          <PreviewPlayer speech={{ text, voice }} preview={preview} testIdPrefix={testIdPrefix} />
        </div>
      )}
    </div>
  );
}

function Item({ item, index, words }: { item: ProgrammeItem; index: number; words: ContentWords }) {
  const { t } = useTranslation();
  const label = `${index + 1}. ${t(`programme.kind.${item.kind}`)}`;
  return (
    <li data-testid="listen-item" data-kind={item.kind}>
      <strong>{label}</strong>
      {item.kind === 'tts' ? (
        <SpokenText {...item} testIdPrefix={`listen-item-${index}`} />
      ) : (
        <>
          {' '}
          {words.programmeItem(item)}
          {item.kind === 'silence' ? null : <MediaAudio mediaId={item.mediaId} label={label} />}
        </>
      )}
    </li>
  );
}

/** What a schedule will play, to hear before approving it: files, text read aloud, a programme's parts. */
export function ContentListen({ content, words }: { content: Content; words: ContentWords }) {
  const { t } = useTranslation();
  switch (content.kind) {
    case 'media':
      return (
        <div data-testid="listen-content" data-kind="media">
          <p>{words.content(content)}</p>
          <MediaAudio mediaId={content.mediaId} label={t('listen.media')} />
        </div>
      );
    case 'tts':
      return (
        <div data-testid="listen-content" data-kind="tts">
          <SpokenText {...content} testIdPrefix="listen-tts" />
        </div>
      );
    case 'programme':
      return (
        <ol className="programme-listen" data-testid="listen-content" data-kind="programme">
          {content.items.map((item, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a programme's items are known by their place
            <Item key={index} item={item} index={index} words={words} />
          ))}
        </ol>
      );
    case 'stream':
    case 'station':
      return (
        <p data-testid="listen-content" data-kind={content.kind}>
          {words.content(content)}
        </p>
      );
  }
}
