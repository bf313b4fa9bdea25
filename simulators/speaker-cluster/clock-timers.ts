import type { Clock, TimerHandle } from '../../devices/index.js';

/**
 * Every timer a simulated cluster runs, on its injected clock, so a power cut or stop() can cancel
 * them all at once and tests can drive them with a manual clock.
 */
export class ClockTimers {
  private readonly active = new Map<TimerHandle, 'timeout' | 'interval'>();
  private readonly sleepers = new Map<TimerHandle, (fired: boolean) => void>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.active.size;
  }

  timeout(fn: () => void, ms: number): TimerHandle {
    const handle = this.clock.setTimeout(() => {
      this.active.delete(handle);
      fn();
    }, ms);
    this.active.set(handle, 'timeout');
    return handle;
  }

  interval(fn: () => void, ms: number): TimerHandle {
    const handle = this.clock.setInterval(fn, ms);
    this.active.set(handle, 'interval');
    return handle;
  }

  /** Resolves true after ms, or false as soon as the wait is cancelled. */
  delay(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const handle = this.timeout(() => {
        this.sleepers.delete(handle);
        resolve(true);
      }, ms);
      this.sleepers.set(handle, resolve);
    });
  }

  cancel(handle: TimerHandle): void {
    const kind = this.active.get(handle);
    if (kind === undefined) return;
    this.active.delete(handle);
    if (kind === 'timeout') this.clock.clearTimeout(handle);
    else this.clock.clearInterval(handle);
    const sleeper = this.sleepers.get(handle);
    if (sleeper) {
      this.sleepers.delete(handle);
      sleeper(false);
    }
  }

  cancelAll(): void {
    for (const handle of [...this.active.keys()]) this.cancel(handle);
  }
}
