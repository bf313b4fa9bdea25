import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { type ApiError, api, type Page } from '../api/client';
import { usePlaces } from '../api/places';
import type { Broadcast, Commune, Schedule, Village } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { broadcastLogPath } from '../broadcast-log';
import { ContentListen } from '../components/content-listen';
import { DataTable } from '../components/data-table';
import { NoteDialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { ScheduleRule } from '../components/schedule-rule';
import { type ContentWords, useContentWords } from '../content-words';
import { useFormat } from '../format';

/** The limit of ApprovalDecisionSchema and ApprovalReturnSchema (contracts/schedules.ts). */
const COMMENT_MAX = 1_000;
/** Emergencies that aired without approval are looked for this far back. */
const REVIEW_DAYS = 30;
const DAY_MS = 86_400_000;

type Decision = { schedule: Schedule; verdict: 'approve' | 'return' };

/**
 * Content approval (duyệt nội dung): the schedules operators sent, each to read and hear before it
 * is approved or returned with what to change, then the emergencies that aired without waiting.
 */
export default function ApprovalsPage() {
  const { t } = useTranslation();
  const waiting = useFetch<Page<Schedule>>('/api/v1/schedules', { approval: 'submitted', limit: 500 });
  const { words, error: wordsError } = useContentWords();
  const places = usePlaces();
  const [deciding, setDeciding] = useState<Decision | null>(null);

  return (
    <section>
      <h1>{t('approvals.title')}</h1>
      <p className="muted">{t('approvals.intro')}</p>
      <h2>{t('approvals.waiting', { count: waiting.data?.items.length ?? 0 })}</h2>
      <ErrorMessage error={waiting.error ?? wordsError ?? places.error} />
      {waiting.data?.items.length === 0 ? <p data-testid="approvals-empty">{t('approvals.none')}</p> : null}
      {waiting.data?.items.map((schedule) => (
        <SubmittedSchedule
          key={schedule.id}
          schedule={schedule}
          words={words}
          communes={places.communes}
          villages={places.villages}
          onDecide={(verdict) => setDeciding({ schedule, verdict })}
        />
      ))}
      <DecisionDialog
        decision={deciding}
        onClose={() => setDeciding(null)}
        onDone={() => {
          setDeciding(null);
          waiting.reload();
        }}
      />
      <PendingReviews words={words} />
    </section>
  );
}

function SubmittedSchedule({
  schedule,
  words,
  communes,
  villages,
  onDecide,
}: {
  schedule: Schedule;
  words: ContentWords;
  communes: Commune[];
  villages: Village[];
  onDecide: (verdict: Decision['verdict']) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const { targets, approval } = schedule;
  const submitted = approval.steps.findLast((step) => step.step === 'submitted');
  const earlier = approval.steps.filter((step) => step !== submitted);
  const named = <T extends { id: string; name: string }>(ids: string[], list: T[]) =>
    ids.map((id) => list.find((item) => item.id === id)?.name ?? id);
  const places = [
    ...named(targets.communeIds, communes),
    ...named(targets.villageIds, villages),
    ...(targets.groupIds.length > 0 ? [t('approvals.groups', { count: targets.groupIds.length })] : []),
    ...targets.clusterIds,
  ];
  return (
    <article
      className="card approval-item"
      aria-labelledby={`approval-${schedule.id}-name`}
      data-testid={`approval-${schedule.id}`}
      data-schedule-id={schedule.id}
    >
      <h3 id={`approval-${schedule.id}-name`}>
        {schedule.name}{' '}
        <span className={`badge level level-${schedule.level}`}>{t(`level.${schedule.level}`)}</span>
      </h3>
      <dl className="facts">
        <dt>{t('schedule.recurrence')}</dt>
        <dd>
          <ScheduleRule
            rule={schedule.rrule}
            lunar={schedule.lunar}
            start={schedule.start}
            timeZone={schedule.timezone}
          />
          {schedule.next ? ` · ${t('approvals.next', { time: format.dateTime(schedule.next.start) })}` : ''}
        </dd>
        <dt>{t('approvals.length')}</dt>
        <dd>{format.duration(schedule.durationS)}</dd>
        <dt>{t('schedule.targets')}</dt>
        <dd data-testid="approval-targets">
          {places.join(', ')} · {t('calendar.clusters', { count: schedule.clusterIds.length })}
        </dd>
        {submitted ? (
          <>
            <dt>{t('approvals.submittedBy')}</dt>
            <dd>
              {submitted.by} · {format.minute(submitted.at)}
            </dd>
          </>
        ) : null}
        <dt>{t('schedule.content')}</dt>
        <dd>
          <ContentListen content={schedule.content} words={words} />
        </dd>
      </dl>
      {earlier.length > 0 ? (
        <details>
          <summary>{t('approvals.history', { count: earlier.length })}</summary>
          <ol className="approval-steps">
            {earlier.map((step) => (
              <li key={`${step.at}-${step.step}`}>
                {format.minute(step.at)} · {t(`approval.step.${step.step}`, { name: step.by })}
                {step.comment ? (
                  <>
                    {': '}
                    <q>{step.comment}</q>
                  </>
                ) : null}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
      <div className="actions">
        <button
          type="button"
          className="primary"
          onClick={() => onDecide('approve')}
          data-testid="approval-approve"
        >
          {t('approvals.approve')}
        </button>
        <button type="button" onClick={() => onDecide('return')} data-testid="approval-return">
          {t('approvals.return')}
        </button>
      </div>
    </article>
  );
}

/** Approving takes a note if the approver has one; returning needs one: what to change. */
function DecisionDialog({
  decision,
  onClose,
  onDone,
}: {
  decision: Decision | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const returning = decision?.verdict === 'return';
  const decide = async (comment: string) => {
    if (!decision) return;
    await api<Schedule>(`/api/v1/schedules/${encodeURIComponent(decision.schedule.id)}/${decision.verdict}`, {
      method: 'POST',
      body: comment ? { comment } : undefined,
    });
    onDone();
  };

  const name = decision?.schedule.name ?? '';
  return (
    <NoteDialog
      open={decision !== null}
      title={returning ? t('approvals.returnTitle', { name }) : t('approvals.approveTitle', { name })}
      label={returning ? t('approvals.returnComment') : t('approvals.approveComment')}
      confirmLabel={returning ? t('approvals.return') : t('approvals.approve')}
      danger={returning}
      required={returning}
      maxLength={COMMENT_MAX}
      rows={4}
      onConfirm={decide}
      onCancel={onClose}
      testId="approval"
      noteTestId="approval-comment"
    />
  );
}

/** Emergencies never wait for approval; where the commune requires it, an approver looks at them after. */
function PendingReviews({ words }: { words: ContentWords }) {
  const { t } = useTranslation();
  const format = useFormat();
  // The window is fixed as the page opens, so a reload after a review asks for the same list.
  const [range] = useState(() => {
    const now = Date.now();
    return {
      from: new Date(now - REVIEW_DAYS * DAY_MS).toISOString(),
      to: new Date(now + DAY_MS).toISOString(),
    };
  });
  const reviews = useFetch<Page<Broadcast>>('/api/v1/broadcasts', {
    ...range,
    review: 'pending',
    limit: 500,
  });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const review = (broadcast: Broadcast) => {
    setBusy(broadcast.id);
    setError(null);
    api<Broadcast>(`/api/v1/broadcasts/${encodeURIComponent(broadcast.id)}/review`, { method: 'POST' })
      .then(() => reviews.reload())
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(null));
  };

  return (
    <section aria-labelledby="reviews-title" data-testid="reviews">
      <h2 id="reviews-title">{t('approvals.reviewsTitle')}</h2>
      <p className="muted">{t('approvals.reviewsIntro', { days: REVIEW_DAYS })}</p>
      <DataTable
        error={error ?? reviews.error}
        empty={t('approvals.noReviews')}
        rows={reviews.data?.items}
        rowKey={(broadcast) => broadcast.id}
        rowAttributes={(broadcast) => ({ 'data-testid': `review-${broadcast.id}` })}
        columns={[
          { header: t('broadcast.start'), cell: (broadcast) => format.dateTime(broadcast.startAt) },
          {
            header: t('broadcast.name'),
            names: true,
            cell: (broadcast) => <Link href={broadcastLogPath(broadcast.id)}>{broadcast.name}</Link>,
          },
          { header: t('schedule.content'), cell: (broadcast) => words.content(broadcast.content) },
          { header: t('broadcast.by'), cell: (broadcast) => broadcast.createdBy ?? t('common.none') },
          {
            header: t('broadcast.delivered'),
            cell: (broadcast) =>
              `${broadcast.deliveries.filter((d) => d.state === 'done').length}/${broadcast.deliveries.length}`,
          },
          {
            header: t('common.actions'),
            cell: (broadcast) => (
              <button
                type="button"
                className="primary"
                disabled={busy !== null}
                onClick={() => review(broadcast)}
                data-testid="review-done"
              >
                {t('approvals.reviewed')}
              </button>
            ),
          },
        ]}
      />
    </section>
  );
}
