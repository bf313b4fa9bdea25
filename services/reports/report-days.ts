import {
  floatingToWall,
  instantToWallTime,
  wallTimeToInstant,
  wallToFloating,
} from '../schedules/wall-time.js';

const DAY_MS = 86_400_000;

/** A local day: its first instant and the next day's first instant (23 to 25 hours apart). */
export interface Day {
  start: number;
  end: number;
}

/** The local day in a zone that an instant falls in. */
export function dayAt(instant: number, timeZone: string): Day {
  const wall = instantToWallTime(instant, timeZone);
  const midnight = wallToFloating({ ...wall, h: 0, mi: 0, s: 0 });
  // Where a midnight does not occur, RFC 5545's reading (wallTimeToInstant) places it; each day
  // ends where the next one starts, so days never overlap.
  return {
    start: wallTimeToInstant(floatingToWall(midnight), timeZone),
    end: wallTimeToInstant(floatingToWall(midnight + DAY_MS), timeZone),
  };
}

/** The whole local days within [from, to), in order. */
export function wholeDays(from: number, to: number, timeZone: string): Day[] {
  const days: Day[] = [];
  let day = dayAt(from, timeZone);
  if (day.start < from) day = dayAt(day.end, timeZone);
  while (day.end <= to) {
    days.push(day);
    day = dayAt(day.end, timeZone);
  }
  return days;
}
