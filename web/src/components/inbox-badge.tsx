import { useTranslation } from 'react-i18next';
import type { Page } from '../api/client';
import { useReceiptChanges } from '../api/live';
import type { InboxItem } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { WAITING } from './receipt-state';

/** The navigation's count of bulletins from the province waiting for the commune's decision. */
export function InboxBadge() {
  const { t } = useTranslation();
  const waiting = useFetch<Page<InboxItem>>('/api/v1/inbox', { state: WAITING.join(','), limit: 1 });
  useReceiptChanges(waiting.reload);
  const count = waiting.data?.total ?? 0;
  if (count === 0) return null;
  return (
    <span className="badge pending" data-testid="nav-inbox-count" data-count={count}>
      {count}
      <span className="visually-hidden"> {t('inbox.waitingBadge', { count })}</span>
    </span>
  );
}
