import { useTranslation } from 'react-i18next';
import type { Receipt, ReceiptState } from '../api/types';

/** The receipt states in the order a province reads them: what aired, what is planned, what waits, what did not. */
export const RECEIPT_ORDER: ReceiptState[] = [
  'aired',
  'scheduled',
  'needs-order',
  'pending',
  'declined',
  'expired',
];

/** What waits for the commune's decision. */
export const WAITING: ReceiptState[] = ['pending', 'needs-order'];

/** Green once it airs or is planned, yellow while the commune has to decide, red when it will not air. */
const CLASSES: Record<ReceiptState, string> = {
  pending: 'badge pending',
  'needs-order': 'badge pending',
  scheduled: 'badge ok',
  aired: 'badge ok',
  declined: 'badge bad',
  expired: 'badge bad',
};

/** A commune's answer to a bulletin from the province: "Chờ xã quyết định", "Đã lên lịch", "Đã phát"… */
export function ReceiptChip({ state, testId = 'receipt-state' }: { state: ReceiptState; testId?: string }) {
  const { t } = useTranslation();
  return (
    <span className={CLASSES[state]} data-testid={testId} data-state={state}>
      {t(`receiptState.${state}`)}
    </span>
  );
}

/** How many communes stand in each state, as chips: "2 Đã lên lịch · 1 Chờ xã quyết định". */
export function ReceiptCounts({ byState }: { byState: Partial<Record<ReceiptState, number>> }) {
  const { t } = useTranslation();
  const shown = RECEIPT_ORDER.filter((state) => (byState[state] ?? 0) > 0);
  if (shown.length === 0) return <>{t('common.none')}</>;
  return (
    <span className="receipt-counts" data-testid="receipt-counts">
      {shown.map((state) => (
        <span key={state} className={CLASSES[state]} data-state={state} data-count={byState[state]}>
          {t('receipt.count', { count: byState[state], state: t(`receiptState.${state}`) })}
        </span>
      ))}
    </span>
  );
}

/**
 * Why a receipt stands as it does: the commune operator's words when declining, or which of the
 * two went first when a clash was ordered (the platform records that as `bulletin first` or
 * `commune first`).
 */
export function receiptReason(receipt: Receipt, t: (key: string) => string): string | null {
  const ordered = /^(bulletin|commune) first$/.exec(receipt.reason ?? '');
  if (ordered) return t(`receipt.first.${ordered[1]}`);
  return receipt.reason;
}

/** Clusters that played the bulletin to the end, of those it was sent to in the commune. */
export function clustersDone(receipt: Receipt): { done: number; total: number } {
  let done = 0;
  let total = 0;
  for (const broadcast of receipt.broadcasts) {
    done += broadcast.summary.done ?? 0;
    total += broadcast.clusters;
  }
  return { done, total };
}
