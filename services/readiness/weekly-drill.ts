import { instantToWallTime, wallTimeToInstant } from '../schedules/wall-time.js';

/** A commune's weekly drill: ISO weekday (1 Monday … 7 Sunday) and local time. */
export interface WeeklySlot {
  weekday: number;
  hour: number;
  minute: number;
}

/** The first drill strictly after `after`, at the slot's wall time in the commune's zone. */
export function nextWeeklyRun(after: number, slot: WeeklySlot, timeZone: string): number {
  const today = instantToWallTime(after, timeZone);
  for (let k = 0; k <= 7; k++) {
    const day = new Date(Date.UTC(today.y, today.m - 1, today.d + k));
    const isoWeekday = ((day.getUTCDay() + 6) % 7) + 1;
    if (isoWeekday !== slot.weekday) continue;
    const at = wallTimeToInstant(
      {
        y: day.getUTCFullYear(),
        m: day.getUTCMonth() + 1,
        d: day.getUTCDate(),
        h: slot.hour,
        mi: slot.minute,
        s: 0,
      },
      timeZone,
    );
    if (at > after) return at;
  }
  // Unreachable: within eight days the weekday comes round after `after`.
  throw new Error('no weekly drill within a week');
}
