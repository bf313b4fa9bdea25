import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { DrillService } from './drill-service.js';
import type { DrillStore, ScheduleRecord } from './drill-store.js';
import { nextWeeklyRun } from './weekly-drill.js';

/** The longest it sleeps: the wall clock may have been set meanwhile (NTP after a bad boot). */
const MAX_SLEEP_MS = 6 * 3_600_000;

/**
 * Each commune's weekly drill: sleeps until the next one due (no timer while none is enabled),
 * then drills every cluster of the commune. A drill missed while the platform was down is not made
 * up; the next week's runs.
 */
export class DrillScheduler {
  private timer: TimerHandle | null = null;
  private running = false;
  private checkedUntil = 0;

  constructor(
    private readonly options: {
      store: DrillStore;
      drills: DrillService;
      /** The commune's time zone; null when the commune is gone. */
      timezoneOf(communeId: string): string | null;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.running = true;
    this.checkedUntil = this.options.clock.now();
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** When a commune's next drill is; null while its schedule is off. */
  next(schedule: ScheduleRecord): number | null {
    const zone = this.options.timezoneOf(schedule.communeId);
    return schedule.enabled && zone ? nextWeeklyRun(this.options.clock.now(), schedule, zone) : null;
  }

  /** Re-reads the schedules (after a change) and sleeps until the next drill due. */
  arm(): void {
    const { clock, store } = this.options;
    if (this.timer) clock.clearTimeout(this.timer);
    this.timer = null;
    if (!this.running) return;
    const now = clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const schedule of store.enabledSchedules()) next = Math.min(next, this.next(schedule) ?? next);
    if (next === Number.POSITIVE_INFINITY) return;
    this.timer = clock.setTimeout(() => this.tick(), Math.max(1, Math.min(next, now + MAX_SLEEP_MS) - now));
  }

  /** Starts the drills that fell due since the last tick. */
  private tick(): void {
    this.timer = null;
    const { clock, store, logger } = this.options;
    const now = clock.now();
    const from = this.checkedUntil;
    this.checkedUntil = now;
    for (const schedule of store.enabledSchedules()) {
      const zone = this.options.timezoneOf(schedule.communeId);
      if (!zone || nextWeeklyRun(from, schedule, zone) > now) continue;
      void this.options.drills
        .run(
          { communeIds: [schedule.communeId], villageIds: [], clusterIds: [], groupIds: [] },
          { tone: schedule.tone, origin: 'schedule', createdBy: null },
        )
        .then((drill) => store.recordRun(schedule.communeId, drill.id, now))
        .catch((error: unknown) =>
          logger.error(
            { err: error, communeId: schedule.communeId },
            'the weekly readiness drill could not run',
          ),
        );
    }
    this.arm();
  }
}
