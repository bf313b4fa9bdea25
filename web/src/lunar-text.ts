/**
 * A schedule on lunar dates in words: "Rằm hằng tháng (15 âm lịch), 07:00" rather than
 * {kind: "monthly", day: 15}. The options are said only where they change something: a leap month
 * left out, day 30 in a 29-day month.
 */
import type { LunarRule } from './api/types';
import { presetOf } from './lunar-presets';
import type { RuleLanguage } from './schedule-text';

interface Words {
  monthly: (day: number) => string;
  monthlyNamed: (name: string, day: number) => string;
  yearly: (day: number, month: number) => string;
  yearlyNamed: (name: string, day: number, month: number) => string;
  leapSkipped: string;
  shortLastDay: string;
  shortSkipped: string;
}

const WORDS: Record<RuleLanguage, Words> = {
  vi: {
    monthly: (day) => `Ngày ${day} âm lịch hằng tháng`,
    monthlyNamed: (name, day) => `${name} hằng tháng (${day} âm lịch)`,
    yearly: (day, month) => `Ngày ${day}/${month} âm lịch hằng năm`,
    yearlyNamed: (name, day, month) => `${name} hằng năm (${day}/${month} âm lịch)`,
    leapSkipped: 'trừ tháng nhuận',
    shortLastDay: 'tháng thiếu phát ngày 29',
    shortSkipped: 'tháng thiếu không phát',
  },
  en: {
    monthly: (day) => `Monthly on lunar day ${day}`,
    monthlyNamed: (name, day) => `${name}, monthly on lunar day ${day}`,
    yearly: (day, month) => `Yearly on lunar ${day}/${month}`,
    yearlyNamed: (name, day, month) => `${name}, yearly on lunar ${day}/${month}`,
    leapSkipped: 'except leap months',
    shortLastDay: 'on day 29 in a 29-day month',
    shortSkipped: 'not in a 29-day month',
  },
};

const WALL_TIME = /^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2})(?::(\d{2}))?/;

/** Words for a lunar recurrence at the time of day of `start` (YYYY-MM-DDTHH:mm[:ss]). */
export function describeLunar(rule: LunarRule, start: string, language: RuleLanguage): string {
  const words = WORDS[language];
  const preset = presetOf(rule);
  const name = preset ? (language === 'en' ? preset.english : preset.name) : null;
  const parts = [
    rule.kind === 'monthly'
      ? name
        ? words.monthlyNamed(name, rule.day)
        : words.monthly(rule.day)
      : name
        ? words.yearlyNamed(name, rule.day, rule.month)
        : words.yearly(rule.day, rule.month),
  ];
  const wall = WALL_TIME.exec(start);
  if (wall)
    parts.push(wall[3] && wall[3] !== '00' ? `${wall[1]}:${wall[2]}:${wall[3]}` : `${wall[1]}:${wall[2]}`);
  if (rule.kind === 'monthly' && rule.leap === 'skip') parts.push(words.leapSkipped);
  if (rule.day === 30) parts.push(rule.shortMonth === 'skip' ? words.shortSkipped : words.shortLastDay);
  return parts.join(', ');
}
