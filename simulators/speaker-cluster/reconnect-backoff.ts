import type { Random } from '../shared/prng.js';

export interface BackoffPolicy {
  /** First wait after a connection loss. */
  initialMs: number;
  /** First wait after CONNACK refused the login (return code 4 or 5). */
  refusedInitialMs: number;
  maxMs: number;
  /** ±fraction of random jitter, so clusters do not reconnect in lockstep after an outage. */
  jitter: number;
  /** A connection that stayed up this long resets the backoff. */
  stableMs: number;
}

/** docs/protocol.md section 4 ("Reconnecting") and section 2 (CONNACK return codes). */
export const PROTOCOL_BACKOFF: BackoffPolicy = {
  initialMs: 1_000,
  refusedInitialMs: 2_000,
  maxMs: 60_000,
  jitter: 0.2,
  stableMs: 60_000,
};

/** Exponential reconnect backoff with jitter; times come from the caller's clock. */
export class ReconnectBackoff {
  private attempts = 0;
  private connectedAt: number | null = null;
  private refused = false;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: Random,
  ) {}

  connected(now: number): void {
    this.connectedAt = now;
    this.refused = false;
  }

  refusedLogin(): void {
    this.refused = true;
  }

  /** The wait before the next attempt, after a connection loss or a failed attempt at `now`. */
  nextDelay(now: number): number {
    if (this.connectedAt !== null && now - this.connectedAt >= this.policy.stableMs) this.attempts = 0;
    this.connectedAt = null;
    const base = this.refused ? this.policy.refusedInitialMs : this.policy.initialMs;
    const delay = Math.min(this.policy.maxMs, base * 2 ** this.attempts);
    this.attempts += 1;
    const spread = 1 - this.policy.jitter + 2 * this.policy.jitter * this.random();
    return Math.round(delay * spread);
  }
}
