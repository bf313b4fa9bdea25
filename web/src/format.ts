import { createContext, useContext, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConsoleSettings } from './api/types';

export const DEFAULT_SETTINGS: ConsoleSettings = {
  tileUrl: null,
  tileAttribution: null,
  timeZone: 'Asia/Ho_Chi_Minh',
  demo: false,
  version: '',
};

export const SettingsContext = createContext<ConsoleSettings>(DEFAULT_SETTINGS);

export function useSettings(): ConsoleSettings {
  return useContext(SettingsContext);
}

export interface Formatters {
  dateTime: (iso: string | null | undefined) => string;
  /** An instant as a log line writes it, the same in both languages: 07/12/2026 06:00:05 (24 h). */
  stamp: (iso: string | null | undefined) => string;
  /** An instant to the minute, the same in both languages: 07/12/2026 06:00 (a default name). */
  minute: (iso: string | null | undefined) => string;
  time: (iso: string | null | undefined) => string;
  day: (iso: string | Date) => string;
  /** An instant's date without the year, as a calendar entry writes it: 21/08. */
  dayMonth: (iso: string) => string;
  /** A calendar date typed as YYYY-MM-DD (a date input's value) as the language writes it. */
  calendarDate: (day: string) => string;
  number: (value: number | null | undefined, digits?: number) => string;
  duration: (seconds: number | null | undefined) => string;
  timeZone: string;
}

/** Times always show in the commune's zone, whatever the browser's clock is set to. */
export function useFormat(): Formatters {
  const { timeZone } = useSettings();
  const { i18n, t } = useTranslation();
  const locale = i18n.language === 'en' ? 'en-GB' : 'vi-VN';
  return useMemo(() => {
    // 24-hour and dd/mm/yyyy in both languages, as Vietnamese documents write them.
    const dateTime = new Intl.DateTimeFormat(locale, {
      timeZone,
      day: '2-digit',
      month: '2-digit',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    const time = new Intl.DateTimeFormat(locale, {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    const day = new Intl.DateTimeFormat(locale, {
      timeZone,
      weekday: 'short',
      day: '2-digit',
      month: '2-digit',
    });
    // Dates of no zone: the date input's day, read at UTC midnight and shown as that day.
    const calendarDate = new Intl.DateTimeFormat(locale, {
      timeZone: 'UTC',
      day: '2-digit',
      month: '2-digit',
      year: 'numeric',
    });
    const dayMonth = new Intl.DateTimeFormat('en-GB', { timeZone, day: '2-digit', month: '2-digit' });
    const empty = t('common.none');
    const numeric = (iso: string, seconds: boolean) => {
      const parts = dateTime.formatToParts(new Date(iso));
      const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
      const minute = `${get('day')}/${get('month')}/${get('year')} ${get('hour')}:${get('minute')}`;
      return seconds ? `${minute}:${get('second')}` : minute;
    };
    return {
      timeZone,
      dateTime: (iso) => (iso ? dateTime.format(new Date(iso)) : empty),
      stamp: (iso) => (iso ? numeric(iso, true) : empty),
      minute: (iso) => (iso ? numeric(iso, false) : empty),
      time: (iso) => (iso ? time.format(new Date(iso)) : empty),
      day: (iso) => day.format(typeof iso === 'string' ? new Date(iso) : iso),
      dayMonth: (iso) => {
        const parts = dayMonth.formatToParts(new Date(iso));
        return `${parts.find((p) => p.type === 'day')?.value}/${parts.find((p) => p.type === 'month')?.value}`;
      },
      calendarDate: (value) => {
        const [y, m, d] = value.split('-').map(Number);
        return y && m && d ? calendarDate.format(new Date(Date.UTC(y, m - 1, d))) : value;
      },
      number: (value, digits = 0) =>
        value === null || value === undefined
          ? empty
          : value.toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits }),
      duration: (seconds) => {
        if (seconds === null || seconds === undefined) return empty;
        const s = Math.round(seconds);
        const h = Math.floor(s / 3600);
        const m = Math.floor((s % 3600) / 60);
        return h > 0 ? t('common.hoursMinutes', { h, m }) : t('common.minutesSeconds', { m, s: s % 60 });
      },
    };
  }, [locale, timeZone, t]);
}

/** Calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dayKey(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(date);
}

/** The zone's offset from UTC at an instant, in milliseconds. */
function zoneOffset(date: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(date.getTime() / 1000) * 1000;
}

/** The instant a wall-clock date (YYYY-MM-DD) begins in a time zone. */
export function zoneMidnight(day: string, timeZone: string): Date {
  const [y, m, d] = day.split('-').map(Number);
  const guess = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  return new Date(guess - zoneOffset(new Date(guess), timeZone));
}

/** The instant a wall time (a datetime-local value, YYYY-MM-DDTHH:mm[:ss]) names in a time zone. */
export function zoneInstant(wall: string, timeZone: string): Date {
  const [day = '', time = ''] = wall.split('T');
  const [y, m, d] = day.split('-').map(Number);
  const [h, min, s] = time.split(':').map(Number);
  const guess = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, h ?? 0, min ?? 0, s ?? 0);
  return new Date(guess - zoneOffset(new Date(guess), timeZone));
}

/** An instant as a datetime-local value (YYYY-MM-DDTHH:mm:ss) on the wall clocks of a time zone. */
export function wallTimeOf(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
}

/** Adds whole days to a YYYY-MM-DD date. */
export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days)).toISOString().slice(0, 10);
}

/** Monday of the week holding a YYYY-MM-DD date. */
export function weekStart(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  const weekday = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)).getUTCDay();
  return addDays(day, -((weekday + 6) % 7));
}
