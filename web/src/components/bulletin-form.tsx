import { type FormEvent, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'wouter';
import { ApiError, api } from '../api/client';
import type { Bulletin, BulletinCreate, Level, ProvinceOverview } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { bulletinPath } from '../bulletin-path';
import { useContentWords } from '../content-words';
import { useFormat, zoneInstant } from '../format';
import {
  type ContentDraft,
  ContentFields,
  contentOf,
  contentProblem,
  EMPTY_CONTENT,
  isRelay,
} from './content-fields';
import { ConfirmDialog } from './dialog';
import { ErrorMessage } from './error-message';
import { useFocusFirst } from './focus-first';
import { FormActions } from './form-card';
import { TextField } from './text-field';

const LEVELS: Level[] = ['normal', 'priority', 'emergency'];

interface Draft extends ContentDraft {
  name: string;
  level: Level;
  /** Wall time in the console's zone; empty: now. */
  start: string;
  /** Wall time; empty: a day after the start (normal bulletins only). */
  expiresAt: string;
  volume: string;
  everyCommune: boolean;
  communeIds: string[];
}

const EMPTY: Draft = {
  ...EMPTY_CONTENT,
  name: '',
  level: 'normal',
  start: '',
  expiresAt: '',
  volume: '',
  everyCommune: true,
  communeIds: [],
};

/**
 * A bulletin sent down to the communes of a province, at one of Circular 39's three levels: normal
 * (each commune decides), priority (scheduled above the communes' normal items) or emergency (airs
 * at once everywhere, after a confirmation). Sent, it opens on its own page to follow the receipts.
 */
export function BulletinForm({
  provinceId,
  communes,
  onCancel,
}: {
  /** The province to send to, for an account of every province; null: the account's own. */
  provinceId: string | null;
  communes: ProvinceOverview['communes'];
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const [, navigate] = useLocation();
  const { words, error: wordsError } = useContentWords();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  useFocusFirst(formRef);
  const set = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }));
  const emergency = draft.level === 'emergency';
  const instant = (wall: string) => (wall ? zoneInstant(wall, format.timeZone).toISOString() : undefined);
  const chosen = draft.everyCommune ? communes.length : draft.communeIds.length;

  const body = (): BulletinCreate => ({
    name: draft.name.trim(),
    level: draft.level,
    content: contentOf(draft),
    ...(emergency ? {} : { start: instant(draft.start) }),
    ...(isRelay(draft.contentKind) ? { durationS: Number(draft.durationS) } : {}),
    ...(draft.volume ? { volume: Number(draft.volume) } : {}),
    ...(draft.everyCommune ? {} : { communeIds: draft.communeIds }),
    ...(provinceId ? { provinceId } : {}),
    ...(draft.level === 'normal' && draft.expiresAt ? { expiresAt: instant(draft.expiresAt) } : {}),
  });

  const send = () => {
    setConfirming(false);
    setBusy(true);
    setError(null);
    api<Bulletin>('/api/v1/provincial-bulletins', { method: 'POST', body: body() })
      .then((sent) => navigate(bulletinPath(sent.id)))
      .catch((caught: unknown) => {
        setError(toApiError(caught));
        setBusy(false);
      });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problem = contentProblem(draft);
    if (problem) {
      setError(new ApiError(400, problem.code, t(problem.key)));
      return;
    }
    if (chosen === 0) {
      setError(new ApiError(400, 'no_communes', t('bulletinForm.needCommunes')));
      return;
    }
    // An emergency cuts into every cluster of the communes at once: nothing goes out unconfirmed.
    if (emergency) setConfirming(true);
    else send();
  };

  return (
    <form ref={formRef} className="card form" onSubmit={submit} data-testid="bulletin-form">
      <h2>{t('province.send')}</h2>
      <div className="grid">
        <TextField
          label={t('schedule.name')}
          required
          maxLength={120}
          value={draft.name}
          onChange={(name) => set({ name })}
          testId="bulletin-name"
        />
      </div>
      <fieldset data-testid="bulletin-level">
        <legend>{t('schedule.level')}</legend>
        {LEVELS.map((level) => (
          <label key={level} className="check">
            <input
              type="radio"
              name="bulletin-level"
              checked={draft.level === level}
              onChange={() => set({ level })}
              data-testid={`bulletin-level-${level}`}
            />
            <span>
              <strong className={`level level-${level}`}>{t(`level.${level}`)}</strong>:{' '}
              {t(`bulletinForm.levelMeaning.${level}`)}
            </span>
          </label>
        ))}
      </fieldset>
      <div className="grid">
        <ContentFields value={draft} onChange={set} stations={words.stations} />
        {emergency ? (
          <p className="notice warning" data-testid="bulletin-emergency-note">
            {t('bulletinForm.emergencyNow')}
          </p>
        ) : (
          <TextField
            label={t('bulletinForm.start', { zone: format.timeZone })}
            type="datetime-local"
            step={1}
            value={draft.start}
            onChange={(start) => set({ start })}
            testId="bulletin-start"
          >
            <span className="muted">{t('bulletinForm.startHint')}</span>
          </TextField>
        )}
        {draft.level === 'normal' ? (
          <TextField
            label={t('bulletinForm.expires')}
            type="datetime-local"
            step={1}
            value={draft.expiresAt}
            onChange={(expiresAt) => set({ expiresAt })}
            testId="bulletin-expires"
          >
            <span className="muted">{t('bulletinForm.expiresHint')}</span>
          </TextField>
        ) : null}
        <TextField
          label={t('schedule.volume')}
          type="number"
          min={0}
          max={100}
          value={draft.volume}
          onChange={(volume) => set({ volume })}
          testId="bulletin-volume"
        />
      </div>
      <fieldset className="targets">
        <legend>{t('bulletinForm.communes')}</legend>
        <label className="check">
          <input
            type="radio"
            name="bulletin-communes"
            checked={draft.everyCommune}
            onChange={() => set({ everyCommune: true })}
            data-testid="bulletin-communes-all"
          />
          {t('bulletinForm.everyCommune', { count: communes.length })}
        </label>
        <label className="check">
          <input
            type="radio"
            name="bulletin-communes"
            checked={!draft.everyCommune}
            onChange={() => set({ everyCommune: false })}
            data-testid="bulletin-communes-some"
          />
          {t('bulletinForm.someCommunes')}
        </label>
        {draft.everyCommune ? null : (
          <div className="checks">
            {communes.map((commune) => (
              <label key={commune.id}>
                <input
                  type="checkbox"
                  checked={draft.communeIds.includes(commune.id)}
                  onChange={(event) =>
                    set({
                      communeIds: event.target.checked
                        ? communes
                            .map((c) => c.id)
                            .filter((id) => id === commune.id || draft.communeIds.includes(id))
                        : draft.communeIds.filter((id) => id !== commune.id),
                    })
                  }
                  data-testid={`bulletin-commune-${commune.id}`}
                />
                {commune.name}
              </label>
            ))}
          </div>
        )}
      </fieldset>
      <ErrorMessage error={error ?? wordsError} />
      <FormActions
        label={busy ? t('bulletinForm.sending') : t('bulletinForm.send', { count: chosen })}
        disabled={busy}
        testId="bulletin-send"
        onCancel={onCancel}
      />
      <ConfirmDialog
        open={confirming}
        title={t('bulletinForm.confirmTitle')}
        message={t('bulletinForm.confirmMessage', { name: draft.name.trim(), count: chosen })}
        confirmLabel={t('emergency.confirm')}
        danger
        onConfirm={send}
        onCancel={() => setConfirming(false)}
        testId="bulletin-confirm"
      />
    </form>
  );
}
