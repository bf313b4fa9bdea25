import { useTranslation } from 'react-i18next';
import type { LunarRule } from '../api/types';
import { describeLunar } from '../lunar-text';
import { describeRecurrence } from '../schedule-text';

/**
 * A schedule's recurrence in words, with the rule itself a hover away; the raw rule when no words
 * fit. A schedule on lunar dates (`lunar`) is always worded.
 */
export function ScheduleRule({
  rule,
  lunar = null,
  start,
  timeZone,
  testId = 'schedule-rule',
}: {
  rule: string | null;
  lunar?: LunarRule | null;
  start: string;
  timeZone: string;
  testId?: string;
}) {
  const { i18n } = useTranslation();
  const language = i18n.language === 'en' ? 'en' : 'vi';
  if (lunar) {
    return (
      <span
        data-testid={testId}
        data-rule=""
        data-lunar={lunar.kind === 'monthly' ? `monthly:${lunar.day}` : `yearly:${lunar.day}/${lunar.month}`}
      >
        {describeLunar(lunar, start, language)}
      </span>
    );
  }
  const words = describeRecurrence(rule, start, { language, timeZone });
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
