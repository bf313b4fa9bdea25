import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, type Page } from '../api/client';
import type { Clash, Level, Schedule, ScheduleResult, Station, Targets } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { ApprovalChip, ReturnComment } from '../components/approval-state';
import {
  type ContentDraft,
  ContentFields,
  contentOf,
  contentProblem,
  EMPTY_CONTENT,
  isRelay,
} from '../components/content-fields';
import { DataTable } from '../components/data-table';
import { ErrorMessage } from '../components/error-message';
import { FormActions } from '../components/form-card';
import { type LunarDraft, LunarFields, lunarDraftOf, lunarOf, NEW_LUNAR } from '../components/lunar-fields';
import { programmeDraftOf } from '../components/programme-editor';
import { ScheduleRule } from '../components/schedule-rule';
import { countTargets, TargetPicker } from '../components/target-picker';
import { TextField } from '../components/text-field';
import { useContentWords } from '../content-words';
import { useFormat } from '../format';
import { allowed, useSession } from '../session';

const LEVELS: Level[] = ['normal', 'priority', 'emergency'];
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
type Recurrence = 'once' | 'daily' | 'weekly' | 'lunar' | 'custom';

interface Draft extends ContentDraft {
  name: string;
  level: Level;
  start: string;
  recurrence: Recurrence;
  weekdays: string[];
  until: string;
  rrule: string;
  lunar: LunarDraft;
  volume: string;
  repeat: string;
  targets: Targets;
  enabled: boolean;
}

const EMPTY: Draft = {
  ...EMPTY_CONTENT,
  name: '',
  level: 'normal',
  start: '',
  recurrence: 'once',
  weekdays: ['MO', 'TU', 'WE', 'TH', 'FR'],
  until: '',
  rrule: '',
  lunar: NEW_LUNAR,
  volume: '',
  repeat: '1',
  targets: {},
  enabled: true,
};

function draftOf(schedule: Schedule): Draft {
  const rrule = schedule.rrule ?? '';
  const weekly = /^FREQ=WEEKLY;BYDAY=([A-Z,]+)$/.exec(rrule);
  const { content } = schedule;
  return {
    ...EMPTY,
    name: schedule.name,
    level: schedule.level,
    contentKind: content.kind,
    mediaId: content.kind === 'media' ? content.mediaId : '',
    speech: content.kind === 'tts' ? { text: content.text, voice: content.voice } : EMPTY.speech,
    programme: content.kind === 'programme' ? programmeDraftOf(content.items) : [],
    streamUrl: schedule.content.kind === 'stream' ? schedule.content.url : '',
    stationId: schedule.content.kind === 'station' ? schedule.content.stationId : '',
    start: schedule.start.slice(0, 19),
    recurrence: schedule.lunar
      ? 'lunar'
      : !rrule
        ? 'once'
        : rrule === 'FREQ=DAILY'
          ? 'daily'
          : weekly
            ? 'weekly'
            : 'custom',
    weekdays: weekly?.[1]?.split(',') ?? EMPTY.weekdays,
    rrule,
    lunar: schedule.lunar ? lunarDraftOf(schedule.lunar) : NEW_LUNAR,
    volume: schedule.volume === null ? '' : String(schedule.volume),
    repeat: String(schedule.repeat),
    // A file's or a text's length is its audio's; only a relay keeps a window of its own.
    durationS: isRelay(content.kind) ? String(schedule.durationS) : '',
    targets: schedule.targets,
    enabled: schedule.enabled,
  };
}

function rruleOf(draft: Draft): string | undefined {
  const until = draft.until ? `;UNTIL=${draft.until.replaceAll('-', '')}T235959` : '';
  switch (draft.recurrence) {
    case 'once':
    case 'lunar':
      return undefined;
    case 'daily':
      return `FREQ=DAILY${until}`;
    case 'weekly':
      return `FREQ=WEEKLY;BYDAY=${draft.weekdays.join(',')}${until}`;
    case 'custom':
      return draft.rrule.trim() || undefined;
  }
}

function bodyOf(draft: Draft) {
  const relay = isRelay(draft.contentKind);
  return {
    name: draft.name.trim(),
    level: draft.level,
    content: contentOf(draft),
    start: draft.start.length === 16 ? `${draft.start}:00` : draft.start,
    // null, not absent: an edit that changes the kind of recurrence clears the other kind.
    rrule: rruleOf(draft) ?? null,
    lunar: draft.recurrence === 'lunar' ? lunarOf(draft.lunar) : null,
    volume: draft.volume ? Number(draft.volume) : undefined,
    // A programme plays once: an item wanted twice is put in it twice.
    repeat: draft.contentKind === 'programme' ? 1 : draft.repeat ? Number(draft.repeat) : undefined,
    // The server refuses a window for audio (its length is the file's) and clears it with null.
    durationS: relay ? (draft.durationS ? Number(draft.durationS) : undefined) : null,
    targets: draft.targets,
    enabled: draft.enabled,
  };
}

export default function AnnouncementsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const schedules = useFetch<Page<Schedule>>('/api/v1/schedules', { limit: 500 });
  const { words, error: wordsError } = useContentWords();
  const [editing, setEditing] = useState<Schedule | 'new' | null>(null);
  const [submitting, setSubmitting] = useState<string | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const plans = allowed(useSession().me.roles, ['operator']);

  /** Sends a draft (or a returned schedule, changed or not) to the commune's approvers. */
  const submitForApproval = (schedule: Schedule) => {
    setSubmitting(schedule.id);
    setActionError(null);
    api<Schedule>(`/api/v1/schedules/${encodeURIComponent(schedule.id)}/submit`, { method: 'POST' })
      .then(() => schedules.reload())
      .catch((caught: unknown) => setActionError(toApiError(caught)))
      .finally(() => setSubmitting(null));
  };

  return (
    <section>
      <h1>{t('announcements.title')}</h1>
      <div className="toolbar">
        <button
          type="button"
          className="primary"
          onClick={() => setEditing('new')}
          data-testid="schedule-new"
        >
          {t('announcements.new')}
        </button>
      </div>
      {editing ? (
        <ScheduleForm
          key={editing === 'new' ? 'new' : editing.id}
          schedule={editing === 'new' ? null : editing}
          stations={words.stations}
          onDone={() => {
            setEditing(null);
            schedules.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      <DataTable
        error={actionError ?? schedules.error ?? wordsError}
        rows={schedules.data?.items}
        rowKey={(schedule) => schedule.id}
        rowAttributes={(schedule) => ({
          'data-testid': `schedule-${schedule.id}`,
          'data-approval': schedule.approval.state,
        })}
        columns={[
          {
            header: t('schedule.name'),
            names: true,
            cell: (schedule) => (
              <>
                {schedule.name}
                {schedule.enabled ? null : <span className="badge">{t('schedule.disabled')}</span>}
              </>
            ),
          },
          {
            header: t('schedule.level'),
            cell: (schedule) => (
              <span className={`level level-${schedule.level}`}>{t(`level.${schedule.level}`)}</span>
            ),
          },
          {
            header: t('schedule.content'),
            cell: (schedule) => words.content(schedule.content),
            data: (schedule) => ({ 'data-content-kind': schedule.content.kind }),
          },
          {
            header: t('schedule.recurrence'),
            cell: (schedule) => (
              <ScheduleRule
                rule={schedule.rrule}
                lunar={schedule.lunar}
                start={schedule.start}
                timeZone={schedule.timezone}
              />
            ),
          },
          {
            header: t('schedule.next'),
            cell: (schedule) => (schedule.next ? format.dateTime(schedule.next.start) : t('common.none')),
          },
          { header: t('schedule.clusters'), cell: (schedule) => schedule.clusterIds.length },
          {
            header: t('approval.column'),
            cell: (schedule) => (
              <>
                <ApprovalChip approval={schedule.approval} />
                <ReturnComment approval={schedule.approval} />
              </>
            ),
          },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (schedule) => (
              <>
                <button type="button" onClick={() => setEditing(schedule)} data-testid="schedule-edit">
                  {t('common.edit')}
                </button>
                {plans && (schedule.approval.state === 'draft' || schedule.approval.state === 'returned') ? (
                  <button
                    type="button"
                    className="primary"
                    disabled={submitting !== null}
                    onClick={() => submitForApproval(schedule)}
                    data-testid="schedule-submit"
                  >
                    {submitting === schedule.id ? t('approval.submitting') : t('approval.submit')}
                  </button>
                ) : null}
              </>
            ),
          },
        ]}
      />
    </section>
  );
}

function ScheduleForm({
  schedule,
  stations,
  onDone,
  onCancel,
}: {
  schedule: Schedule | null;
  /** The stations an operator may relay on a schedule. */
  stations: Station[];
  onDone: () => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const [draft, setDraft] = useState<Draft>(() => (schedule ? draftOf(schedule) : EMPTY));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [clashes, setClashes] = useState<Clash[]>([]);
  const [result, setResult] = useState<ScheduleResult | null>(null);
  const set = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }));
  const lunar = draft.recurrence === 'lunar';
  const lunarRule = lunar ? lunarOf(draft.lunar) : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (countTargets(draft.targets) === 0) {
      setError(new ApiError(400, 'no_targets', t('schedule.needTargets')));
      return;
    }
    if (draft.recurrence === 'lunar' && !lunarOf(draft.lunar)) {
      setError(new ApiError(400, 'invalid_lunar', t('schedule.lunarInvalid')));
      return;
    }
    const problem = contentProblem(draft);
    if (problem) {
      setError(new ApiError(400, problem.code, t(problem.key)));
      return;
    }
    setBusy(true);
    setError(null);
    setClashes([]);
    const request = schedule
      ? api<ScheduleResult>(`/api/v1/schedules/${schedule.id}`, { method: 'PATCH', body: bodyOf(draft) })
      : api<ScheduleResult>('/api/v1/schedules', { method: 'POST', body: bodyOf(draft) });
    request
      .then((answer) => {
        setResult(answer);
        if (answer.preempts.length === 0 && answer.preemptedBy.length === 0) onDone();
      })
      .catch((caught: unknown) => {
        const apiError = toApiError(caught);
        setError(apiError);
        const details = apiError.details as { clashes?: Clash[] } | undefined;
        if (apiError.status === 409 && Array.isArray(details?.clashes)) setClashes(details.clashes);
      })
      .finally(() => setBusy(false));
  };

  const remove = () => {
    if (!schedule) return;
    setBusy(true);
    api(`/api/v1/schedules/${schedule.id}`, { method: 'DELETE' })
      .then(onDone)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <form className="card form" onSubmit={submit} data-testid="schedule-form">
      <h2>{schedule ? t('announcements.edit', { name: schedule.name }) : t('announcements.new')}</h2>
      {schedule?.approval.state === 'approved' ? (
        <p className="notice" data-testid="schedule-reapproval">
          {t('approval.changeNeedsApproval')}
        </p>
      ) : null}
      <div className="grid">
        <TextField
          label={t('schedule.name')}
          required
          maxLength={200}
          value={draft.name}
          onChange={(name) => set({ name })}
          testId="schedule-name"
        />
        <label>
          {t('schedule.level')}
          <select
            value={draft.level}
            onChange={(e) => set({ level: e.target.value as Level })}
            data-testid="schedule-level"
          >
            {LEVELS.map((level) => (
              <option key={level} value={level}>
                {t(`level.${level}`)}
              </option>
            ))}
          </select>
        </label>
        <ContentFields value={draft} onChange={set} stations={stations} />
        <TextField
          label={t(lunar ? 'schedule.lunarStart' : 'schedule.start', { zone: format.timeZone })}
          type="datetime-local"
          // Bulletins are timed to the second ("at 06:00:00"), not only to the minute.
          step={1}
          required
          value={draft.start}
          onChange={(start) => set({ start })}
          testId="schedule-start"
        >
          {lunar ? <span className="muted">{t('schedule.lunarStartHint')}</span> : null}
        </TextField>
        <label>
          {t('schedule.recurrence')}
          <select
            value={draft.recurrence}
            onChange={(e) => set({ recurrence: e.target.value as Recurrence })}
            data-testid="schedule-recurrence"
          >
            <option value="once">{t('schedule.once')}</option>
            <option value="daily">{t('schedule.daily')}</option>
            <option value="weekly">{t('schedule.weekly')}</option>
            <option value="lunar">{t('schedule.lunar')}</option>
            <option value="custom">{t('schedule.custom')}</option>
          </select>
        </label>
        {lunar ? (
          <LunarFields
            value={draft.lunar}
            onChange={(patch) => set({ lunar: { ...draft.lunar, ...patch } })}
          />
        ) : null}
        {draft.recurrence === 'weekly' ? (
          <fieldset className="inline">
            <legend>{t('schedule.weekdays')}</legend>
            {WEEKDAYS.map((day) => (
              <label key={day}>
                <input
                  type="checkbox"
                  checked={draft.weekdays.includes(day)}
                  onChange={(e) =>
                    set({
                      weekdays: e.target.checked
                        ? WEEKDAYS.filter((d) => d === day || draft.weekdays.includes(d))
                        : draft.weekdays.filter((d) => d !== day),
                    })
                  }
                />
                {t(`weekday.${day}`)}
              </label>
            ))}
          </fieldset>
        ) : null}
        {draft.recurrence === 'daily' || draft.recurrence === 'weekly' ? (
          <TextField
            label={t('schedule.until')}
            type="date"
            value={draft.until}
            onChange={(until) => set({ until })}
          />
        ) : null}
        {draft.recurrence === 'custom' ? (
          <TextField
            label={t('schedule.rrule')}
            value={draft.rrule}
            placeholder={t('schedule.rrulePlaceholder')}
            onChange={(rrule) => set({ rrule })}
          />
        ) : null}
        {draft.start && (!lunar || lunarRule) ? (
          <p className="muted" aria-live="polite">
            <ScheduleRule
              rule={rruleOf(draft) ?? null}
              lunar={lunarRule}
              start={draft.start}
              timeZone={schedule?.timezone ?? format.timeZone}
              testId="schedule-rule-preview"
            />
          </p>
        ) : null}
        <TextField
          label={t('schedule.volume')}
          type="number"
          min={0}
          max={100}
          value={draft.volume}
          onChange={(volume) => set({ volume })}
        />
        {draft.contentKind === 'programme' ? null : (
          <TextField
            label={t('schedule.repeat')}
            type="number"
            min={1}
            max={20}
            value={draft.repeat}
            onChange={(repeat) => set({ repeat })}
          />
        )}
        <label className="check">
          <input
            type="checkbox"
            checked={draft.enabled}
            onChange={(e) => set({ enabled: e.target.checked })}
          />
          {t('schedule.enabled')}
        </label>
      </div>
      <TargetPicker
        legend={t('schedule.targets')}
        value={draft.targets}
        onChange={(targets) => set({ targets })}
      />
      <ErrorMessage error={error} />
      {clashes.length > 0 ? (
        <div className="clashes" data-testid="schedule-clashes">
          <h3>{t('schedule.clashesTitle')}</h3>
          <ul>
            {clashes.map((clash) => (
              <li key={`${clash.scheduleId}-${clash.occurrence.start}`}>
                {t('schedule.clash', {
                  name: clash.scheduleName,
                  level: t(`level.${clash.level}`),
                  start: format.dateTime(clash.other.start),
                  end: format.time(clash.other.end),
                  clusters: clash.clusterIds.join(', '),
                })}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {result ? (
        <div className="notice" data-testid="schedule-preempts">
          <p>{t('schedule.saved')}</p>
          <ul>
            {result.preempts.map((clash) => (
              <li key={`p-${clash.scheduleId}-${clash.occurrence.start}`}>
                {t('schedule.preempts', {
                  name: clash.scheduleName,
                  start: format.dateTime(clash.other.start),
                })}
              </li>
            ))}
            {result.preemptedBy.map((clash) => (
              <li key={`b-${clash.scheduleId}-${clash.occurrence.start}`}>
                {t('schedule.preemptedBy', {
                  name: clash.scheduleName,
                  start: format.dateTime(clash.other.start),
                })}
              </li>
            ))}
          </ul>
          <button type="button" onClick={onDone}>
            {t('common.ok')}
          </button>
        </div>
      ) : null}
      <FormActions label={t('common.save')} disabled={busy} testId="schedule-save" onCancel={onCancel}>
        {schedule ? (
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={remove}
            data-testid="schedule-delete"
          >
            {t('common.delete')}
          </button>
        ) : null}
      </FormActions>
    </form>
  );
}
