import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'wouter';
import { type ApiError, api, type Page } from '../api/client';
import { live, useDeviceMessages, useLive } from '../api/live';
import type { ClusterDetail, CommandRecord, DemoFaults, HistoryAnswer } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { DeviceAlarms } from '../components/alarm-device';
import { ErrorMessage } from '../components/error-message';
import { HistoryChart } from '../components/history-chart';
import { StreamHealthView } from '../components/stream-health';
import { useFormat, useSettings } from '../format';
import { type Labels, useLabels } from '../labels';

const FIELDS = [
  'signal',
  'volume',
  'temperature',
  'supply_voltage',
  'speakers_ok',
  'playing',
  'power',
  'uptime',
] as const;
const WINDOWS = ['1m', '5m', '15m', '1h'] as const;
const RANGES = [6, 24, 72, 168] as const;

export default function DevicePage() {
  const { id = '' } = useParams<{ id: string }>();
  const { t } = useTranslation();
  const cluster = useFetch<ClusterDetail>(`/api/v1/clusters/${encodeURIComponent(id)}`);
  const { demo } = useSettings();

  return (
    <section>
      <p>
        <Link href="/">{t('device.back')}</Link>
      </p>
      <h1>{t('device.title', { name: cluster.data?.name ?? id })}</h1>
      <ErrorMessage error={cluster.error} />
      <LiveValues id={id} cluster={cluster.data} />
      <DeviceAlarms deviceId={id} />
      <History id={id} />
      <div className="two-columns">
        <Commands id={id} />
        <Messages id={id} />
      </div>
      {demo ? <FaultPanel id={id} /> : null}
    </section>
  );
}

function LiveValues({ id, cluster }: { id: string; cluster: ClusterDetail | null }) {
  const { t } = useTranslation();
  const format = useFormat();
  const labels = useLabels();
  const state = useLive();
  const update = state.clusters.get(id);
  const status = cluster?.status;
  const online = update?.online ?? status?.online ?? false;
  // A live record without a stream means the stream ended since the cluster was read.
  const stream = update ? update.stream : (status?.stream ?? null);
  const rows: [string, string][] = [
    [t('cluster.status'), online ? t('cluster.online') : t('cluster.offline')],
    [t('cluster.sinceLabel'), format.dateTime(update?.since ?? status?.since)],
    [t('cluster.reason'), labels.presenceReason(update?.reason ?? status?.reason)],
    [t('cluster.lastSeen'), format.dateTime(update?.lastSeen ?? status?.lastSeen)],
    [t('cluster.signal'), format.number(update?.signalDbm ?? status?.signalDbm)],
    [t('cluster.volume'), format.number(update?.volume ?? status?.volume)],
    [t('cluster.temperature'), format.number(update?.temperatureC ?? status?.tempC, 1)],
    [t('cluster.supply'), format.number(update?.supplyV ?? status?.supplyV, 1)],
    [t('cluster.firmware'), status?.fw ?? t('common.none')],
    [t('device.rejected'), rejectedText(cluster, labels, t('device.rejectedNone'))],
  ];
  const last = cluster?.lastRejection;
  return (
    <section className="card" data-testid="device-live" data-online={String(online)}>
      <h2>{t('device.live')}</h2>
      <dl className="values">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {stream ? <StreamHealthView stream={stream} /> : null}
      {last ? (
        <p className="muted" data-testid="device-last-rejection">
          {t('device.lastRejection', {
            time: format.dateTime(last.at),
            reason: labels.rejection(last.reason),
          })}
          {last.detail ? (
            <>
              {' '}
              <code>{last.detail}</code>
            </>
          ) : null}
        </p>
      ) : null}
    </section>
  );
}

/** "invalid JSON 3, malformed 1": the messages refused since start, by reason. */
function rejectedText(cluster: ClusterDetail | null, labels: Labels, none: string): string {
  const counts = Object.entries(cluster?.rejectedMessages ?? {}).filter(([, n]) => n > 0);
  return counts.length === 0
    ? none
    : counts.map(([reason, n]) => `${labels.rejection(reason)} ${n}`).join(', ');
}

function History({ id }: { id: string }) {
  const { t } = useTranslation();
  const { timeZone } = useFormat();
  const [field, setField] = useState<(typeof FIELDS)[number]>('signal');
  const [windowSize, setWindowSize] = useState<(typeof WINDOWS)[number]>('5m');
  const [hours, setHours] = useState<(typeof RANGES)[number]>(24);
  const [from] = useState(() => Date.now());
  const history = useFetch<HistoryAnswer>(`/api/v1/devices/${encodeURIComponent(id)}/history`, {
    field,
    window: windowSize,
    agg: 'mean',
    from: new Date(from - hours * 3600_000).toISOString(),
  });
  return (
    <section className="card">
      <h2>{t('device.history')}</h2>
      <div className="toolbar">
        <label>
          {t('device.field')}
          <select
            value={field}
            onChange={(e) => setField(e.target.value as typeof field)}
            data-testid="history-field"
          >
            {FIELDS.map((f) => (
              <option key={f} value={f}>
                {t(`field.${f}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('device.window')}
          <select value={windowSize} onChange={(e) => setWindowSize(e.target.value as typeof windowSize)}>
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                {t(`window.${w}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('device.range')}
          <select value={hours} onChange={(e) => setHours(Number(e.target.value) as typeof hours)}>
            {RANGES.map((h) => (
              <option key={h} value={h}>
                {t('device.hours', { count: h })}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorMessage error={history.error} />
      {history.data ? (
        history.data.points.length > 0 ? (
          <HistoryChart points={history.data.points} label={t(`field.${field}`)} timeZone={timeZone} />
        ) : (
          <p className="muted">{t('device.noHistory')}</p>
        )
      ) : null}
    </section>
  );
}

type CommandType = 'ping' | 'volume' | 'power' | 'reboot';

function Commands({ id }: { id: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [type, setType] = useState<CommandType>('ping');
  const [level, setLevel] = useState('60');
  const [on, setOn] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [sent, setSent] = useState<CommandRecord[]>([]);
  const history = useFetch<Page<CommandRecord>>(`/api/v1/devices/${encodeURIComponent(id)}/commands`, {
    limit: 20,
  });

  const send = () => {
    const body =
      type === 'volume' ? { type, level: Number(level) } : type === 'power' ? { type, on } : { type };
    setBusy(true);
    setError(null);
    api<CommandRecord>(`/api/v1/devices/${encodeURIComponent(id)}/commands`, {
      method: 'POST',
      query: { waitMs: 5000 },
      body,
    })
      .then((record) => {
        setSent((list) => [record, ...list]);
        history.reload();
      })
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  const records = [...sent, ...(history.data?.items ?? []).filter((r) => !sent.some((s) => s.id === r.id))];

  return (
    <section className="card" data-testid="command-console">
      <h2>{t('device.commands')}</h2>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <label>
          {t('device.command')}
          <select
            value={type}
            onChange={(e) => setType(e.target.value as CommandType)}
            data-testid="command-type"
          >
            <option value="ping">{t('command.ping')}</option>
            <option value="volume">{t('command.volume')}</option>
            <option value="power">{t('command.power')}</option>
            <option value="reboot">{t('command.reboot')}</option>
          </select>
        </label>
        {type === 'volume' ? (
          <label>
            {t('device.level')}
            <input type="number" min={0} max={100} value={level} onChange={(e) => setLevel(e.target.value)} />
          </label>
        ) : null}
        {type === 'power' ? (
          <label className="check">
            <input type="checkbox" checked={on} onChange={(e) => setOn(e.target.checked)} />
            {t('device.powerOn')}
          </label>
        ) : null}
        <button type="submit" className="primary" disabled={busy} data-testid="command-send">
          {busy ? t('device.waiting') : t('device.send')}
        </button>
      </form>
      <ErrorMessage error={error} />
      <ol className="log" data-testid="command-log">
        {records.map((record) => (
          <li key={record.id} data-status={record.status}>
            <time dateTime={record.issuedAt}>{format.dateTime(record.issuedAt)}</time>{' '}
            <strong>{t(`command.${record.type}`, { defaultValue: record.type })}</strong>{' '}
            <span className={`state state-${record.status}`}>{t(`commandStatus.${record.status}`)}</span>
            {record.error ? <span className="muted"> · {record.error}</span> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Messages({ id }: { id: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const messages = useDeviceMessages(id);
  const { connected } = useLive();
  const [watchError, setWatchError] = useState<string | null>(null);
  const [paused, setPaused] = useState(false);

  useEffect(() => {
    if (paused || !connected) return;
    let active = true;
    live
      .watch(id)
      .then((answer) => {
        if (active) setWatchError(answer.ok ? null : (answer.error ?? 'refused'));
      })
      .catch((caught: unknown) => {
        if (active) setWatchError(String(caught));
      });
    return () => {
      active = false;
      live.unwatch(id);
    };
  }, [id, paused, connected]);

  return (
    <section className="card" data-testid="device-messages">
      <h2>{t('device.messages')}</h2>
      <div className="toolbar">
        <button type="button" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
          {paused ? t('device.resume') : t('device.pause')}
        </button>
        {connected ? null : <span className="muted">{t('app.offline')}</span>}
        {watchError ? <span className="error">{t('device.watchFailed', { error: watchError })}</span> : null}
      </div>
      <ol className="messages">
        {[...messages].reverse().map((message) => (
          <li key={message.seq} className={`direction-${message.direction}`}>
            <span className="muted">
              {format.time(message.at)} {message.direction === 'in' ? t('device.in') : t('device.out')}
            </span>{' '}
            <code>{message.topic}</code>
            <pre>{message.payload}</pre>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Demo mode: rehearse a fault on the simulated device, as the demo console's `fault` command does. */
function FaultPanel({ id }: { id: string }) {
  const { t } = useTranslation();
  const faults = useFetch<DemoFaults>(`/api/v1/demo/faults/${encodeURIComponent(id)}`);
  const [kind, setKind] = useState('');
  const [arg, setArg] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const chosen = kind || faults.data?.kinds[0]?.kind || '';

  const run = (method: 'POST' | 'DELETE') => {
    setBusy(true);
    setError(null);
    api<DemoFaults>(`/api/v1/demo/faults/${encodeURIComponent(id)}`, {
      method,
      ...(method === 'POST' ? { body: { kind: chosen, ...(arg ? { arg } : {}) } } : {}),
    })
      .then(() => faults.reload())
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <section className="card" data-testid="fault-panel">
      <h2>{t('device.faultsTitle')}</h2>
      <form
        className="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          run('POST');
        }}
      >
        <label>
          {t('device.faultKind')}
          <select value={chosen} onChange={(e) => setKind(e.target.value)} data-testid="fault-kind">
            {faults.data?.kinds.map((k) => (
              <option
                key={k.kind}
                value={k.kind}
                title={t(`faultHint.${k.kind}`, { defaultValue: k.summary })}
              >
                {t(`faultKind.${k.kind}`, { defaultValue: k.kind })}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('device.faultArg')}
          <input
            value={arg}
            onChange={(e) => setArg(e.target.value)}
            maxLength={40}
            data-testid="fault-arg"
          />
        </label>
        <button type="submit" className="danger" disabled={busy || !chosen} data-testid="fault-inject">
          {t('device.faultInject')}
        </button>
        <button type="button" disabled={busy} onClick={() => run('DELETE')} data-testid="fault-clear">
          {t('device.faultClear')}
        </button>
      </form>
      <p className="muted">
        {chosen
          ? t(`faultHint.${chosen}`, {
              defaultValue: faults.data?.kinds.find((k) => k.kind === chosen)?.summary ?? '',
            })
          : null}
      </p>
      <p data-testid="fault-active">
        {t('device.faultActive')}:{' '}
        {faults.data?.active.length
          ? faults.data.active.map((fault) => activeFault(fault, t)).join(', ')
          : t('common.none')}
      </p>
      <ErrorMessage error={error ?? faults.error} />
    </section>
  );
}

/** An active simulated fault as the simulator lists it (`speaker-fault:2`): its name, then its value. */
function activeFault(fault: string, t: (key: string, options?: Record<string, unknown>) => string): string {
  const [kind = fault, arg] = fault.split(':');
  const name = t(`faultKind.${kind}`, { defaultValue: kind });
  return arg ? `${name} (${arg})` : name;
}
