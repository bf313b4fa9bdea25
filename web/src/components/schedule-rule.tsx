import { useTranslation } from 'react-i18next';
import { describeRecurrence } from '../schedule-text';

/** A schedule's recurrence in words, with the rule itself a hover away; the raw rule when no words fit. */
export function ScheduleRule({
  rule,
  start,
  timeZone,
  testId = 'schedule-rule',
}: {
  rule: string | null;
  start: string;
  timeZone: string;
  testId?: string;
}) {
  const { i18n } = useTranslation();
  const words = describeRecurrence(rule, start, {
    language: i18n.language === 'en' ? 'en' : 'vi',
    timeZone,
  });
  return words.worded ? (
    <span title={rule ?? undefined} data-testid={testId} data-rule={rule ?? ''}>
      {words.text}
    </span>
  ) : (
    <code data-testid={testId} data-rule={rule ?? ''}>
      {words.text}
    </code>
  );
}
