import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api, type Page } from '../api/client';
import { useReceiptChanges } from '../api/live';
import { usePlaces } from '../api/places';
import type { InboxItem, Receipt, Village } from '../api/types';
import { toApiError, useFetch } from '../api/use-fetch';
import { BulletinContent } from '../components/bulletin-content';
import { DataTable } from '../components/data-table';
import { Dialog, NoteDialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { Pager } from '../components/pager';
import { ReceiptChip, receiptReason, WAITING } from '../components/receipt-state';
import { TextField } from '../components/text-field';
import { type ContentWords, useContentWords } from '../content-words';
import { useFormat, wallTimeOf, zoneInstant } from '../format';
import { allowed, useSession } from '../session';

/** The limit of InboxDeclineSchema (contracts/bulletins.ts). */
const REASON_MAX = 500;
const HANDLED_PAGE = 20;
const HANDLED = ['scheduled', 'declined', 'expired', 'aired'].join(',');

type Action = { item: InboxItem; kind: 'schedule' | 'decline' };

/**
 * "Tin từ tỉnh": what the province sent to the account's communes. What waits for a decision comes
 * first, each to hear and then schedule (at the province's time or another, on some villages),
 * decline with a reason, or, for a priority bulletin clashing with the commune's own priority item,
 * order the two. Then what was decided. Operators act; approvers and viewers read.
 */
export default function InboxPage() {
  const { t } = useTranslation();
  const acts = allowed(useSession().me.roles, ['operator']);
  const waiting = useFetch<Page<InboxItem>>('/api/v1/inbox', { state: WAITING.join(','), limit: 100 });
  const [offset, setOffset] = useState(0);
  const handled = useFetch<Page<InboxItem>>('/api/v1/inbox', { state: HANDLED, limit: HANDLED_PAGE, offset });
  const { words, error: wordsError } = useContentWords();
  const places = usePlaces();
  const [action, setAction] = useState<Action | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const reload = () => {
    waiting.reload();
    handled.reload();
  };
  useReceiptChanges(reload);
  // Several communes' items stand side by side only for an account of several.
  const several = places.communes.length !== 1;

  const order = (item: InboxItem, first: 'bulletin' | 'commune') => {
    setBusy(keyOf(item));
    setError(null);
    api<Receipt>(`${receiptPath(item)}/order`, { method: 'POST', body: { first } })
      .then(reload)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(null));
  };

  const items = waiting.data?.items;
  return (
    <section>
      <h1>{t('inbox.title')}</h1>
      <p className="muted">{t(acts ? 'inbox.intro' : 'inbox.introReadOnly')}</p>
      <h2>{t('inbox.waiting', { count: waiting.data?.total ?? 0 })}</h2>
      <ErrorMessage error={error ?? waiting.error ?? wordsError ?? places.error} />
      {items?.length === 0 ? <p data-testid="inbox-empty">{t('inbox.none')}</p> : null}
      {items?.map((item) => (
        <InboxCard
          key={keyOf(item)}
          item={item}
          words={words}
          showCommune={several}
          acts={acts}
          busy={busy === keyOf(item)}
          onSchedule={() => setAction({ item, kind: 'schedule' })}
          onDecline={() => setAction({ item, kind: 'decline' })}
          onOrder={(first) => order(item, first)}
        />
      ))}
      <ScheduleDialog
        item={action?.kind === 'schedule' ? action.item : null}
        villages={places.villages}
        onClose={() => setAction(null)}
        onDone={() => {
          setAction(null);
          reload();
        }}
      />
      <DeclineDialog
        item={action?.kind === 'decline' ? action.item : null}
        onClose={() => setAction(null)}
        onDone={() => {
          setAction(null);
          reload();
        }}
      />
      <Handled
        page={handled.data}
        error={handled.error}
        showCommune={several}
        acts={acts}
        onOffset={setOffset}
        onSchedule={(item) => setAction({ item, kind: 'schedule' })}
      />
    </section>
  );
}

const keyOf = (item: InboxItem) => `${item.bulletinId}/${item.communeId}`;
const receiptPath = (item: InboxItem) =>
  `/api/v1/inbox/${encodeURIComponent(item.bulletinId)}/${encodeURIComponent(item.communeId)}`;

function InboxCard({
  item,
  words,
  showCommune,
  acts,
  busy,
  onSchedule,
  onDecline,
  onOrder,
}: {
  item: InboxItem;
  words: ContentWords;
  showCommune: boolean;
  acts: boolean;
  busy: boolean;
  onSchedule: () => void;
  onDecline: () => void;
  onOrder: (first: 'bulletin' | 'commune') => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const { bulletin } = item;
  const titleId = `inbox-${item.bulletinId}-${item.communeId}-name`;
  return (
    <article
      className="card approval-item"
      aria-labelledby={titleId}
      data-testid={`inbox-${item.bulletinId}-${item.communeId}`}
      data-bulletin-id={item.bulletinId}
      data-state={item.state}
    >
      <h3 id={titleId}>
        {bulletin.name}{' '}
        <span className={`badge level level-${bulletin.level}`}>{t(`level.${bulletin.level}`)}</span>{' '}
        <ReceiptChip state={item.state} />
      </h3>
      <dl className="facts">
        {showCommune ? (
          <>
            <dt>{t('communes.name')}</dt>
            <dd>{item.communeName}</dd>
          </>
        ) : null}
        <dt>{t('inbox.from')}</dt>
        <dd>
          {bulletin.createdBy ?? t('common.none')} · {format.minute(bulletin.createdAt)}
        </dd>
        <dt>{t('inbox.requested')}</dt>
        <dd data-testid="inbox-requested">{format.dateTime(bulletin.start)}</dd>
        {bulletin.level === 'normal' ? (
          <>
            <dt>{t('bulletin.expires')}</dt>
            <dd data-testid="inbox-expires">{format.dateTime(bulletin.expiresAt)}</dd>
          </>
        ) : null}
        <dt>{t('approvals.length')}</dt>
        <dd>{format.duration(bulletin.durationS)}</dd>
        <dt>{t('schedule.content')}</dt>
        <dd>
          <BulletinContent content={bulletin.content} words={words} />
        </dd>
      </dl>
      {item.state === 'needs-order' ? (
        <div className="clashes" data-testid="inbox-clashes">
          <p>{t('inbox.clashIntro')}</p>
          <ul>
            {item.clash.map((clash) => (
              <li key={`${clash.scheduleId}-${clash.start}`} data-testid="inbox-clash">
                {t('inbox.clashItem', {
                  name: clash.name,
                  start: format.dateTime(clash.start),
                  end: format.time(clash.end),
                })}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {acts ? (
        <div className="actions">
          {item.state === 'pending' ? (
            <>
              <button type="button" className="primary" onClick={onSchedule} data-testid="inbox-schedule">
                {t('inbox.schedule')}
              </button>
              <button type="button" onClick={onDecline} data-testid="inbox-decline">
                {t('inbox.decline')}
              </button>
            </>
          ) : null}
          {item.state === 'needs-order' ? (
            <>
              <button
                type="button"
                className="primary"
                disabled={busy}
                onClick={() => onOrder('bulletin')}
                data-testid="inbox-order-bulletin"
              >
                {t('inbox.bulletinFirst')}
              </button>
              <button
                type="button"
                disabled={busy}
                onClick={() => onOrder('commune')}
                data-testid="inbox-order-commune"
              >
                {t('inbox.communeFirst')}
              </button>
            </>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}

/** When to air it (default: the province's time, or now if that has passed) and, if not everywhere, where. */
function ScheduleDialog({
  item,
  villages,
  onClose,
  onDone,
}: {
  item: InboxItem | null;
  villages: Village[];
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <Dialog
      open={item !== null}
      title={t('inbox.scheduleTitle', { name: item?.bulletin.name ?? '' })}
      onClose={onClose}
      testId="inbox-schedule-dialog"
    >
      {item ? (
        <ScheduleForm
          // A new form for each item: its own default time.
          key={keyOf(item)}
          item={item}
          villages={villages.filter((v) => v.communeId === item.communeId)}
          timeZone={format.timeZone}
          onClose={onClose}
          onDone={onDone}
        />
      ) : null}
    </Dialog>
  );
}

function ScheduleForm({
  item,
  villages,
  timeZone,
  onClose,
  onDone,
}: {
  item: InboxItem;
  villages: Village[];
  timeZone: string;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const [start, setStart] = useState(() =>
    wallTimeOf(new Date(Math.max(Date.now(), Date.parse(item.bulletin.start))), timeZone),
  );
  const [villageIds, setVillageIds] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    api<Receipt>(`${receiptPath(item)}/schedule`, {
      method: 'POST',
      body: {
        start: zoneInstant(start, timeZone).toISOString(),
        ...(villageIds.length > 0 ? { villageIds } : {}),
      },
    })
      .then(onDone)
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <form className="form" onSubmit={submit}>
      <TextField
        label={t('inbox.scheduleAt', { zone: timeZone })}
        type="datetime-local"
        step={1}
        required
        value={start}
        onChange={setStart}
        testId="inbox-schedule-start"
      />
      {villages.length > 0 ? (
        <fieldset className="targets">
          <legend>{t('inbox.villages')}</legend>
          <p className="muted">{t('inbox.villagesHint')}</p>
          <div className="checks">
            {villages.map((village) => (
              <label key={village.id}>
                <input
                  type="checkbox"
                  checked={villageIds.includes(village.id)}
                  onChange={(event) =>
                    setVillageIds(
                      event.target.checked
                        ? [...villageIds, village.id]
                        : villageIds.filter((id) => id !== village.id),
                    )
                  }
                  data-testid={`inbox-village-${village.id}`}
                />
                {village.name}
              </label>
            ))}
          </div>
        </fieldset>
      ) : null}
      <ErrorMessage error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="primary" disabled={busy} data-testid="inbox-schedule-confirm">
          {t('inbox.schedule')}
        </button>
      </div>
    </form>
  );
}

/** Declining says why: the province reads the reason on its page. */
function DeclineDialog({
  item,
  onClose,
  onDone,
}: {
  item: InboxItem | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const decline = async (reason: string) => {
    if (!item) return;
    await api<Receipt>(`${receiptPath(item)}/decline`, { method: 'POST', body: { reason } });
    onDone();
  };
  return (
    <NoteDialog
      open={item !== null}
      title={t('inbox.declineTitle', { name: item?.bulletin.name ?? '' })}
      label={t('inbox.declineReason')}
      confirmLabel={t('inbox.decline')}
      danger
      maxLength={REASON_MAX}
      onConfirm={decline}
      onCancel={onClose}
      testId="inbox-decline"
      noteTestId="inbox-decline-reason"
    />
  );
}

/** What was decided, newest first; a declined normal bulletin may still be scheduled. */
function Handled({
  page,
  error,
  showCommune,
  acts,
  onOffset,
  onSchedule,
}: {
  page: Page<InboxItem> | null;
  error: ApiError | null;
  showCommune: boolean;
  acts: boolean;
  onOffset: (offset: number) => void;
  onSchedule: (item: InboxItem) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <section aria-labelledby="inbox-handled">
      <h2 id="inbox-handled">{t('inbox.handled')}</h2>
      <DataTable
        testId="inbox-handled"
        error={error}
        empty={t('inbox.noneHandled')}
        rows={page?.items}
        rowKey={keyOf}
        rowAttributes={(item) => ({
          'data-testid': `handled-${item.bulletinId}-${item.communeId}`,
          'data-state': item.state,
        })}
        columns={[
          { header: t('schedule.name'), names: true, cell: (item) => item.bulletin.name },
          {
            header: t('schedule.level'),
            cell: (item) => (
              <span className={`level level-${item.bulletin.level}`}>
                {t(`level.${item.bulletin.level}`)}
              </span>
            ),
          },
          showCommune && { header: t('communes.name'), cell: (item) => item.communeName },
          { header: t('bulletin.state'), cell: (item) => <ReceiptChip state={item.state} /> },
          {
            header: t('bulletin.decidedBy'),
            cell: (item) =>
              item.decidedBy ? `${item.decidedBy} · ${format.minute(item.decidedAt)}` : t('common.none'),
          },
          { header: t('bulletin.reason'), cell: (item) => receiptReason(item, t) ?? t('common.none') },
          acts && {
            header: t('common.actions'),
            className: 'row-actions',
            cell: (item) =>
              item.state === 'declined' && item.bulletin.level === 'normal' ? (
                <button type="button" onClick={() => onSchedule(item)} data-testid="inbox-schedule">
                  {t('inbox.scheduleAnyway')}
                </button>
              ) : null,
          },
        ]}
      />
      <Pager page={page} onOffset={onOffset} />
    </section>
  );
}
