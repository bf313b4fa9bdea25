import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import type { ClusterView } from '../api/registry';
import type { ControlCommand, ControlResult, ControlStatus, Targets } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { useLabels } from '../labels';
import { allowed, useSession } from '../session';
import { ErrorMessage } from './error-message';

/** How long the platform waits for the clusters' acks before it answers (the route allows 30 s). */
const WAIT_MS = 5000;
/** Statuses that mean the cluster did not carry the command out. */
const FAILED: readonly ControlStatus[] = ['failed', 'rejected', 'expired'];
const PENDING: readonly ControlStatus[] = ['sent', 'accepted'];

interface Outcome {
  command: ControlCommand;
  items: ControlResult['items'];
}

/** The volume every cluster of the scope reports, when they agree: the field's starting value. */
function sharedVolume(clusters: readonly ClusterView[]): string {
  const volumes = new Set(clusters.map((c) => c.volume).filter((v): v is number => v !== null));
  return volumes.size === 1 ? String([...volumes][0]) : '';
}

/** Whether the signed-in account may set volume and power (operators, technicians, admins). */
export function useMayControl(): boolean {
  const { me } = useSession();
  return allowed(me.roles, ['operator', 'technician']);
}

/**
 * Volume and amplifier power for the clusters of some targets (POST /clusters/control): the
 * platform sends the command to each online cluster and waits a few seconds for their acks, and the
 * answer is counted here: done, offline (not sent), failed, and still unanswered. `scope` names the
 * targets for tests and assistive text: `all`, `village:<id>` or `cluster:<id>`.
 */
export function ClusterControl({
  scope,
  label,
  targets,
  clusters,
}: {
  scope: string;
  /** What the controls act on, for a screen reader: "Thôn 3". */
  label: string;
  targets: Targets;
  /** The clusters the targets name, as the console knows them (their names and volumes). */
  clusters: readonly ClusterView[];
}) {
  const { t } = useTranslation();
  const [volume, setVolume] = useState(() => sharedVolume(clusters));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const send = (command: ControlCommand) => {
    setBusy(true);
    setError(null);
    api<ControlResult>('/api/v1/clusters/control', {
      method: 'POST',
      query: { waitMs: WAIT_MS },
      body: { targets, command },
    })
      .then((answer) => setOutcome({ command, items: answer.items }))
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  const applyVolume = (event: FormEvent) => {
    event.preventDefault();
    const level = Number(volume);
    if (volume.trim() === '' || !Number.isInteger(level) || level < 0 || level > 100) return;
    send({ type: 'volume', level });
  };

  return (
    <fieldset className="control bare">
      <legend className="visually-hidden">{t('control.of', { name: label })}</legend>
      <form className="toolbar" onSubmit={applyVolume}>
        <label>
          {t('control.volume')}
          <input
            type="number"
            required
            min={0}
            max={100}
            step={1}
            value={volume}
            onChange={(e) => setVolume(e.target.value)}
            data-testid="control-volume"
            data-scope={scope}
          />
        </label>
        <button type="submit" disabled={busy} data-testid="control-volume-apply" data-scope={scope}>
          {t('control.apply')}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => send({ type: 'power', on: true })}
          data-testid="control-power-on"
          data-scope={scope}
        >
          {t('control.powerOn')}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => send({ type: 'power', on: false })}
          data-testid="control-power-off"
          data-scope={scope}
        >
          {t('control.powerOff')}
        </button>
        {busy ? <span className="muted">{t('control.sending')}</span> : null}
      </form>
      <ErrorMessage error={error} />
      {outcome ? <OutcomeLine scope={scope} outcome={outcome} clusters={clusters} /> : null}
    </fieldset>
  );
}

function OutcomeLine({
  scope,
  outcome,
  clusters,
}: {
  scope: string;
  outcome: Outcome;
  clusters: readonly ClusterView[];
}) {
  const { t } = useTranslation();
  const labels = useLabels();
  const { command, items } = outcome;
  const count = (statuses: readonly ControlStatus[]) =>
    items.filter((i) => statuses.includes(i.status)).length;
  const done = count(['done']);
  const offline = count(['offline']);
  const failed = count(FAILED);
  const pending = count(PENDING);
  const what =
    command.type === 'volume'
      ? t('control.didVolume', { level: command.level })
      : t(command.on ? 'control.didPowerOn' : 'control.didPowerOff');
  const missed = items.filter((i) => i.status !== 'done');
  const name = (id: string) => clusters.find((c) => c.id === id)?.name ?? id;
  const status = (item: ControlResult['items'][number]) =>
    item.status === 'offline' ? t('cluster.offline') : t(`commandStatus.${item.status}`);
  return (
    <div
      role="status"
      className={failed > 0 || offline > 0 ? 'control-result warn' : 'control-result'}
      data-testid="control-result"
      data-scope={scope}
      data-command={command.type}
      data-done={done}
      data-offline={offline}
      data-failed={failed}
      data-pending={pending}
    >
      <p className="control-summary">
        {items.length === 0
          ? t('control.noClusters')
          : [
              `${what}: ${t('control.done', { done, total: items.length })}`,
              t('control.offline', { count: offline }),
              t('control.failed', { count: failed }),
              ...(pending > 0 ? [t('control.pending', { count: pending })] : []),
            ].join(' · ')}
      </p>
      {missed.length > 0 ? (
        <ul className="muted">
          {missed.map((item) => (
            <li key={item.clusterId} data-cluster-id={item.clusterId} data-status={item.status}>
              {name(item.clusterId)}: {status(item)}
              {item.error ? ` (${labels.deliveryReason(item.error)})` : ''}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
