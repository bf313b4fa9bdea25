import type { Logger } from 'pino';
import type { Clock } from '../devices/index.js';

interface Burst {
  startedAt: number;
  suppressed: number;
}

/**
 * Logs the first occurrence of a repeated problem, then stays quiet for the window and reports how
 * many more there were when the next one arrives after it: a device sending garbage 50 times a
 * second produces one line per window, not 50.
 */
export class BurstLogger {
  private readonly bursts = new Map<string, Burst>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly windowMs = 10_000,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.clock.now();
    const burst = this.bursts.get(key);
    if (burst && now - burst.startedAt < this.windowMs) {
      burst.suppressed++;
      return;
    }
    const suppressed = burst?.suppressed ?? 0;
    this.bursts.set(key, { startedAt: now, suppressed: 0 });
    this.logger.warn(suppressed > 0 ? { ...fields, suppressedSinceLastLog: suppressed } : fields, message);
    if (this.bursts.size > 10_000) this.prune(now);
  }

  private prune(now: number): void {
    for (const [key, burst] of this.bursts)
      if (now - burst.startedAt >= this.windowMs) this.bursts.delete(key);
  }
}
