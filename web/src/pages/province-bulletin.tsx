import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'wouter';
import { useLive, useReceiptChanges } from '../api/live';
import type { Bulletin } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { BulletinContent } from '../components/bulletin-content';
import { DataTable } from '../components/data-table';
import { FINAL_STATES } from '../components/deliveries';
import { ErrorMessage } from '../components/error-message';
import { clustersDone, ReceiptChip, ReceiptCounts, receiptReason } from '../components/receipt-state';
import { useContentWords } from '../content-words';
import { useFormat } from '../format';

/**
 * One bulletin from the province: what it plays and when, and each commune's receipt (who decided
 * what, why, which commune items it clashes with, how many clusters played it), kept current by
 * the receipts and deliveries the platform pushes.
 */
export default function ProvinceBulletinPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const { id = '' } = useParams<{ id: string }>();
  const bulletin = useFetch<Bulletin>(`/api/v1/provincial-bulletins/${encodeURIComponent(id)}`);
  const { words, error: wordsError } = useContentWords();
  useReceiptChanges(bulletin.reload, (receipt) => receipt.bulletinId === id);
  useDeliveryProgress(bulletin.data, bulletin.reload);
  const data = bulletin.data?.id === id ? bulletin.data : null;
  const clusters = {
    done: data?.totals.clusters.done ?? 0,
    total: Object.values(data?.totals.clusters ?? {}).reduce((sum, n) => sum + (n ?? 0), 0),
  };

  return (
    <section data-testid="bulletin-detail" data-bulletin-id={id}>
      <p>
        <Link href="/province" data-testid="bulletin-back">
          {t('bulletin.back')}
        </Link>
      </p>
      <h1>
        {data?.name ?? t('bulletin.title')}
        {data ? <span className={`badge level level-${data.level}`}>{t(`level.${data.level}`)}</span> : null}
      </h1>
      <ErrorMessage error={bulletin.error ?? wordsError} />
      {data ? (
        <>
          <dl className="facts">
            <dt>{t('bulletin.sentBy')}</dt>
            <dd>
              {data.createdBy ?? t('common.none')} · {format.minute(data.createdAt)}
            </dd>
            <dt>{t('bulletin.start')}</dt>
            <dd data-testid="bulletin-start-at">{format.dateTime(data.start)}</dd>
            {data.level === 'normal' ? (
              <>
                <dt>{t('bulletin.expires')}</dt>
                <dd>{format.dateTime(data.expiresAt)}</dd>
              </>
            ) : null}
            <dt>{t('approvals.length')}</dt>
            <dd>{format.duration(data.durationS)}</dd>
            <dt>{t('schedule.content')}</dt>
            <dd>
              <BulletinContent content={data.content} words={words} />
            </dd>
          </dl>
          <h2>{t('bulletin.receipts')}</h2>
          <p data-testid="bulletin-totals" data-clusters-done={clusters.done} data-clusters={clusters.total}>
            {t('bulletin.communes', { count: data.totals.communes })}:{' '}
            <ReceiptCounts byState={data.totals.byState} />
            {/* Nothing has aired until a broadcast is made: a normal bulletin waits for its time. */}
            {clusters.total > 0 ? ` · ${t('bulletin.clustersDone', clusters)}` : null}
          </p>
          <DataTable
            testId="bulletin-receipts"
            rows={data.receipts}
            rowKey={(receipt) => receipt.communeId}
            rowAttributes={(receipt) => ({
              'data-testid': `receipt-${receipt.communeId}`,
              'data-state': receipt.state,
            })}
            columns={[
              { header: t('communes.name'), names: true, cell: (receipt) => receipt.communeName },
              { header: t('bulletin.state'), cell: (receipt) => <ReceiptChip state={receipt.state} /> },
              {
                header: t('bulletin.decidedBy'),
                cell: (receipt) =>
                  receipt.decidedBy ? (
                    <span data-testid="receipt-decided-by">
                      {receipt.decidedBy} · {format.minute(receipt.decidedAt)}
                    </span>
                  ) : (
                    t('common.none')
                  ),
              },
              {
                header: t('bulletin.reason'),
                cell: (receipt) => receiptReason(receipt, t) ?? t('common.none'),
              },
              {
                header: t('bulletin.clash'),
                cell: (receipt) =>
                  receipt.clash.length === 0 ? (
                    t('common.none')
                  ) : (
                    <ul className="approval-steps" data-testid="receipt-clash">
                      {receipt.clash.map((clash) => (
                        <li key={`${clash.scheduleId}-${clash.start}`}>
                          {t('inbox.clashItem', {
                            name: clash.name,
                            start: format.dateTime(clash.start),
                            end: format.time(clash.end),
                          })}
                        </li>
                      ))}
                    </ul>
                  ),
              },
              {
                header: t('bulletin.clusters'),
                cell: (receipt) => {
                  const { done, total } = clustersDone(receipt);
                  return total === 0 ? (
                    t('common.none')
                  ) : (
                    <span data-testid="receipt-clusters" data-done={done} data-total={total}>
                      {done}/{total}
                    </span>
                  );
                },
              },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}

/**
 * Reads the bulletin again each time one more of its clusters finishes (operators receive every
 * delivery as it changes), so "clusters done" moves while it plays.
 */
function useDeliveryProgress(bulletin: Bulletin | null, reload: () => void) {
  const { deliveries } = useLive();
  const ids = bulletin?.receipts.flatMap((r) => r.broadcasts.map((b) => b.broadcastId)) ?? [];
  let finished = 0;
  for (const id of ids)
    for (const delivery of deliveries.get(id)?.values() ?? [])
      if (FINAL_STATES.has(delivery.state)) finished++;
  const seen = useRef(finished);
  useEffect(() => {
    if (finished === seen.current) return;
    seen.current = finished;
    reload();
  }, [finished, reload]);
}
