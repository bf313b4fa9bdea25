import { useTranslation } from 'react-i18next';
import type { Page } from '../api/client';

export function Pager({
  page,
  onOffset,
}: {
  page: Page<unknown> | null;
  onOffset: (offset: number) => void;
}) {
  const { t } = useTranslation();
  if (!page || page.total <= page.limit) return null;
  return (
    <div className="pager">
      <button
        type="button"
        disabled={page.offset === 0}
        onClick={() => onOffset(Math.max(0, page.offset - page.limit))}
      >
        {t('common.previous')}
      </button>
      <span>
        {t('common.pageOf', {
          from: page.offset + 1,
          to: Math.min(page.total, page.offset + page.limit),
          total: page.total,
        })}
      </span>
      <button
        type="button"
        disabled={page.offset + page.limit >= page.total}
        onClick={() => onOffset(page.offset + page.limit)}
      >
        {t('common.next')}
      </button>
    </div>
  );
}
