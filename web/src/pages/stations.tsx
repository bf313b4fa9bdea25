import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { api } from '../api/client';
import type { Broadcast, Station } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { useRecordEditor } from '../api/use-record-editor';
import { broadcastLogPath } from '../broadcast-log';
import { DataTable } from '../components/data-table';
import { RecordButtons, RemoveDialog } from '../components/record-actions';
import { StationForm } from '../components/station-form';
import { StationHealth } from '../components/station-health';
import { StationRelayForm } from '../components/station-relay';
import { useContentWords } from '../content-words';
import { allowed, useSession } from '../session';

/**
 * The radio stations a commune relays: admins keep them, operators relay one now, everyone here
 * checks one and sees how each fared at its last check or relay.
 */
export default function StationsPage() {
  const { t } = useTranslation();
  const { roles } = useSession().me;
  const admin = roles.includes('admin');
  const relays = allowed(roles, ['operator']);
  const { words, stations, error: listError, reloadStations } = useContentWords();
  const editor = useRecordEditor<Station>('/api/v1/stations', reloadStations);
  const { editing, setEditing, error, setError } = editor;
  const [checking, setChecking] = useState<ReadonlySet<string>>(new Set());
  const [checked, setChecked] = useState<Station | null>(null);
  const [relaying, setRelaying] = useState<Station | null>(null);
  const [relayed, setRelayed] = useState<Broadcast | null>(null);

  // A station another one falls back to cannot go (the platform refuses): say so before trying.
  const removing = editor.removing;
  const fallbackOf = (stations ?? []).filter(
    (other) => other.fallback.kind === 'station' && other.fallback.stationId === removing?.id,
  );

  const check = (station: Station) => {
    setChecking((current) => new Set(current).add(station.id));
    setError(null);
    api<Station>(`/api/v1/stations/${encodeURIComponent(station.id)}/check`, { method: 'POST' })
      .then((answer) => {
        setChecked(answer);
        reloadStations();
      })
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() =>
        setChecking((current) => {
          const next = new Set(current);
          next.delete(station.id);
          return next;
        }),
      );
  };

  return (
    <section>
      <h1>{t('stations.title')}</h1>
      <p className="muted">{t('stations.intro')}</p>
      {admin ? (
        <div className="toolbar">
          <button
            type="button"
            className="primary"
            onClick={() => setEditing('new')}
            data-testid="station-new"
          >
            {t('stations.new')}
          </button>
        </div>
      ) : null}
      {editing ? (
        <StationForm
          key={editing === 'new' ? 'new' : editing.id}
          station={editing === 'new' ? null : editing}
          stations={stations ?? []}
          onSaved={() => {
            setEditing(null);
            reloadStations();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {relaying ? (
        <StationRelayForm
          key={relaying.id}
          station={relaying}
          onStarted={(broadcast) => {
            setRelaying(null);
            setRelayed(broadcast);
          }}
          onCancel={() => setRelaying(null)}
        />
      ) : null}
      {relayed ? (
        <p className="notice" role="status" data-testid="relay-started" data-broadcast-id={relayed.id}>
          {t('stations.relayStarted', { name: relayed.name })}{' '}
          <Link href={broadcastLogPath(relayed.id)} data-testid="relay-broadcast">
            {t('live.inLog')}
          </Link>
        </p>
      ) : null}
      {checked ? (
        <p
          className="notice"
          role="status"
          data-testid="station-check-result"
          data-state={checked.health.state}
          data-station-id={checked.id}
        >
          {t('stations.checkResult', {
            name: checked.name,
            state: t(`stationHealth.${checked.health.state}`),
          })}
        </p>
      ) : null}
      <DataTable
        error={error ?? listError}
        empty={t('stations.empty')}
        testId="stations-table"
        rows={stations}
        rowKey={(station) => station.id}
        rowAttributes={(station) => ({
          'data-testid': 'station-row',
          'data-station-id': station.id,
          'data-state': station.health.state,
        })}
        columns={[
          {
            header: t('stations.name'),
            names: true,
            cell: (station) => (
              <>
                {station.name}
                <div className="muted">{station.id}</div>
              </>
            ),
          },
          { header: t('stations.kind'), cell: (station) => t(`stationKind.${station.kind}`) },
          {
            header: t('stations.url'),
            className: 'url',
            cell: (station) => <code>{station.url}</code>,
          },
          { header: t('stations.fallback'), cell: (station) => words.fallback(station.fallback) },
          { header: t('stations.health'), cell: (station) => <StationHealth station={station} /> },
          {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (station) => {
              const busy = checking.has(station.id);
              const buttons = (
                <>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => check(station)}
                    data-testid="station-check"
                    data-station-id={station.id}
                  >
                    {busy ? t('stations.checking') : t('stations.check')}
                  </button>
                  {relays ? (
                    <button
                      type="button"
                      className="primary"
                      onClick={() => {
                        setRelayed(null);
                        setRelaying(station);
                      }}
                      data-testid="station-relay"
                      data-station-id={station.id}
                    >
                      {t('stations.relay')}
                    </button>
                  ) : null}
                </>
              );
              return admin ? (
                <RecordButtons editor={editor} record={station} testIdPrefix="station">
                  {buttons}
                </RecordButtons>
              ) : (
                buttons
              );
            },
          },
        ]}
      />
      <RemoveDialog
        editor={editor}
        title={t('stations.removeTitle', { name: editor.removing?.name ?? '' })}
        message={
          fallbackOf.length > 0
            ? t('stations.removeBlocked', { names: fallbackOf.map((s) => s.name).join(', ') })
            : t('stations.removeMessage')
        }
        testId="station-remove"
      />
    </section>
  );
}
