import type { Clock, TimerHandle } from '../../devices/shared/clock.js';

interface Timer {
  id: number;
  at: number;
  every: number | null;
  fn: () => void;
}

/** A clock that moves only when the test says so; timers fire in time order during advance(). */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  constructor(start = Date.UTC(2026, 10, 22, 0, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  clearInterval(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  /** Moves time forward by ms, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      // The earliest timer due by the target; ties fire in the order they were set.
      let due: Timer | undefined;
      for (const t of this.timers.values()) {
        if (t.at <= target && (!due || t.at < due.at || (t.at === due.at && t.id < due.id))) due = t;
      }
      if (!due) break;
      this.current = due.at;
      if (due.every === null) this.timers.delete(due.id);
      else due.at += due.every;
      due.fn();
    }
    this.current = target;
  }

  /**
   * The wall clock jumps (NTP, a clock set right) by ms, forward or back, firing nothing: timers
   * run on a monotonic clock, so each still fires after the delay it was set for.
   */
  jump(ms: number): void {
    this.current += ms;
    for (const t of this.timers.values()) t.at += ms;
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  /** Timers due within `ms` from now: a test's own short timer, apart from features' long ones. */
  dueWithin(ms: number): number {
    let n = 0;
    for (const t of this.timers.values()) if (t.at <= this.current + ms) n++;
    return n;
  }

  private add(fn: () => void, ms: number, every: number | null): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.current + Math.max(0, ms), every, fn });
    return id as unknown as TimerHandle;
  }
}
