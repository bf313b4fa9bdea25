import { useTranslation } from 'react-i18next';
import type { ApprovalState, Schedule } from '../api/types';
import { useFormat } from '../format';

/** The look of each state: what airs is green, what waits for the approver yellow, what came back red. */
const CLASSES: Record<ApprovalState, string> = {
  'not-required': 'badge',
  draft: 'badge',
  submitted: 'badge pending',
  approved: 'badge ok',
  returned: 'badge bad',
};

/** Only these air (contracts/schedules.ts). */
export function airs(state: ApprovalState): boolean {
  return state === 'approved' || state === 'not-required';
}

/** Where a schedule stands in content approval: "Nháp", "Chờ duyệt", "Đã duyệt: <approver>"… */
export function ApprovalChip({ approval }: { approval: Schedule['approval'] }) {
  const { t } = useTranslation();
  return (
    <span
      className={CLASSES[approval.state]}
      data-testid="schedule-approval"
      data-state={approval.state}
      data-approved-by={approval.approvedBy ?? undefined}
    >
      {approval.state === 'approved'
        ? t('approval.approvedBy', { name: approval.approvedBy ?? t('common.none') })
        : t(`approval.state.${approval.state}`)}
    </span>
  );
}

/** What the approver said when sending a schedule back, while it stays returned. */
export function ReturnComment({ approval }: { approval: Schedule['approval'] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const last = approval.steps.at(-1);
  if (approval.state !== 'returned' || last?.step !== 'returned') return null;
  return (
    <p className="return-comment" data-testid="schedule-return-comment">
      {t('approval.returnComment', { name: last.by, time: format.minute(last.at) })} <q>{last.comment}</q>
    </p>
  );
}
