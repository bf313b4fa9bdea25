import { useTranslation } from 'react-i18next';
import type { DeliveryLive } from '../api/live';
import type { Delivery } from '../api/types';
import { useFormat } from '../format';
import { useLabels } from '../labels';

export const FINAL_STATES = new Set(['done', 'failed', 'missed', 'pre-empted', 'expired', 'stopped']);

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
  return (
    <div className="table-wrap">
      <table data-testid="delivery-table">
        <thead>
          <tr>
            <th scope="col">{t('delivery.cluster')}</th>
            <th scope="col">{t('delivery.state')}</th>
            <th scope="col">{t('delivery.sent')}</th>
            <th scope="col">{t('delivery.accepted')}</th>
            <th scope="col">{t('delivery.started')}</th>
            <th scope="col">{t('delivery.finished')}</th>
            <th scope="col">{t('delivery.played')}</th>
            <th scope="col">{t('delivery.speakers')}</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((delivery) => {
            const update = live?.get(delivery.clusterId);
            const state =
              update && update.at > (delivery.finishedAt ?? delivery.sentAt ?? '')
                ? update.state
                : delivery.state;
            return (
              <tr key={delivery.clusterId} data-testid={`delivery-${delivery.clusterId}`} data-state={state}>
                <th scope="row">{delivery.clusterName}</th>
                <td>
                  <span className={`state state-${state}`}>
                    {t(`deliveryState.${state}`, { defaultValue: state })}
                  </span>
                  {delivery.reason ? (
                    <div className="muted">{labels.deliveryReason(delivery.reason)}</div>
                  ) : null}
                </td>
                <td>{format.time(delivery.sentAt)}</td>
                <td>{format.time(delivery.acceptedAt)}</td>
                <td>{format.time(delivery.startedAt)}</td>
                <td>{format.time(delivery.finishedAt)}</td>
                <td>{format.duration(delivery.playedS)}</td>
                <td>
                  {(delivery.speakers ?? []).map((speaker) => (
                    <span key={speaker.idx} className={speaker.ok === false ? 'chip bad' : 'chip ok'}>
                      {t('cluster.speaker', { idx: speaker.idx })}
                      {speaker.fault ? `: ${labels.fault(speaker.fault)}` : ''}
                    </span>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
