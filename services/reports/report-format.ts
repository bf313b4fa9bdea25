import { instantToWallTime, type WallTime } from '../schedules/wall-time.js';
import type { ReportLanguage } from './report-words.js';

const pad = (n: number) => String(n).padStart(2, '0');

/** dd/mm/yyyy, as Vietnamese documents write a date (and the console in both languages). */
export function dayText(wall: WallTime): string {
  return `${pad(wall.d)}/${pad(wall.m)}/${wall.y}`;
}

export function minuteText(wall: WallTime): string {
  return `${dayText(wall)} ${pad(wall.h)}:${pad(wall.mi)}`;
}

const atMidnight = (wall: WallTime) => wall.h === 0 && wall.mi === 0 && wall.s === 0;

/**
 * The period as the report prints it, in the scope's zone: whole days when it runs from midnight
 * to midnight ("01/12/2026" to "31/12/2026": the end is exclusive), else to the minute.
 */
export function periodTexts(from: number, to: number, timeZone: string): { from: string; to: string } {
  const start = instantToWallTime(from, timeZone);
  const end = instantToWallTime(to, timeZone);
  if (atMidnight(start) && atMidnight(end)) {
    return { from: dayText(start), to: dayText(instantToWallTime(to - 1, timeZone)) };
  }
  return { from: minuteText(start), to: minuteText(end) };
}

/** A number as the language writes it (vi: 1.234,5), with at most `digits` decimals. */
export function numberText(value: number | null, language: ReportLanguage, digits = 2): string {
  if (value === null) return '—';
  return new Intl.NumberFormat(language === 'vi' ? 'vi-VN' : 'en-GB', {
    maximumFractionDigits: digits,
  }).format(value);
}

/** Seconds as h:mm:ss. */
export function clockText(seconds: number): string {
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  return `${h}:${pad(Math.floor((whole % 3600) / 60))}:${pad(whole % 60)}`;
}

/** Hours with two decimals, as a number a spreadsheet reads. */
export const hours = (seconds: number) => Math.round((seconds / 3600) * 100) / 100;
