import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { buildUrl, type Page, type Query } from '../api/client';
import type { AuditEntry } from '../api/types';
import { useFetch } from '../api/use-fetch';
import { DataTable } from '../components/data-table';
import { DateInput } from '../components/date-input';
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
      <DataTable
        error={log.error}
        testId="audit-log"
        rows={log.data?.items}
        rowKey={(entry) => entry.id}
        rowAttributes={(entry) => ({ className: `outcome-${entry.outcome}` })}
        columns={[
          { header: t('audit.at'), cell: (entry) => format.dateTime(entry.at) },
          {
            header: t('audit.actor'),
            cell: (entry) => (
              <>
                {labels.actor(entry.actorType, entry.actorName)}
                {entry.actorRoles.length > 0 ? (
                  <div className="muted">
                    {entry.actorRoles.map((role) => t(`role.${role}`, { defaultValue: role })).join(', ')}
                  </div>
                ) : null}
              </>
            ),
          },
          {
            header: t('audit.action'),
            cell: (entry) => labels.auditAction(entry.action),
            data: (entry) => ({ 'data-action': entry.action }),
          },
          {
            header: t('audit.target'),
            cell: (entry) =>
              entry.targetType
                ? `${labels.targetType(entry.targetType)} ${entry.targetId ?? ''}`
                : t('common.none'),
          },
          {
            header: t('audit.outcome'),
            cell: (entry) => (
              <>
                {t(`outcome.${entry.outcome}`)}
                {entry.status ? <span className="muted"> {entry.status}</span> : null}
              </>
            ),
          },
          { header: t('audit.address'), cell: (entry) => entry.address ?? t('common.none') },
        ]}
      />
      <Pager page={log.data} onOffset={setOffset} />
    </section>
  );
}

/** The dotted codes of a nested i18n section: {cluster: {create: …}} → ["cluster.create"]. */
function codesOf(section: unknown, prefix = ''): string[] {
  if (typeof section !== 'object' || section === null) return prefix ? [prefix] : [];
  return Object.entries(section).flatMap(([key, value]) => codesOf(value, prefix ? `${prefix}.${key}` : key));
}
