import { useTranslation } from 'react-i18next';
import type { Content, Station } from '../api/types';
import { MediaPicker, useMediaLibrary } from './media-picker';
import { type ItemDraft, ProgrammeEditor, programmeOf, programmeReady } from './programme-editor';
import { type Speech, SpeechFields } from './speech-fields';
import { TextField } from './text-field';

export type ContentKind = Content['kind'];

/** The content choices, each with its label's i18n key. */
export const CONTENT_KINDS: [ContentKind, string][] = [
  ['media', 'schedule.contentMedia'],
  ['tts', 'schedule.contentTts'],
  ['programme', 'schedule.contentProgramme'],
  ['stream', 'schedule.contentStream'],
  ['station', 'schedule.contentStation'],
];

/** What a form holds of the content it sends: the chosen kind and the fields of every kind. */
export interface ContentDraft {
  contentKind: ContentKind;
  mediaId: string;
  speech: Speech;
  programme: ItemDraft[];
  streamUrl: string;
  stationId: string;
  /** A relay's window in seconds, as typed. */
  durationS: string;
}

export const EMPTY_CONTENT: ContentDraft = {
  contentKind: 'media',
  mediaId: '',
  speech: { text: '', voice: 'northern' },
  programme: [],
  streamUrl: '',
  stationId: '',
  durationS: '',
};

/** Content relayed for a time window of its own; everything else lasts as long as its audio. */
export function isRelay(kind: ContentKind): boolean {
  return kind === 'stream' || kind === 'station';
}

export function contentOf(draft: ContentDraft): Content {
  switch (draft.contentKind) {
    case 'media':
      return { kind: 'media', mediaId: draft.mediaId };
    case 'tts':
      // The platform speaks the text when it is saved and keeps the audio (mediaId).
      return { kind: 'tts', text: draft.speech.text.trim(), voice: draft.speech.voice };
    case 'programme':
      return { kind: 'programme', items: programmeOf(draft.programme) };
    case 'stream':
      return { kind: 'stream', url: draft.streamUrl.trim() };
    case 'station':
      return { kind: 'station', stationId: draft.stationId };
  }
}

/**
 * What the content still lacks that the browser's own checks do not catch (a code for the error
 * and the i18n key of its words), or null.
 */
export function contentProblem(draft: ContentDraft): { code: string; key: string } | null {
  if (draft.contentKind === 'tts' && draft.speech.text.trim() === '')
    return { code: 'no_text', key: 'schedule.needText' };
  if (draft.contentKind === 'programme' && !programmeReady(draft.programme))
    return { code: 'programme_incomplete', key: 'programme.incomplete' };
  return null;
}

/**
 * The content of a schedule or of a bulletin from the province: a file of the library (chosen,
 * uploaded, recorded or read aloud), a text read aloud, a programme, a stream or a station with its
 * window.
 */
export function ContentFields({
  value,
  onChange,
  stations,
}: {
  value: ContentDraft;
  onChange: (patch: Partial<ContentDraft>) => void;
  /** The stations that may be relayed. */
  stations: Station[];
}) {
  const { t } = useTranslation();
  // One read of the library for every picker of a programme.
  const library = useMediaLibrary(value.contentKind === 'programme');
  return (
    <>
      <fieldset className="inline">
        <legend>{t('schedule.content')}</legend>
        {CONTENT_KINDS.map(([kind, label]) => (
          <label key={kind}>
            <input
              type="radio"
              name="content"
              checked={value.contentKind === kind}
              onChange={() => onChange({ contentKind: kind })}
              data-testid={`content-${kind}`}
            />
            {t(label)}
          </label>
        ))}
      </fieldset>
      {value.contentKind === 'media' ? (
        <MediaPicker
          id="schedule-media"
          value={value.mediaId}
          onChange={(mediaId) => onChange({ mediaId })}
        />
      ) : null}
      {value.contentKind === 'tts' ? (
        <SpeechFields
          legend={t('schedule.contentTts')}
          value={value.speech}
          onChange={(speech) => onChange({ speech })}
          testIdPrefix="content-tts"
        />
      ) : null}
      {value.contentKind === 'programme' ? (
        <ProgrammeEditor
          value={value.programme}
          onChange={(programme) => onChange({ programme })}
          library={library}
        />
      ) : null}
      {value.contentKind === 'stream' ? (
        <TextField
          label={t('schedule.streamUrl')}
          type="url"
          required
          value={value.streamUrl}
          onChange={(streamUrl) => onChange({ streamUrl })}
        />
      ) : null}
      {value.contentKind === 'station' ? (
        <label>
          {t('schedule.station')}
          <select
            required
            value={value.stationId}
            onChange={(e) => onChange({ stationId: e.target.value })}
            data-testid="station-select"
          >
            <option value="">{t('stations.choose')}</option>
            {stations.map((station) => (
              <option key={station.id} value={station.id}>
                {station.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {isRelay(value.contentKind) ? (
        <TextField
          label={t('schedule.duration')}
          type="number"
          required
          min={1}
          max={86_400}
          value={value.durationS}
          onChange={(durationS) => onChange({ durationS })}
          testId="schedule-duration"
        />
      ) : null}
    </>
  );
}
