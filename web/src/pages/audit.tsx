import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { buildUrl, type Page, type Query } from '../api/client';
import type { AuditEntry } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { DateInput } from '../components/date-input';
import { ErrorMessage } from '../components/error-message';
import { Pager } from '../components/pager';
import { addDays, useFormat, zoneMidnight } from '../format';
import { useLabels } from '../labels';

const PAGE = 100;

interface Filters {
  from: string;
  to: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  outcome: string;
}

const EMPTY: Filters = { from: '', to: '', actor: '', action: '', targetType: '', targetId: '', outcome: '' };

export default function AuditPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const labels = useLabels();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [offset, setOffset] = useState(0);
  const query: Query = {
    ...filters,
    from: filters.from ? zoneMidnight(filters.from, format.timeZone).toISOString() : undefined,
    to: filters.to ? zoneMidnight(addDays(filters.to, 1), format.timeZone).toISOString() : undefined,
  };
  const log = useFetch<Page<AuditEntry>>('/api/v1/audit', { ...query, limit: PAGE, offset });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setOffset(0);
    setFilters(draft);
  };
  const field = (name: keyof Filters) => (
    <label>
      {t(`audit.${name}`)}
      <input value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })} />
    </label>
  );
  const dateField = (name: 'from' | 'to') => (
    <label>
      {t(`audit.${name}`)}
      <DateInput value={draft[name]} onChange={(value) => setDraft({ ...draft, [name]: value })} />
    </label>
  );
  /** A filter chosen from the labelled codes of one i18n section (audit actions, target types). */
  const choice = (name: 'action' | 'targetType', section: string, label: (code: string) => string) => (
    <label>
      {t(`audit.${name}`)}
      <select value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}>
        <option value="">{t('audit.any')}</option>
        {codesOf(t(section, { returnObjects: true })).map((code) => (
          <option key={code} value={code}>
            {label(code)}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section>
      <h1>{t('audit.title')}</h1>
      <form className="toolbar wrap" onSubmit={submit} data-testid="audit-filters">
        {dateField('from')}
        {dateField('to')}
        {field('actor')}
        {choice('action', 'auditAction', labels.auditAction)}
        {choice('targetType', 'targetType', labels.targetType)}
        {field('targetId')}
        <label>
          {t('audit.outcome')}
          <select value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
            <option value="">{t('audit.any')}</option>
            <option value="success">{t('outcome.success')}</option>
            <option value="failure">{t('outcome.failure')}</option>
            <option value="denied">{t('outcome.denied')}</option>
          </select>
        </label>
        <button type="submit" className="primary">
          {t('audit.apply')}
        </button>
        <a
          className="button"
          href={buildUrl('/api/v1/audit', { ...query, format: 'csv', limit: 500 })}
          download
          data-testid="audit-csv"
        >
          {t('audit.csv')}
        </a>
      </form>
      <ErrorMessage error={log.error} />
      <div className="table-wrap">
        <table data-testid="audit-log">
          <thead>
            <tr>
              <th scope="col">{t('audit.at')}</th>
              <th scope="col">{t('audit.actor')}</th>
              <th scope="col">{t('audit.action')}</th>
              <th scope="col">{t('audit.target')}</th>
              <th scope="col">{t('audit.outcome')}</th>
              <th scope="col">{t('audit.address')}</th>
            </tr>
          </thead>
          <tbody>
            {log.data?.items.map((entry) => (
              <tr key={entry.id} className={`outcome-${entry.outcome}`}>
                <td>{format.dateTime(entry.at)}</td>
                <td>
                  {labels.actor(entry.actorType, entry.actorName)}
                  {entry.actorRoles.length > 0 ? (
                    <div className="muted">
                      {entry.actorRoles.map((role) => t(`role.${role}`, { defaultValue: role })).join(', ')}
                    </div>
                  ) : null}
                </td>
                <td data-action={entry.action}>{labels.auditAction(entry.action)}</td>
                <td>
                  {entry.targetType
                    ? `${labels.targetType(entry.targetType)} ${entry.targetId ?? ''}`
                    : t('common.none')}
                </td>
                <td>
                  {t(`outcome.${entry.outcome}`)}
                  {entry.status ? <span className="muted"> {entry.status}</span> : null}
                </td>
                <td>{entry.address ?? t('common.none')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager page={log.data} onOffset={setOffset} />
    </section>
  );
}

/** The dotted codes of a nested i18n section: {cluster: {create: …}} → ["cluster.create"]. */
function codesOf(section: unknown, prefix = ''): string[] {
  if (typeof section !== 'object' || section === null) return prefix ? [prefix] : [];
  return Object.entries(section).flatMap(([key, value]) => codesOf(value, prefix ? `${prefix}.${key}` : key));
}
