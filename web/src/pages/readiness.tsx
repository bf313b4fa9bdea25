import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { DrillReport, DrillSummary, ReadinessSchedule } from '../../../contracts/readiness';
import { api, type Page } from '../api/client';
import { usePlaces } from '../api/places';
import { useFetch, useFollow } from '../api/use-fetch';
import { useRequest, useSettingsForm } from '../api/use-record-editor';
import { ClusterChoice, type ClusterTargets, NO_TARGETS } from '../components/cluster-choice';
import { DataTable } from '../components/data-table';
import { ConfirmDialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { FormActions, SettingsCard } from '../components/form-card';
import { Pager } from '../components/pager';
import { CommuneToolbar } from '../components/place-select';
import { TechnicalDetail } from '../components/technical-detail';
import { CheckField, TextField } from '../components/text-field';
import { useFormat } from '../format';
import { allowed, useSession } from '../session';

const PAGE = 10;
/** How often a running drill is read again (clusters answer within two minutes). */
const REFRESH_MS = 2000;
const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;

/**
 * "Kiểm tra sẵn sàng": a drill now (silent, or with a test tone after a confirmation), the weekly
 * drill of the commune, and each drill's report: village by village, which clusters would carry
 * the next alarm, and why the others would not.
 */
export default function ReadinessPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const runs = allowed(useSession().me.roles, ['operator', 'technician']);
  const { communes, error: placesError } = usePlaces();
  const [chosen, setChosen] = useState('');
  const communeId = chosen || communes[0]?.id || '';
  const [offset, setOffset] = useState(0);
  const drills = useFetch<Page<DrillSummary>>(communeId ? '/api/v1/readiness/drills' : null, {
    communeId,
    limit: PAGE,
    offset,
  });
  const [shown, setShown] = useState<string | null>(null);

  return (
    <section>
      <h1>{t('readiness.title')}</h1>
      <p className="muted">{t('readiness.intro')}</p>
      <ErrorMessage error={placesError} />
      <CommuneToolbar
        id="readiness-commune"
        communes={communes}
        value={communeId}
        onChange={(id) => {
          setChosen(id);
          setOffset(0);
        }}
      />
      {runs && communeId ? (
        <DrillForm
          communeId={communeId}
          onStarted={(drill) => {
            setShown(drill.id);
            drills.reload();
          }}
        />
      ) : null}
      {communeId ? <WeeklyDrill key={communeId} communeId={communeId} runs={runs} /> : null}

      <h2>{t('readiness.drills')}</h2>
      <DataTable
        error={drills.error}
        empty={t('readiness.noDrills')}
        testId="drills"
        rows={drills.data?.items}
        rowKey={(d) => d.id}
        rowAttributes={(d) => ({ 'data-testid': 'drill-row', 'data-drill-id': d.id, 'data-state': d.state })}
        columns={[
          { header: t('readiness.started'), names: true, cell: (d) => format.dateTime(d.startedAt) },
          {
            header: t('readiness.how'),
            cell: (d) => (
              <>
                {t(`readiness.origin.${d.origin}`)}
                <div className="muted">{d.tone ? t('readiness.withTone') : t('readiness.silent')}</div>
              </>
            ),
          },
          { header: t('readiness.result'), cell: (d) => <Summary drill={d} /> },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (d) => (
              <button type="button" onClick={() => setShown(d.id)} data-testid={`drill-show-${d.id}`}>
                {t('readiness.show')}
              </button>
            ),
          },
        ]}
      />
      <Pager page={drills.data} onOffset={setOffset} />
      {shown ? <DrillView key={shown} id={shown} onFinished={drills.reload} /> : null}
    </section>
  );
}

function Summary({ drill }: { drill: DrillSummary }) {
  const { t } = useTranslation();
  return (
    <span data-testid="drill-summary">
      {drill.state === 'running' ? `${t('readiness.running')} · ` : ''}
      {t('readiness.counts', drill.summary)}
    </span>
  );
}

function DrillForm({ communeId, onStarted }: { communeId: string; onStarted: (drill: DrillReport) => void }) {
  const { t } = useTranslation();
  const [whole, setWhole] = useState(true);
  const [targets, setTargets] = useState<ClusterTargets>(NO_TARGETS);
  const [tone, setTone] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const { busy, error, send } = useRequest();

  const run = () => {
    setConfirming(false);
    send(
      () =>
        api<DrillReport>('/api/v1/readiness/drills', {
          method: 'POST',
          body: { targets: whole ? { communeIds: [communeId] } : targets, tone },
        }),
      onStarted,
    );
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // A tone is heard in the village: asked for once more.
    if (tone) setConfirming(true);
    else run();
  };

  return (
    <form className="card form" onSubmit={submit} data-testid="drill-form">
      <h2>{t('readiness.runNow')}</h2>
      <CheckField
        label={t('readiness.wholeCommune')}
        checked={whole}
        onChange={setWhole}
        testId="drill-whole"
      />
      {whole ? null : (
        <ClusterChoice
          value={targets}
          onChange={setTargets}
          legend={t('readiness.which')}
          testId="drill-target"
        />
      )}
      <CheckField label={t('readiness.tone')} checked={tone} onChange={setTone} testId="drill-tone" />
      <p className="muted">{tone ? t('readiness.toneHint') : t('readiness.silentHint')}</p>
      <ErrorMessage error={error} />
      <FormActions label={t('readiness.run')} disabled={busy} testId="drill-run" />
      <ConfirmDialog
        open={confirming}
        title={t('readiness.toneTitle')}
        message={t('readiness.toneMessage')}
        confirmLabel={t('readiness.toneConfirm')}
        onConfirm={run}
        onCancel={() => setConfirming(false)}
        testId="drill-tone-dialog"
      />
    </form>
  );
}

const pad = (n: number) => String(n).padStart(2, '0');

type WeeklyDraft = { enabled: boolean; weekday: number; time: string; tone: boolean };

function WeeklyDrill({ communeId, runs }: { communeId: string; runs: boolean }) {
  const { t } = useTranslation();
  const format = useFormat();
  const form = useSettingsForm<ReadinessSchedule, WeeklyDraft>(
    `/api/v1/readiness/schedules/${encodeURIComponent(communeId)}`,
    (data) => ({
      enabled: data.enabled,
      weekday: data.weekday,
      time: `${pad(data.hour)}:${pad(data.minute)}`,
      tone: data.tone,
    }),
    (draft) => {
      const [hour, minute] = draft.time.split(':').map(Number);
      return { enabled: draft.enabled, weekday: draft.weekday, hour, minute, tone: draft.tone };
    },
  );
  const { setDraft } = form;
  const data = form.settings.data;

  return (
    <SettingsCard
      title={t('readiness.weekly')}
      testId="drill-weekly"
      onSubmit={form.submit}
      error={form.error}
      busy={form.busy}
      writes={runs}
      draft={form.draft}
      before={
        data ? (
          <p data-testid="drill-next">
            {data.next ? t('readiness.next', { time: format.dateTime(data.next) }) : t('readiness.weeklyOff')}
            {data.lastRunAt ? ` · ${t('readiness.lastRun', { time: format.dateTime(data.lastRunAt) })}` : ''}
          </p>
        ) : null
      }
    >
      {(draft) => (
        <>
          <CheckField
            label={t('readiness.weeklyOn')}
            checked={draft.enabled}
            onChange={(enabled) => setDraft({ ...draft, enabled })}
            testId="drill-weekly-enabled"
          />
          <label>
            {t('readiness.weekday')}
            <select
              value={draft.weekday}
              onChange={(e) => setDraft({ ...draft, weekday: Number(e.target.value) })}
              data-testid="drill-weekly-day"
            >
              {WEEKDAYS.map((d) => (
                <option key={d} value={d}>
                  {t(`readiness.day.${d}`)}
                </option>
              ))}
            </select>
          </label>
          <TextField
            label={t('readiness.time')}
            type="time"
            required
            value={draft.time}
            onChange={(time) => setDraft({ ...draft, time })}
            testId="drill-weekly-time"
          />
          <CheckField
            label={t('readiness.tone')}
            checked={draft.tone}
            onChange={(tone) => setDraft({ ...draft, tone })}
            testId="drill-weekly-tone"
          />
        </>
      )}
    </SettingsCard>
  );
}

/** A cluster's reason in the console's words, from the platform's line ("speaker 2: open-circuit"). */
function Reason({ text }: { text: string }) {
  const { t } = useTranslation();
  const speaker = /^speaker (\d+): (.+)$/.exec(text);
  const check = /^(download|decode): ([a-z-]+)/.exec(text);
  const amplifier = /^amplifier: (.+)$/.exec(text);
  const fault = (code: string) => t(`fault.${code}`, { defaultValue: t('fault.other', { code }) });
  const known = speaker
    ? t('readiness.reason.speaker', { n: speaker[1], fault: fault(speaker[2] ?? '') })
    : check
      ? t(`readiness.reason.${check[1]}`)
      : amplifier
        ? fault(amplifier[1] ?? '')
        : text === 'offline'
          ? t('readiness.reason.offline')
          : /^busy/.test(text)
            ? t('readiness.reason.busy')
            : /^no answer/.test(text)
              ? t('readiness.reason.noAnswer')
              : null;
  return (
    <li data-testid="drill-reason">
      {known ?? t('readiness.reason.other')}
      {known && !check ? null : <TechnicalDetail text={text} />}
    </li>
  );
}

function DrillView({ id, onFinished }: { id: string; onFinished: () => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const report = useFetch<DrillReport>(`/api/v1/readiness/drills/${encodeURIComponent(id)}`);
  const data = report.data;
  // A drill is running or finished.
  useFollow(report, data?.state === 'running', onFinished, REFRESH_MS);

  const clusters = data?.clusters ?? [];
  return (
    <section className="card" data-testid="drill-report" data-drill-id={id} data-state={data?.state}>
      <h2>{t('readiness.report', { time: data ? format.dateTime(data.startedAt) : '' })}</h2>
      <ErrorMessage error={report.error} />
      {data ? <Summary drill={data} /> : null}
      <h3>{t('readiness.byVillage')}</h3>
      <DataTable
        testId="drill-villages"
        rows={data?.villages}
        rowKey={(v) => v.villageId}
        rowAttributes={(v) => ({
          'data-testid': 'drill-village',
          'data-village-id': v.villageId,
          'data-ready': String(v.ready),
          'data-clusters': String(v.clusters),
          className: v.ready < v.clusters && v.testing === 0 ? 'warn' : undefined,
        })}
        columns={[
          { header: t('alarms.village'), names: true, cell: (v) => v.name },
          { header: t('readiness.readyOf'), cell: (v) => t('readiness.readyCount', v) },
          {
            header: t('readiness.notReadyClusters'),
            cell: (v) => (
              <ul className="item-chips">
                {clusters
                  .filter((c) => c.villageId === v.villageId && c.outcome !== 'ready')
                  .map((c) => (
                    <li key={c.clusterId} className={c.outcome === 'not-ready' ? 'chip bad' : 'chip'}>
                      {c.name} · {t(`readiness.outcome.${c.outcome}`)}
                    </li>
                  ))}
              </ul>
            ),
          },
        ]}
      />
      <h3>{t('readiness.byCluster')}</h3>
      <DataTable
        testId="drill-clusters"
        rows={clusters}
        rowKey={(c) => c.clusterId}
        rowAttributes={(c) => ({
          'data-testid': 'drill-cluster',
          'data-cluster-id': c.clusterId,
          'data-outcome': c.outcome,
        })}
        columns={[
          { header: t('firmware.cluster'), names: true, cell: (c) => c.name },
          {
            header: t('readiness.result'),
            cell: (c) => (
              <>
                <span
                  className={
                    c.outcome === 'ready' ? 'badge ok' : c.outcome === 'not-ready' ? 'badge bad' : 'badge'
                  }
                >
                  {t(`readiness.outcome.${c.outcome}`)}
                </span>
                {c.reasons.length > 0 ? (
                  <ul>
                    {c.reasons.map((r) => (
                      <Reason key={r} text={r} />
                    ))}
                  </ul>
                ) : null}
              </>
            ),
          },
        ]}
      />
    </section>
  );
}
