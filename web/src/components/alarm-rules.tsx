import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AlarmKind, AlarmRule, Severity } from '../../../contracts/alarms';
import { type ApiError, api } from '../api/client';
import { toApiError, useFetch } from '../api/use-fetch';
import { ErrorMessage } from './error-message';

/** contracts/alarms.ts SEVERITIES, mildest first (the contract's module is not bundled). */
const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/** The kinds whose rule has a threshold (contracts/alarms.ts AlarmRuleSchema), each with a unit in the texts. */
const THRESHOLD_KINDS: ReadonlySet<AlarmKind> = new Set([
  'weak-signal',
  'overheating',
  'low-supply',
  'rejected-messages',
]);

/**
 * A commune's alarm rules: which kinds raise alarms, how grave, from what value, and after how
 * many minutes of the cause (so a blip does not page anyone). Each row is saved on its own.
 */
export function AlarmRules({ communeId, communeName }: { communeId: string; communeName: string }) {
  const { t } = useTranslation();
  const rules = useFetch<{ items: AlarmRule[] }>(
    communeId ? `/api/v1/alarm-rules/${encodeURIComponent(communeId)}` : null,
  );
  return (
    <section className="card" data-testid="alarm-rules">
      <h2>{t('alarmRules.title', { commune: communeName })}</h2>
      <p className="muted">{t('alarmRules.intro')}</p>
      <ErrorMessage error={rules.error} />
      <div className="table-wrap">
        <table data-testid="alarm-rules-table">
          <thead>
            <tr>
              <th scope="col">{t('alarms.kind')}</th>
              <th scope="col">{t('alarmRules.enabled')}</th>
              <th scope="col">{t('alarms.severity')}</th>
              <th scope="col">{t('alarmRules.threshold')}</th>
              <th scope="col">{t('alarmRules.minutes')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {rules.data?.items.map((rule) => (
              // Keyed by the saved values too, so a saved row starts again from what the platform kept.
              <RuleRow
                key={`${rule.kind}:${JSON.stringify(rule)}`}
                communeId={communeId}
                rule={rule}
                onSaved={rules.reload}
              />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function RuleRow({ communeId, rule, onSaved }: { communeId: string; rule: AlarmRule; onSaved: () => void }) {
  const { t } = useTranslation();
  const [enabled, setEnabled] = useState(rule.enabled);
  const [severity, setSeverity] = useState<Severity>(rule.severity);
  const [threshold, setThreshold] = useState(rule.threshold === null ? '' : String(rule.threshold));
  const [minutes, setMinutes] = useState(String(rule.forS / 60));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const kindName = t(`alarmKind.${rule.kind}`, { defaultValue: rule.kind });
  const hasThreshold = THRESHOLD_KINDS.has(rule.kind);
  const forS = Math.round(Number(minutes) * 60);
  const thresholdValue = threshold === '' ? null : Number(threshold);
  const patch = {
    ...(enabled !== rule.enabled ? { enabled } : {}),
    ...(severity !== rule.severity ? { severity } : {}),
    ...(hasThreshold && thresholdValue !== rule.threshold ? { threshold: thresholdValue } : {}),
    ...(forS !== rule.forS ? { forS } : {}),
  };
  const changed = Object.keys(patch).length > 0;
  const valid = Number.isFinite(forS) && (thresholdValue === null || Number.isFinite(thresholdValue));

  const save = () => {
    setBusy(true);
    setError(null);
    api<AlarmRule>(`/api/v1/alarm-rules/${encodeURIComponent(communeId)}/${encodeURIComponent(rule.kind)}`, {
      method: 'PATCH',
      body: patch,
    })
      .then(onSaved)
      .catch((caught: unknown) => {
        setError(toApiError(caught));
        setBusy(false);
      });
  };

  return (
    <tr
      data-testid="alarm-rule"
      data-kind={rule.kind}
      data-custom={String(rule.custom)}
      data-enabled={String(rule.enabled)}
      data-severity={rule.severity}
      data-for-s={rule.forS}
    >
      <th scope="row">
        {kindName}
        <div className="muted">{rule.custom ? t('alarmRules.custom') : t('alarmRules.default')}</div>
        <ErrorMessage error={error} />
      </th>
      <td>
        <input
          type="checkbox"
          checked={enabled}
          onChange={(e) => setEnabled(e.target.checked)}
          aria-label={t('alarmRules.enabledOf', { kind: kindName })}
          data-testid={`alarm-rule-enabled-${rule.kind}`}
        />
      </td>
      <td>
        <select
          value={severity}
          onChange={(e) => setSeverity(e.target.value as Severity)}
          aria-label={t('alarmRules.severityOf', { kind: kindName })}
          data-testid={`alarm-rule-severity-${rule.kind}`}
        >
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {t(`severity.${s}`)}
            </option>
          ))}
        </select>
      </td>
      <td>
        {hasThreshold ? (
          <>
            <input
              type="number"
              step="any"
              value={threshold}
              onChange={(e) => setThreshold(e.target.value)}
              aria-label={t('alarmRules.thresholdOf', { kind: kindName })}
              data-testid={`alarm-rule-threshold-${rule.kind}`}
            />{' '}
            {t(`alarmRules.unit.${rule.kind}`)}
          </>
        ) : (
          t('common.none')
        )}
      </td>
      <td>
        <input
          type="number"
          min={0}
          max={1440}
          step="any"
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
          aria-label={t('alarmRules.minutesOf', { kind: kindName })}
          data-testid={`alarm-rule-minutes-${rule.kind}`}
        />
      </td>
      <td className="row-actions">
        <button
          type="button"
          className="primary"
          disabled={busy || !changed || !valid}
          onClick={save}
          data-testid={`alarm-rule-save-${rule.kind}`}
        >
          {t('common.save')}
        </button>
      </td>
    </tr>
  );
}
