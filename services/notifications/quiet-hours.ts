import type { QuietHours } from '../../contracts/notifications.js';

const MINUTE_MS = 60_000;
const DAY_MIN = 1_440;

/** Formatters are slow to build; one per zone, holding no state. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Milliseconds since local midnight in the zone. */
function localTimeOfDayMs(at: number, timeZone: string): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(at));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? '0');
  return ((part('hour') * 60 + part('minute')) * 60 + part('second')) * 1000 + (at % 1000);
}

const minutesOf = (clock: string) => {
  const [h, m] = clock.split(':').map(Number) as [number, number];
  return h * 60 + m;
};

/**
 * When the quiet hours that `at` falls in end, or null when `at` is not in quiet hours. The span
 * may cross midnight (22:00–06:00); start equal to end is no quiet hours. The end is found by
 * counting minutes forward from `at`, so on the night a zone changes its clocks it is off by the
 * change (Việt Nam keeps no daylight saving time).
 */
export function quietUntil(at: number, quiet: QuietHours | null, timeZone: string): number | null {
  if (!quiet || quiet.start === quiet.end) return null;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const nowMs = localTimeOfDayMs(at, timeZone);
  const now = Math.floor(nowMs / MINUTE_MS);
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  const ahead = (end - now + DAY_MIN) % DAY_MIN;
  return at - (nowMs % MINUTE_MS) + ahead * MINUTE_MS;
}
