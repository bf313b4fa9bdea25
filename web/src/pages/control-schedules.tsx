import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import { useClusters, useGroups } from '../api/registry';
import type { ControlCommand, ControlSchedule, Targets } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { useRecordEditor } from '../api/use-record-editor';
import { DataTable } from '../components/data-table';
import { DateInput } from '../components/date-input';
import { FormCard } from '../components/form-card';
import { RemoveDialog } from '../components/record-actions';
import { countTargets, TargetPicker } from '../components/target-picker';
import { TextField } from '../components/text-field';
import { dayKey, useFormat, useSettings } from '../format';

const COLLECTION = '/api/v1/control-schedules';
const DAILY = 'FREQ=DAILY';

/** Volume and amplifier power of some clusters set on a calendar: "amplifiers off at 22:00 every day". */
export default function ControlSchedulesPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const list = useFetch<ControlSchedule[]>(COLLECTION);
  const { clusters, villages } = useClusters();
  const groups = useGroups();
  const editor = useRecordEditor<ControlSchedule>(COLLECTION, () => list.reload());
  const { editing, setEditing, error, setError } = editor;
  const [toggling, setToggling] = useState<string | null>(null);

  const commandText = (command: ControlCommand) =>
    command.type === 'volume'
      ? t('controlSchedules.volume', { level: command.level })
      : t(command.on ? 'controlSchedules.powerOn' : 'controlSchedules.powerOff');

  const whenText = (schedule: ControlSchedule) => {
    const [day = '', clock = ''] = schedule.start.split('T');
    const values = { time: clock.slice(0, 5), date: format.calendarDate(day) };
    if (!schedule.rrule) return t('controlSchedules.once', values);
    if (schedule.rrule.toUpperCase() === DAILY) return t('controlSchedules.daily', values);
    return t('controlSchedules.rule', { ...values, rule: schedule.rrule });
  };

  const targetNames = (targets: ControlSchedule['targets']) =>
    [
      ...(targets.villageIds ?? []).map((id) => villages.find((v) => v.id === id)?.name ?? id),
      ...(targets.groupIds ?? []).map((id) => groups.data?.items.find((g) => g.id === id)?.name ?? id),
      ...(targets.clusterIds ?? []).map((id) => clusters.find((c) => c.id === id)?.name ?? id),
      ...(targets.communeIds ?? []),
    ].join(', ');

  const setEnabled = (schedule: ControlSchedule, enabled: boolean) => {
    setToggling(schedule.id);
    setError(null);
    api(`${COLLECTION}/${encodeURIComponent(schedule.id)}`, { method: 'PATCH', body: { enabled } })
      .then(() => list.reload())
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setToggling(null));
  };

  const schedules = list.data ?? undefined;

  return (
    <section>
      <h1>{t('controlSchedules.title')}</h1>
      <p className="muted">{t('controlSchedules.intro')}</p>
      <div className="toolbar">
        <button
          type="button"
          className="primary"
          onClick={() => setEditing('new')}
          data-testid="control-schedule-new"
        >
          {t('controlSchedules.new')}
        </button>
      </div>
      {editing ? (
        <ControlScheduleForm
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {schedules?.length === 0 ? <p>{t('controlSchedules.empty')}</p> : null}
      <DataTable
        testId="control-schedules-table"
        error={error ?? list.error}
        rows={schedules}
        rowKey={(schedule) => schedule.id}
        rowAttributes={(schedule) => ({
          'data-testid': 'control-schedule-row',
          'data-id': schedule.id,
          'data-name': schedule.name,
          'data-enabled': String(schedule.enabled),
        })}
        columns={[
          { header: t('controlSchedules.name'), names: true, cell: (schedule) => schedule.name },
          {
            header: t('controlSchedules.targets'),
            cell: (schedule) => targetNames(schedule.targets),
          },
          {
            header: t('controlSchedules.command'),
            cell: (schedule) => commandText(schedule.command),
            data: (schedule) => ({
              'data-command': schedule.command.type,
              'data-value':
                schedule.command.type === 'volume'
                  ? String(schedule.command.level)
                  : String(schedule.command.on),
            }),
          },
          {
            header: t('controlSchedules.when'),
            cell: whenText,
            data: (schedule) => ({ 'data-start': schedule.start, 'data-rrule': schedule.rrule ?? '' }),
          },
          {
            header: t('controlSchedules.next'),
            cell: (schedule) => (schedule.next ? format.minute(schedule.next) : t('controlSchedules.noNext')),
            data: (schedule) => ({ 'data-next': schedule.next ?? '' }),
          },
          {
            header: t('controlSchedules.lastRun'),
            cell: (schedule) =>
              schedule.lastRun
                ? t('controlSchedules.ran', {
                    time: format.minute(schedule.lastRun.at),
                    done: schedule.lastRun.done,
                    offline: schedule.lastRun.offline,
                    failed: schedule.lastRun.failed,
                  })
                : t('controlSchedules.never'),
            data: (schedule) =>
              schedule.lastRun
                ? {
                    'data-done': String(schedule.lastRun.done),
                    'data-offline': String(schedule.lastRun.offline),
                    'data-failed': String(schedule.lastRun.failed),
                  }
                : {},
          },
          {
            header: t('controlSchedules.enabled'),
            cell: (schedule) => (
              <label className="check">
                <input
                  type="checkbox"
                  checked={schedule.enabled}
                  disabled={toggling === schedule.id}
                  onChange={(event) => setEnabled(schedule, event.target.checked)}
                  aria-label={t('controlSchedules.enabledOf', { name: schedule.name })}
                  data-testid="control-schedule-enabled"
                  data-id={schedule.id}
                />
                {t(schedule.enabled ? 'controlSchedules.on' : 'controlSchedules.off')}
              </label>
            ),
          },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (schedule) => (
              <button
                type="button"
                className="danger"
                onClick={() => editor.setRemoving(schedule)}
                data-testid="control-schedule-delete"
                data-id={schedule.id}
              >
                {t('common.delete')}
              </button>
            ),
          },
        ]}
      />
      <RemoveDialog
        editor={editor}
        title={t('controlSchedules.removeTitle', { name: editor.removing?.name ?? '' })}
        message={t('controlSchedules.removeMessage')}
        testId="control-schedule-remove"
      />
    </section>
  );
}

type CommandKind = 'off' | 'on' | 'volume';

/** A new control schedule: what to do, to which clusters, at what time, once or every day. */
function ControlScheduleForm({ onSaved, onCancel }: { onSaved: () => void; onCancel: () => void }) {
  const { t } = useTranslation();
  const { timeZone } = useSettings();
  const [name, setName] = useState('');
  const [targets, setTargets] = useState<Targets>({});
  const [kind, setKind] = useState<CommandKind>('off');
  const [level, setLevel] = useState('30');
  const [time, setTime] = useState('22:00');
  const [date, setDate] = useState(() => dayKey(new Date(), timeZone));
  const [daily, setDaily] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [missingTargets, setMissingTargets] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (countTargets(targets) === 0) {
      setMissingTargets(true);
      return;
    }
    setMissingTargets(false);
    const command: ControlCommand =
      kind === 'volume' ? { type: 'volume', level: Number(level) } : { type: 'power', on: kind === 'on' };
    setBusy(true);
    setError(null);
    api<ControlSchedule>(COLLECTION, {
      method: 'POST',
      body: {
        name: name.trim(),
        targets,
        command,
        start: `${date}T${time}:00`,
        rrule: daily ? DAILY : null,
        timezone: timeZone,
      },
    })
      .then(() => onSaved())
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <FormCard
      title={t('controlSchedules.newTitle')}
      testId="control-schedule-form"
      saveTestId="control-schedule-save"
      onSubmit={submit}
      error={error}
      busy={busy}
      submitLabel={t('common.save')}
      onCancel={onCancel}
    >
      <div className="grid">
        <TextField
          label={t('controlSchedules.name')}
          required
          maxLength={120}
          value={name}
          onChange={setName}
          testId="control-schedule-name"
        />
        <label>
          {t('controlSchedules.command')}
          <select
            value={kind}
            onChange={(event) => setKind(event.target.value as CommandKind)}
            data-testid="control-schedule-command"
          >
            <option value="off">{t('controlSchedules.powerOff')}</option>
            <option value="on">{t('controlSchedules.powerOn')}</option>
            <option value="volume">{t('controlSchedules.volumeCommand')}</option>
          </select>
        </label>
        {kind === 'volume' ? (
          <TextField
            label={t('controlSchedules.level')}
            type="number"
            required
            min={0}
            max={100}
            step={1}
            value={level}
            onChange={setLevel}
            testId="control-schedule-level"
          />
        ) : null}
        <TextField
          label={t('controlSchedules.time')}
          type="time"
          required
          value={time}
          onChange={setTime}
          testId="control-schedule-time"
        />
        <label>
          {t('controlSchedules.date')}
          <DateInput required value={date} onChange={setDate} data-testid="control-schedule-date" />
        </label>
        <label>
          {t('controlSchedules.repeat')}
          <select
            value={daily ? 'daily' : 'once'}
            onChange={(event) => setDaily(event.target.value === 'daily')}
            data-testid="control-schedule-repeat"
          >
            <option value="once">{t('controlSchedules.repeatOnce')}</option>
            <option value="daily">{t('controlSchedules.repeatDaily')}</option>
          </select>
        </label>
      </div>
      <TargetPicker value={targets} onChange={setTargets} legend={t('controlSchedules.targets')} />
      {missingTargets ? (
        <p className="error" role="alert">
          {t('controlSchedules.needTargets')}
        </p>
      ) : null}
    </FormCard>
  );
}
