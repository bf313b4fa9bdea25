import { useTranslation } from 'react-i18next';
import type { LunarRule } from '../api/types';
import { LUNAR_PRESETS, presetOf } from '../lunar-presets';
import { TextField } from './text-field';

/** The preset choice that opens the day and month fields. */
export const CUSTOM_LUNAR = 'custom';

/** A lunar recurrence as the form holds it: numbers as typed, and the preset it was picked from. */
export interface LunarDraft {
  preset: string;
  kind: LunarRule['kind'];
  day: string;
  month: string;
  leap: 'also' | 'skip';
  shortMonth: 'last-day' | 'skip';
}

/** A new lunar schedule starts as every rằm, the commonest. */
export const NEW_LUNAR: LunarDraft = {
  preset: 'ram',
  kind: 'monthly',
  day: '15',
  month: '1',
  leap: 'also',
  shortMonth: 'last-day',
};

export function lunarDraftOf(rule: LunarRule): LunarDraft {
  return {
    preset: presetOf(rule)?.id ?? CUSTOM_LUNAR,
    kind: rule.kind,
    day: String(rule.day),
    month: rule.kind === 'yearly' ? String(rule.month) : NEW_LUNAR.month,
    leap: rule.kind === 'monthly' ? rule.leap : 'also',
    shortMonth: rule.shortMonth,
  };
}

function whole(text: string, min: number, max: number): number | null {
  const n = Number(text);
  return text.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : null;
}

/** The rule the server takes (`lunar` of a schedule), or null while a number is missing or out of range. */
export function lunarOf(draft: LunarDraft): LunarRule | null {
  const day = whole(draft.day, 1, 30);
  if (day === null) return null;
  if (draft.kind === 'monthly')
    return { kind: 'monthly', day, leap: draft.leap, shortMonth: draft.shortMonth };
  const month = whole(draft.month, 1, 12);
  return month === null ? null : { kind: 'yearly', month, day, shortMonth: draft.shortMonth };
}

/**
 * The lunar part of the announcement form: a named date (rằm, Tết, Giỗ Tổ…) or a day of every
 * lunar month or of one lunar month a year, with what happens in a leap month and in a 29-day
 * month said in plain words. Its fields sit in the form's grid.
 */
export function LunarFields({
  value,
  onChange,
}: {
  value: LunarDraft;
  onChange: (patch: Partial<LunarDraft>) => void;
}) {
  const { t, i18n } = useTranslation();
  const english = i18n.language === 'en';
  const custom = value.preset === CUSTOM_LUNAR;
  const choose = (id: string) => {
    const preset = LUNAR_PRESETS.find((p) => p.id === id);
    if (!preset) {
      onChange({ preset: CUSTOM_LUNAR });
      return;
    }
    const { rule } = preset;
    onChange({
      preset: id,
      kind: rule.kind,
      day: String(rule.day),
      ...(rule.kind === 'yearly' ? { month: String(rule.month) } : {}),
    });
  };

  return (
    <>
      <label>
        {t('schedule.lunarPreset')}
        <select
          value={value.preset}
          onChange={(e) => choose(e.target.value)}
          data-testid="schedule-lunar-preset"
        >
          {LUNAR_PRESETS.map((preset) => (
            <option key={preset.id} value={preset.id}>
              {`${english ? preset.english : preset.name} (${
                preset.rule.kind === 'monthly'
                  ? t('schedule.lunarEveryMonth', { day: preset.rule.day })
                  : t('schedule.lunarEveryYear', { day: preset.rule.day, month: preset.rule.month })
              })`}
            </option>
          ))}
          <option value={CUSTOM_LUNAR}>{t('schedule.lunarCustom')}</option>
        </select>
      </label>
      {custom ? (
        <fieldset className="inline">
          <legend>{t('schedule.lunarKind')}</legend>
          {(['monthly', 'yearly'] as const).map((kind) => (
            <label key={kind}>
              <input
                type="radio"
                name="lunar-kind"
                checked={value.kind === kind}
                onChange={() => onChange({ kind })}
                data-testid={`schedule-lunar-${kind}`}
              />
              {t(kind === 'monthly' ? 'schedule.lunarMonthly' : 'schedule.lunarYearly')}
            </label>
          ))}
        </fieldset>
      ) : null}
      {custom ? (
        <TextField
          label={t('schedule.lunarDay')}
          type="number"
          required
          min={1}
          max={30}
          value={value.day}
          onChange={(day) => onChange({ day })}
          testId="schedule-lunar-day"
        />
      ) : null}
      {custom && value.kind === 'yearly' ? (
        <TextField
          label={t('schedule.lunarMonth')}
          type="number"
          required
          min={1}
          max={12}
          value={value.month}
          onChange={(month) => onChange({ month })}
          testId="schedule-lunar-month"
        />
      ) : null}
      {value.kind === 'monthly' ? (
        <div>
          <label className="check">
            <input
              type="checkbox"
              checked={value.leap === 'also'}
              onChange={(e) => onChange({ leap: e.target.checked ? 'also' : 'skip' })}
              data-testid="schedule-lunar-leap"
            />
            {t('schedule.lunarLeap')}
          </label>
          <p className="muted">{t('schedule.lunarLeapHint')}</p>
        </div>
      ) : (
        <p className="muted">{t('schedule.lunarYearlyLeapHint')}</p>
      )}
      {value.day.trim() === '30' ? (
        <label>
          {t('schedule.lunarShortMonth')}
          <select
            value={value.shortMonth}
            onChange={(e) => onChange({ shortMonth: e.target.value as LunarDraft['shortMonth'] })}
            data-testid="schedule-lunar-short-month"
          >
            <option value="last-day">{t('schedule.lunarShortLastDay')}</option>
            <option value="skip">{t('schedule.lunarShortSkip')}</option>
          </select>
          <span className="muted">{t('schedule.lunarShortMonthHint')}</span>
        </label>
      ) : null}
    </>
  );
}
