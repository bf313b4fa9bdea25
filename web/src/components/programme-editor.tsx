import { useTranslation } from 'react-i18next';
import type { Page } from '../api/client';
import type { JingleRole, Media, ProgrammeItem, Voice } from '../api/types';
import type { Fetched } from '../api/use-fetch';
import { useFormat } from '../format';
import { MediaPicker } from './media-picker';
import { SpeechFields } from './speech-fields';
import { TextField } from './text-field';

/** The limits of ProgrammeItemSchema and ContentSchema (contracts/broadcasts.ts). */
export const MAX_ITEMS = 30;
const SILENCE_MIN_S = 0.5;
const SILENCE_MAX_S = 300;

const JINGLE_ROLES: JingleRole[] = ['intro', 'between', 'outro'];
const KINDS: ProgrammeItem['kind'][] = ['media', 'jingle', 'tts', 'silence'];

/** An item as the form holds it: `key` keeps its fields in place while items move. */
export type ItemDraft = { key: string } & (
  | { kind: 'media'; mediaId: string }
  | { kind: 'jingle'; mediaId: string; role: JingleRole }
  | { kind: 'tts'; text: string; voice: Voice; mediaId?: string }
  | { kind: 'silence'; seconds: string }
);

const newKey = () => Math.random().toString(36).slice(2, 10);

function blankItem(kind: ProgrammeItem['kind']): ItemDraft {
  const key = newKey();
  switch (kind) {
    case 'media':
      return { key, kind, mediaId: '' };
    case 'jingle':
      return { key, kind, mediaId: '', role: 'intro' };
    case 'tts':
      return { key, kind, text: '', voice: 'northern' };
    case 'silence':
      return { key, kind, seconds: '2' };
  }
}

export function programmeDraftOf(items: ProgrammeItem[]): ItemDraft[] {
  return items.map((item) =>
    item.kind === 'silence'
      ? { key: newKey(), kind: 'silence', seconds: String(item.durationS) }
      : { ...item, key: newKey() },
  );
}

/** An item as the platform takes it; the text's speech is the platform's to make. */
function itemOf(item: ItemDraft): ProgrammeItem {
  switch (item.kind) {
    case 'media':
      return { kind: 'media', mediaId: item.mediaId };
    case 'jingle':
      return { kind: 'jingle', mediaId: item.mediaId, role: item.role };
    case 'tts':
      return { kind: 'tts', text: item.text.trim(), voice: item.voice };
    case 'silence':
      return { kind: 'silence', durationS: Number(item.seconds) };
  }
}

export function programmeOf(items: ItemDraft[]): ProgrammeItem[] {
  return items.map(itemOf);
}

/** Whether an item says what it plays: a file chosen, a text typed, a pause of a length allowed. */
function filled(item: ItemDraft): boolean {
  switch (item.kind) {
    case 'media':
    case 'jingle':
      return item.mediaId !== '';
    case 'tts':
      return item.text.trim() !== '';
    case 'silence': {
      const seconds = Number(item.seconds);
      return item.seconds !== '' && seconds >= SILENCE_MIN_S && seconds <= SILENCE_MAX_S;
    }
  }
}

/** Whether every item is filled in and something in it is heard (what the platform would refuse). */
export function programmeReady(items: ItemDraft[]): boolean {
  return items.length <= MAX_ITEMS && items.every(filled) && items.some((item) => item.kind !== 'silence');
}

/**
 * The parts of a programme played in order as one broadcast: files, jingles, text read aloud and
 * pauses, each moved up or down or removed, with the length known so far.
 */
export function ProgrammeEditor({
  value,
  onChange,
  library,
}: {
  value: ItemDraft[];
  onChange: (items: ItemDraft[]) => void;
  /** The audio library, read once for every picker of the programme. */
  library: Fetched<Page<Media>>;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const lengthOf = (mediaId: string | undefined) =>
    mediaId ? (library.data?.items.find((m) => m.id === mediaId)?.durationS ?? null) : null;

  const replace = (index: number, item: ItemDraft) =>
    onChange(value.map((current, i) => (i === index ? item : current)));
  const move = (index: number, by: -1 | 1) => {
    const next = [...value];
    const [item] = next.splice(index, 1);
    if (item) next.splice(index + by, 0, item);
    onChange(next);
  };

  let knownS = 0;
  let unknown = 0;
  for (const item of value) {
    // Text said anew is timed only once the platform has spoken it, when the schedule is saved.
    const seconds = item.kind === 'silence' ? Number(item.seconds) || 0 : lengthOf(item.mediaId);
    if (seconds === null) unknown++;
    else knownS += seconds;
  }

  return (
    <fieldset className="programme" data-testid="programme-editor">
      <legend>{t('programme.title')}</legend>
      <p className="muted">{t('programme.hint')}</p>
      {value.length === 0 ? <p className="muted">{t('programme.empty')}</p> : null}
      <ol className="programme-items">
        {value.map((item, index) => {
          const number = index + 1;
          return (
            <li
              key={item.key}
              className="programme-item"
              data-testid="programme-item"
              data-kind={item.kind}
              data-index={index}
            >
              <div className="programme-item-head">
                <strong>
                  {number}. {t(`programme.kind.${item.kind}`)}
                </strong>
                <span className="row-actions">
                  <button
                    type="button"
                    disabled={index === 0}
                    onClick={() => move(index, -1)}
                    aria-label={t('programme.moveUp', { number })}
                    title={t('programme.moveUp', { number })}
                    data-testid="programme-item-up"
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    disabled={index === value.length - 1}
                    onClick={() => move(index, 1)}
                    aria-label={t('programme.moveDown', { number })}
                    title={t('programme.moveDown', { number })}
                    data-testid="programme-item-down"
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    onClick={() => onChange(value.filter((_, i) => i !== index))}
                    aria-label={t('programme.remove', { number })}
                    title={t('programme.remove', { number })}
                    data-testid="programme-item-remove"
                  >
                    ✕
                  </button>
                </span>
              </div>
              <ItemFields
                item={item}
                onChange={(changed) => replace(index, changed)}
                library={library}
                number={number}
              />
            </li>
          );
        })}
      </ol>
      <div className="toolbar">
        {KINDS.map((kind) => (
          <button
            key={kind}
            type="button"
            disabled={value.length >= MAX_ITEMS}
            onClick={() => onChange([...value, blankItem(kind)])}
            data-testid={`programme-add-${kind}`}
          >
            {t(`programme.add.${kind}`)}
          </button>
        ))}
      </div>
      {value.length >= MAX_ITEMS ? <p className="muted">{t('programme.full', { max: MAX_ITEMS })}</p> : null}
      {value.length > 0 ? (
        <p className="muted" data-testid="programme-total" data-known-s={knownS} data-unknown={unknown}>
          {t('programme.total', { duration: format.duration(knownS) })}
          {unknown > 0 ? ` ${t('programme.totalUnknown', { count: unknown })}` : ''}
        </p>
      ) : null}
    </fieldset>
  );
}

function ItemFields({
  item,
  onChange,
  library,
  number,
}: {
  item: ItemDraft;
  onChange: (item: ItemDraft) => void;
  library: Fetched<Page<Media>>;
  number: number;
}) {
  const { t } = useTranslation();
  switch (item.kind) {
    case 'media':
      return (
        <MediaPicker
          id={`programme-${item.key}-media`}
          label={t('programme.mediaOf', { number })}
          value={item.mediaId}
          onChange={(mediaId) => onChange({ ...item, mediaId })}
          testId="programme-media"
          library={library}
          compact
        />
      );
    case 'jingle':
      return (
        <div className="grid">
          <MediaPicker
            id={`programme-${item.key}-jingle`}
            label={t('programme.jingleOf', { number })}
            value={item.mediaId}
            onChange={(mediaId) => onChange({ ...item, mediaId })}
            testId="programme-media"
            library={library}
            compact
          />
          <label>
            {t('programme.jingleRole')}
            <select
              value={item.role}
              onChange={(event) => onChange({ ...item, role: event.target.value as JingleRole })}
              data-testid="programme-jingle-role"
            >
              {JINGLE_ROLES.map((role) => (
                <option key={role} value={role}>
                  {t(`programme.role.${role}`)}
                </option>
              ))}
            </select>
          </label>
        </div>
      );
    case 'tts':
      return (
        <SpeechFields
          value={item}
          // Other words or another voice are spoken anew when the schedule is saved.
          onChange={({ text, voice }) => onChange({ key: item.key, kind: 'tts', text, voice })}
          testIdPrefix="programme-tts"
          textLabel={t('programme.ttsOf', { number })}
          rows={3}
        />
      );
    case 'silence':
      return (
        <TextField
          label={t('programme.silenceOf', { number })}
          type="number"
          required
          min={SILENCE_MIN_S}
          max={SILENCE_MAX_S}
          step={0.5}
          value={item.seconds}
          onChange={(seconds) => onChange({ ...item, seconds })}
          testId="programme-silence"
        />
      );
  }
}
