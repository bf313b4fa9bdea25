import type { LunarRule } from './api/types';

/** A rule as a preset names it: the options (leap, shortMonth) are the operator's to choose. */
export type LunarDay = { kind: 'monthly'; day: number } | { kind: 'yearly'; month: number; day: number };

export interface LunarPreset {
  id: string;
  /** The Vietnamese name, as the server's list has it; `english` is the console's own. */
  name: string;
  english: string;
  rule: LunarDay;
}

/**
 * The lunar dates the announcement form offers by name. A copy of LUNAR_PRESETS in
 * services/schedules/lunar-calendar.ts (ids, names, rules), since the console talks to the
 * platform only over HTTP: change the two together.
 */
export const LUNAR_PRESETS: readonly LunarPreset[] = [
  { id: 'mung-1', name: 'Mùng 1', english: 'Mùng 1 (new moon day)', rule: { kind: 'monthly', day: 1 } },
  { id: 'ram', name: 'Rằm', english: 'Rằm (full moon day)', rule: { kind: 'monthly', day: 15 } },
  {
    id: 'tet-nguyen-dan',
    name: 'Tết Nguyên Đán',
    english: 'Tết (Lunar New Year)',
    rule: { kind: 'yearly', month: 1, day: 1 },
  },
  {
    id: 'ram-thang-gieng',
    name: 'Rằm tháng Giêng',
    english: 'First full moon of the year',
    rule: { kind: 'yearly', month: 1, day: 15 },
  },
  {
    id: 'gio-to-hung-vuong',
    name: 'Giỗ Tổ Hùng Vương',
    english: 'Hùng Kings Commemoration Day',
    rule: { kind: 'yearly', month: 3, day: 10 },
  },
  {
    id: 'tet-doan-ngo',
    name: 'Tết Đoan Ngọ',
    english: 'Double Fifth Festival',
    rule: { kind: 'yearly', month: 5, day: 5 },
  },
  {
    id: 'vu-lan',
    name: 'Vu Lan (Rằm tháng Bảy)',
    english: 'Vu Lan (full moon of the seventh month)',
    rule: { kind: 'yearly', month: 7, day: 15 },
  },
  {
    id: 'tet-trung-thu',
    name: 'Tết Trung Thu',
    english: 'Mid-Autumn Festival',
    rule: { kind: 'yearly', month: 8, day: 15 },
  },
  {
    id: 'ong-cong-ong-tao',
    name: 'Ông Công Ông Táo',
    english: 'Kitchen Gods Day',
    rule: { kind: 'yearly', month: 12, day: 23 },
  },
];

/** The preset a rule's date is, if any (its leap and short-month options aside). */
export function presetOf(rule: LunarDay | LunarRule): LunarPreset | undefined {
  return LUNAR_PRESETS.find(
    ({ rule: preset }) =>
      preset.kind === rule.kind &&
      preset.day === rule.day &&
      (preset.kind === 'monthly' || (rule.kind === 'yearly' && preset.month === rule.month)),
  );
}
