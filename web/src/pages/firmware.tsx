import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { FirmwareImage, Rollout, RolloutSummary } from '../../../contracts/firmware';
import { type ApiError, api, type Page } from '../api/client';
import { usePlaces } from '../api/places';
import { useClusters } from '../api/registry';
import { toApiError, useFetch, useFollow } from '../api/use-fetch';
import { useRequest } from '../api/use-record-editor';
import { ClusterChoice, type ClusterTargets, NO_TARGETS } from '../components/cluster-choice';
import { DataTable } from '../components/data-table';
import { ConfirmDialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { FormCard } from '../components/form-card';
import { Pager } from '../components/pager';
import { CommuneSelect } from '../components/place-select';
import { TechnicalDetail } from '../components/technical-detail';
import { TextField } from '../components/text-field';
import { useFormat } from '../format';

const PAGE = 10;
/** How often a running rollout is read again: the platform sends no live event for its progress. */
const REFRESH_MS = 2000;

/**
 * "Cập nhật phần mềm": firmware images with their verified SHA-256, staged rollouts to a share of a
 * commune's clusters or to chosen ones, and each rollout's progress cluster by cluster.
 */
export default function FirmwarePage() {
  const { t } = useTranslation();
  const format = useFormat();
  const [imageOffset, setImageOffset] = useState(0);
  const [rolloutOffset, setRolloutOffset] = useState(0);
  const images = useFetch<Page<FirmwareImage>>('/api/v1/firmware', { limit: PAGE, offset: imageOffset });
  const rollouts = useFetch<Page<RolloutSummary>>('/api/v1/firmware/rollouts', {
    limit: PAGE,
    offset: rolloutOffset,
  });
  const [uploading, setUploading] = useState(false);
  const [rollingOut, setRollingOut] = useState<FirmwareImage | null>(null);
  const [shown, setShown] = useState<string | null>(null);

  return (
    <section>
      <h1>{t('firmware.title')}</h1>
      <p className="muted">{t('firmware.intro')}</p>
      <div className="toolbar">
        <button type="button" className="primary" onClick={() => setUploading(true)} data-testid="fw-upload">
          {t('firmware.upload')}
        </button>
      </div>
      {uploading ? (
        <UploadForm
          onCancel={() => setUploading(false)}
          onSaved={() => {
            setUploading(false);
            images.reload();
          }}
        />
      ) : null}
      {rollingOut ? (
        <RolloutForm
          key={rollingOut.id}
          image={rollingOut}
          onCancel={() => setRollingOut(null)}
          onStarted={(rollout) => {
            setRollingOut(null);
            setShown(rollout.id);
            rollouts.reload();
          }}
        />
      ) : null}

      <h2>{t('firmware.images')}</h2>
      <DataTable
        error={images.error}
        empty={t('firmware.noImages')}
        testId="fw-images"
        rows={images.data?.items}
        rowKey={(image) => image.id}
        rowAttributes={(image) => ({ 'data-testid': 'fw-image', 'data-version': image.version })}
        columns={[
          { header: t('firmware.version'), names: true, cell: (image) => image.version },
          {
            header: t('firmware.checksum'),
            cell: (image) => (
              <code style={{ wordBreak: 'break-all' }} data-testid="fw-image-sha256">
                {image.sha256}
              </code>
            ),
          },
          {
            header: t('firmware.size'),
            cell: (image) => t('firmware.kb', { kb: format.number(image.sizeBytes / 1024, 0) }),
          },
          {
            header: t('firmware.uploaded'),
            cell: (image) => (
              <>
                {format.dateTime(image.createdAt)}
                <div className="muted">{image.createdBy ?? t('common.none')}</div>
                {image.notes ? <div>{image.notes}</div> : null}
              </>
            ),
          },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (image) => (
              <button
                type="button"
                onClick={() => setRollingOut(image)}
                data-testid={`fw-rollout-${image.version}`}
              >
                {t('firmware.rollOut')}
              </button>
            ),
          },
        ]}
      />
      <Pager page={images.data} onOffset={setImageOffset} />

      <h2>{t('firmware.rollouts')}</h2>
      <DataTable
        error={rollouts.error}
        empty={t('firmware.noRollouts')}
        testId="fw-rollouts"
        rows={rollouts.data?.items}
        rowKey={(r) => r.id}
        rowAttributes={(r) => ({
          'data-testid': 'fw-rollout-row',
          'data-rollout-id': r.id,
          'data-state': r.state,
        })}
        columns={[
          { header: t('firmware.version'), names: true, cell: (r) => r.version },
          { header: t('firmware.state'), cell: (r) => <RolloutState state={r.state} /> },
          { header: t('firmware.progress'), cell: (r) => <Counts counts={r.counts} /> },
          {
            header: t('firmware.started'),
            cell: (r) => (
              <>
                {format.dateTime(r.createdAt)}
                <div className="muted">{r.createdBy ?? t('common.none')}</div>
              </>
            ),
          },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (r) => (
              <button type="button" onClick={() => setShown(r.id)} data-testid={`fw-show-${r.id}`}>
                {t('firmware.show')}
              </button>
            ),
          },
        ]}
      />
      <Pager page={rollouts.data} onOffset={setRolloutOffset} />
      {shown ? <RolloutDetail key={shown} id={shown} onChanged={rollouts.reload} /> : null}
    </section>
  );
}

function RolloutState({ state }: { state: Rollout['state'] }) {
  const { t } = useTranslation();
  const tone = state === 'halted' ? 'bad' : state === 'completed' ? 'ok' : 'pending';
  return (
    <span className={`badge ${tone}`} data-testid="fw-state" data-state={state}>
      {t(`firmware.stateName.${state}`)}
    </span>
  );
}

function Counts({ counts }: { counts: Rollout['counts'] }) {
  const { t } = useTranslation();
  return <span data-testid="fw-counts">{t('firmware.counts', counts)}</span>;
}

async function sha256Of(file: File): Promise<string | null> {
  // crypto.subtle exists only on secure pages (https, or the PC itself); elsewhere the vendor's sum is checked by the platform alone.
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function UploadForm({ onCancel, onSaved }: { onCancel: () => void; onSaved: () => void }) {
  const { t } = useTranslation();
  const [file, setFile] = useState<File | null>(null);
  const [computed, setComputed] = useState<string | null>(null);
  const [version, setVersion] = useState('');
  const [sha256, setSha256] = useState('');
  const [notes, setNotes] = useState('');
  const { busy, error, send } = useRequest();

  useEffect(() => {
    setComputed(null);
    if (!file) return;
    let current = true;
    sha256Of(file)
      .then((sum) => current && setComputed(sum))
      .catch((caught: unknown) => console.warn('could not hash the image', caught));
    return () => {
      current = false;
    };
  }, [file]);

  const typed = sha256.trim().toLowerCase();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const form = new FormData();
    form.set('version', version.trim());
    form.set('sha256', typed);
    if (notes.trim()) form.set('notes', notes.trim());
    form.set('file', file, file.name);
    send(() => api<FirmwareImage>('/api/v1/firmware', { method: 'POST', form }), onSaved);
  };

  return (
    <FormCard
      title={t('firmware.uploadTitle')}
      testId="fw-upload-form"
      onSubmit={submit}
      error={error}
      busy={busy || !file}
      submitLabel={t('firmware.uploadSave')}
      onCancel={onCancel}
    >
      <label>
        {t('firmware.file')}
        <input
          type="file"
          required
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          data-testid="fw-file"
        />
      </label>
      {computed ? (
        <p className="muted">
          {t('firmware.computed')}{' '}
          <code style={{ wordBreak: 'break-all' }} data-testid="fw-computed">
            {computed}
          </code>
        </p>
      ) : null}
      <TextField
        label={t('firmware.version')}
        value={version}
        onChange={setVersion}
        required
        maxLength={64}
        testId="fw-version"
      />
      <TextField
        label={t('firmware.vendorChecksum')}
        value={sha256}
        onChange={setSha256}
        required
        pattern="[0-9a-fA-F]{64}"
        testId="fw-sha256"
      >
        {computed && typed.length === 64 ? (
          <span
            className={typed === computed ? 'muted' : 'error'}
            data-testid="fw-checksum-match"
            data-match={String(typed === computed)}
          >
            {typed === computed ? t('firmware.checksumMatch') : t('firmware.checksumDiffers')}
          </span>
        ) : null}
      </TextField>
      <TextField
        label={t('firmware.notes')}
        value={notes}
        onChange={setNotes}
        maxLength={500}
        testId="fw-notes"
      />
    </FormCard>
  );
}

function RolloutForm({
  image,
  onCancel,
  onStarted,
}: {
  image: FirmwareImage;
  onCancel: () => void;
  onStarted: (rollout: Rollout) => void;
}) {
  const { t } = useTranslation();
  const { communes } = usePlaces();
  const [mode, setMode] = useState<'share' | 'chosen'>('share');
  const [communeId, setCommuneId] = useState('');
  const [targets, setTargets] = useState<ClusterTargets>(NO_TARGETS);
  const [numbers, setNumbers] = useState({ percentage: '10', batchSize: '5', threshold: '10' });
  const { percentage, batchSize, threshold } = numbers;
  const { busy, error, send } = useRequest();
  const commune = communeId || communes[0]?.id || '';
  /** A number the rollout takes, labelled by its name. */
  const numberField = (
    name: keyof typeof numbers,
    field: { testId: string; min: number; max: number; step?: string; children?: ReactNode },
  ) => (
    <TextField
      {...field}
      label={t(`firmware.${name}`)}
      type="number"
      required
      value={numbers[name]}
      onChange={(value) => setNumbers((all) => ({ ...all, [name]: value }))}
    />
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const where = mode === 'share' ? { communeId: commune, percentage: Number(percentage) } : { targets };
    send(
      () =>
        api<Rollout>(`/api/v1/firmware/${encodeURIComponent(image.id)}/rollouts`, {
          method: 'POST',
          body: { ...where, batchSize: Number(batchSize), failureThreshold: Number(threshold) },
        }),
      onStarted,
    );
  };

  return (
    <FormCard
      title={t('firmware.rolloutTitle', { version: image.version })}
      testId="fw-rollout-form"
      onSubmit={submit}
      error={error}
      busy={busy}
      submitLabel={t('firmware.start')}
      onCancel={onCancel}
    >
      <fieldset>
        <legend>{t('firmware.which')}</legend>
        {(['share', 'chosen'] as const).map((m) => (
          <label key={m} className="check">
            <input
              type="radio"
              name="fw-mode"
              checked={mode === m}
              onChange={() => setMode(m)}
              data-testid={`fw-mode-${m}`}
            />
            {t(`firmware.mode.${m}`)}
          </label>
        ))}
      </fieldset>
      {mode === 'share' ? (
        <>
          {communes.length > 1 ? (
            <label htmlFor="fw-commune">
              {t('alarms.commune')}
              <CommuneSelect
                id="fw-commune"
                communes={communes}
                value={commune}
                onChange={setCommuneId}
                testId="fw-commune"
              />
            </label>
          ) : null}
          {numberField('percentage', { testId: 'fw-percentage', min: 1, max: 100 })}
        </>
      ) : (
        <ClusterChoice
          value={targets}
          onChange={setTargets}
          legend={t('firmware.clusters')}
          testId="fw-target"
        />
      )}
      {numberField('batchSize', { testId: 'fw-batch', min: 1, max: 1000 })}
      {numberField('threshold', {
        testId: 'fw-threshold',
        min: 0,
        max: 100,
        step: 'any',
        children: <span className="muted">{t('firmware.thresholdHint')}</span>,
      })}
    </FormCard>
  );
}

/** Why a rollout stopped, in the console's words where the platform's reason is one it knows. */
function HaltReason({ rollout }: { rollout: Rollout }) {
  const { t } = useTranslation();
  const reason = rollout.haltReason ?? '';
  const byHand = /^halted by (.+)$/.exec(reason);
  const threshold = /^(\d+) of (\d+) clusters failed \(([\d.]+) %\), more than the ([\d.]+) % allowed$/.exec(
    reason,
  );
  const text = byHand
    ? t('firmware.haltedBy', { who: byHand[1] })
    : threshold
      ? t('firmware.haltedThreshold', {
          failed: threshold[1],
          total: threshold[2],
          share: threshold[3],
          allowed: threshold[4],
        })
      : t('firmware.haltedOther');
  return (
    <p className="error" data-testid="fw-halt-reason">
      <strong>{t('firmware.halted')}</strong> {text}
      {byHand || threshold ? null : <TechnicalDetail text={reason} />}
    </p>
  );
}

/** A cluster's failure by its code (the platform's text begins with it), the rest folded away. */
function ClusterError({ error }: { error: string | null }) {
  const { t } = useTranslation();
  if (!error) return null;
  const code = /^[a-z-]+/.exec(error)?.[0] ?? '';
  return (
    <>
      <div data-testid="fw-cluster-error" data-code={code}>
        {t(`firmware.error.${code}`, { defaultValue: t('firmware.error.other') })}
      </div>
      <TechnicalDetail text={error} />
    </>
  );
}

function RolloutDetail({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { t } = useTranslation();
  const { clusters, villages } = useClusters();
  const rollout = useFetch<Rollout>(`/api/v1/firmware/rollouts/${encodeURIComponent(id)}`);
  const [halting, setHalting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const running = rollout.data?.state === 'running';
  // A halted rollout's clusters already updating still finish: followed until they have.
  const moving = running || (rollout.data?.counts.inProgress ?? 0) > 0;
  const { reload } = rollout;
  // The list's counts follow the rollout's end.
  useFollow(rollout, moving, onChanged, REFRESH_MS);

  const halt = () => {
    setHalting(false);
    api<Rollout>(`/api/v1/firmware/rollouts/${encodeURIComponent(id)}/halt`, { method: 'POST' })
      .then(reload)
      .catch((caught: unknown) => setError(toApiError(caught)));
  };
  const data = rollout.data;
  const name = (clusterId: string) => clusters.find((c) => c.id === clusterId)?.name ?? clusterId;
  const village = (villageId: string) => villages.find((v) => v.id === villageId)?.name ?? villageId;

  return (
    <section className="card" data-testid="fw-rollout" data-rollout-id={id} data-state={data?.state}>
      <h2>{t('firmware.rolloutOf', { version: data?.version ?? '' })}</h2>
      <ErrorMessage error={error ?? rollout.error} />
      {data ? (
        <>
          <p>
            <RolloutState state={data.state} /> <Counts counts={data.counts} />{' '}
            <span className="muted">
              {t('firmware.settings', { batch: data.batchSize, threshold: data.failureThreshold })}
            </span>
          </p>
          {data.state === 'halted' ? <HaltReason rollout={data} /> : null}
          {data.counts.rolledBack > 0 ? (
            <p data-testid="fw-rolled-back">
              {t('firmware.rolledBackNote', { count: data.counts.rolledBack })}
            </p>
          ) : null}
          {running ? (
            <div className="actions">
              <button type="button" className="danger" onClick={() => setHalting(true)} data-testid="fw-halt">
                {t('firmware.halt')}
              </button>
            </div>
          ) : null}
        </>
      ) : null}
      <DataTable
        testId="fw-clusters"
        rows={data?.clusters}
        rowKey={(c) => c.clusterId}
        rowAttributes={(c) => ({
          'data-testid': 'fw-cluster',
          'data-cluster-id': c.clusterId,
          'data-stage': c.stage,
          'data-outcome': c.outcome,
          className: c.outcome === 'failed' || c.outcome === 'rolled-back' ? 'warn' : undefined,
        })}
        columns={[
          {
            header: t('firmware.cluster'),
            names: true,
            cell: (c) => (
              <>
                {name(c.clusterId)}
                <div className="muted">{village(c.villageId)}</div>
              </>
            ),
          },
          { header: t('firmware.batch'), cell: (c) => c.batch + 1 },
          { header: t('firmware.stage'), cell: (c) => t(`firmware.stageName.${c.stage}`) },
          {
            header: t('firmware.outcome'),
            cell: (c) => (
              <>
                {t(`firmware.outcomeName.${c.outcome}`)}
                <ClusterError error={c.error} />
              </>
            ),
          },
          {
            header: t('firmware.versions'),
            cell: (c) => `${c.fromVersion ?? t('common.none')} → ${c.reportedVersion ?? t('common.none')}`,
          },
        ]}
      />
      <ConfirmDialog
        open={halting}
        title={t('firmware.haltTitle')}
        message={t('firmware.haltMessage')}
        confirmLabel={t('firmware.halt')}
        danger
        onConfirm={halt}
        onCancel={() => setHalting(false)}
        testId="fw-halt-dialog"
      />
    </section>
  );
}
