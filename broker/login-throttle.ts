export interface LoginThrottleOptions {
  /** Failed attempts from one address answered at full speed; the next one waits baseDelayMs. */
  freeFailures: number;
  /** Delay after the first failure beyond the free ones; doubles with each further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A quiet address is forgotten after this long. */
  forgetAfterMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  freeFailures: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  forgetAfterMs: 15 * 60_000,
};

/** Keys remembered at most, whatever the rate of new ones. */
const MAX_ENTRIES = 50_000;

interface Entry {
  failures: number;
  lastFailureAt: number;
}

/**
 * Slows repeated failed logins from one address: the answer to the next CONNECT from an address
 * with many recent failures is held back, exponentially longer, so guessing secrets is impractical
 * while a device that was merely misconfigured for a while recovers as soon as it has the right one.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE) {}

  /** How long to hold the answer to a login attempt from this address. */
  delayFor(address: string, now: number): number {
    const entry = this.current(address, now);
    if (!entry) return 0;
    const over = entry.failures - this.options.freeFailures;
    if (over < 0) return 0;
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** over);
  }

  /** How much longer the key stays locked after its last failure (for refusing outright instead of delaying). */
  lockedFor(key: string, now: number): number {
    const entry = this.current(key, now);
    if (!entry) return 0;
    return Math.max(0, entry.lastFailureAt + this.delayFor(key, now) - now);
  }

  recordFailure(address: string, now: number): number {
    const entry = this.current(address, now) ?? { failures: 0, lastFailureAt: now };
    entry.failures += 1;
    entry.lastFailureAt = now;
    // Re-inserted so the map's order is the order of last failure (prune drops the oldest first).
    this.entries.delete(address);
    this.entries.set(address, entry);
    this.prune(now);
    return entry.failures;
  }

  recordSuccess(address: string): void {
    this.entries.delete(address);
  }

  private current(address: string, now: number): Entry | undefined {
    const entry = this.entries.get(address);
    if (entry && now - entry.lastFailureAt > this.options.forgetAfterMs) {
      this.entries.delete(address);
      return undefined;
    }
    return entry;
  }

  /** Keeps memory bounded when many addresses fail once and never come back. */
  private prune(now: number): void {
    if (this.entries.size < 10_000) return;
    for (const [address, entry] of this.entries) {
      if (now - entry.lastFailureAt > this.options.forgetAfterMs) this.entries.delete(address);
    }
    // Still full of fresh keys (names rotated from many addresses): the oldest go first.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(key);
    }
  }
}
