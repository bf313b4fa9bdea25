import { useTranslation } from 'react-i18next';
import type { DeliveryLive } from '../api/live';
import type { Delivery, ItemReport } from '../api/types';
import { useFormat } from '../format';
import { useLabels } from '../labels';
import { DataTable } from './data-table';

export const FINAL_STATES = new Set(['done', 'failed', 'missed', 'pre-empted', 'expired', 'stopped']);

type Outcome = NonNullable<ItemReport['outcome']> | 'pending';
/** Each outcome's look: heard whole, cut short, never heard, not reported yet; colour is not all of it. */
const OUTCOME_LOOKS: Record<Outcome, { className: string; mark: string }> = {
  played: { className: 'chip ok', mark: '✓' },
  cut: { className: 'chip cut', mark: '✂' },
  'not-played': { className: 'chip bad', mark: '✗' },
  pending: { className: 'chip', mark: '…' },
};

/** A programme's items as one cluster reported them, in order: a compact row of chips. */
export function ItemChips({ items }: { items: ItemReport[] }) {
  const { t } = useTranslation();
  return (
    <ol className="item-chips" data-testid="delivery-items">
      {items.map((item) => {
        const outcome: Outcome = item.outcome ?? 'pending';
        const look = OUTCOME_LOOKS[outcome];
        const words = t(`itemOutcome.${outcome}`);
        return (
          <li
            key={item.index}
            className={look.className}
            title={`${item.index + 1}. ${item.label}: ${words}`}
            data-testid="delivery-item"
            data-outcome={outcome}
          >
            <span aria-hidden="true">{look.mark}</span> {item.index + 1}. {item.label}
            <span className="visually-hidden">: {words}</span>
          </li>
        );
      })}
    </ol>
  );
}

/** Per-cluster delivery of one broadcast; live states (newer than the last fetch) win. */
export function DeliveryTable({
  deliveries,
  live,
}: {
  deliveries: Delivery[];
  live?: ReadonlyMap<string, DeliveryLive>;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const labels = useLabels();
  /** The live state where it is newer than the fetched one. */
  const stateOf = (delivery: Delivery) => {
    const update = live?.get(delivery.clusterId);
    return update && update.at > (delivery.finishedAt ?? delivery.sentAt ?? '')
      ? update.state
      : delivery.state;
  };
  const programme = deliveries.some((delivery) => delivery.items !== null);
  return (
    <DataTable
      testId="delivery-table"
      rows={deliveries}
      rowKey={(delivery) => delivery.clusterId}
      rowAttributes={(delivery) => ({
        'data-testid': `delivery-${delivery.clusterId}`,
        'data-state': stateOf(delivery),
      })}
      columns={[
        { header: t('delivery.cluster'), names: true, cell: (delivery) => delivery.clusterName },
        {
          header: t('delivery.state'),
          cell: (delivery) => {
            const state = stateOf(delivery);
            return (
              <>
                <span className={`state state-${state}`}>
                  {t(`deliveryState.${state}`, { defaultValue: state })}
                </span>
                {delivery.reason ? (
                  <div className="muted">{labels.deliveryReason(delivery.reason)}</div>
                ) : null}
              </>
            );
          },
        },
        { header: t('delivery.sent'), cell: (delivery) => format.time(delivery.sentAt) },
        { header: t('delivery.accepted'), cell: (delivery) => format.time(delivery.acceptedAt) },
        { header: t('delivery.started'), cell: (delivery) => format.time(delivery.startedAt) },
        { header: t('delivery.finished'), cell: (delivery) => format.time(delivery.finishedAt) },
        { header: t('delivery.played'), cell: (delivery) => format.duration(delivery.playedS) },
        programme && {
          header: t('delivery.items'),
          cell: (delivery) => (delivery.items ? <ItemChips items={delivery.items} /> : t('common.none')),
        },
        {
          header: t('delivery.speakers'),
          cell: (delivery) =>
            (delivery.speakers ?? []).map((speaker) => (
              <span key={speaker.idx} className={speaker.ok === false ? 'chip bad' : 'chip ok'}>
                {t('cluster.speaker', { idx: speaker.idx })}
                {speaker.fault ? `: ${labels.fault(speaker.fault)}` : ''}
              </span>
            )),
        },
      ]}
    />
  );
}
