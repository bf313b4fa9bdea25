/**
 * When the poller may send a camera its credentials again after the camera refused them, free of
 * timers and I/O.
 *
 * Cameras punish failed logins: Hikvision blocks the client address for 30 minutes after a few,
 * Imou counts the attempts left and then locks the account. A poller that retries every 30 s
 * keeps such a camera locked even after someone fixes the password. So after a refused login the
 * poller waits 1 min, then 2, 4, … up to an hour between attempts, and never exceeds a fixed
 * number of refused logins in any rolling hour, whatever asks for the poll (schedule, a
 * technician's "poll now", a credential change).
 */

export interface LoginBackoffConfig {
  firstDelayMs: number;
  maxDelayMs: number;
  /** Refused logins allowed per camera in any rolling hour; the hard bound. */
  maxRefusedPerHour: number;
}

export const defaultLoginBackoffConfig: LoginBackoffConfig = {
  firstDelayMs: 60_000,
  maxDelayMs: 3_600_000,
  // The schedule alone (0, 1, 3, 7, 15, 31 min) makes at most six refused logins in an hour;
  // the bound keeps a technician's repeated "poll now" to the same.
  maxRefusedPerHour: 6,
};

const HOUR = 3_600_000;

export interface LoginBackoff {
  /** Polls in a row whose login was refused; 0 once a login succeeds or the backoff is reset. */
  failures: number;
  lastRefusedAt: number | null;
  /** When each refused login of the last hour happened, oldest first. */
  refusedAt: number[];
  /** What refused the last login, for the health detail. */
  cause: string | null;
}

export const noLoginBackoff: LoginBackoff = { failures: 0, lastRefusedAt: null, refusedAt: [], cause: null };

export function loginBackoffDelayMs(
  failures: number,
  config: LoginBackoffConfig = defaultLoginBackoffConfig,
): number {
  if (failures <= 0) return 0;
  return Math.min(config.firstDelayMs * 2 ** Math.min(failures - 1, 30), config.maxDelayMs);
}

/** Refused logins within the hour before `now`. */
function recent(state: LoginBackoff, now: number): number[] {
  return state.refusedAt.filter((at) => at > now - HOUR);
}

/**
 * The earliest time credentials may be sent again, or null when they may be sent now. Both the
 * exponential delay and the hourly bound must allow it.
 */
export function nextLoginAt(
  state: LoginBackoff,
  now: number,
  config: LoginBackoffConfig = defaultLoginBackoffConfig,
): number | null {
  let next = -Infinity;
  if (state.failures > 0 && state.lastRefusedAt !== null) {
    next = state.lastRefusedAt + loginBackoffDelayMs(state.failures, config);
  }
  const inHour = recent(state, now);
  if (inHour.length >= config.maxRefusedPerHour) {
    // The attempt may go once enough of the hour's refusals have aged out of the window.
    const oldestThatMustAge = inHour[inHour.length - config.maxRefusedPerHour] as number;
    next = Math.max(next, oldestThatMustAge + HOUR);
  }
  return next > now ? next : null;
}

/** The state after a poll: `refused` logins were refused; `loggedIn` when one was accepted. */
export function afterLoginPoll(
  state: LoginBackoff,
  poll: { at: number; refused: number; loggedIn: boolean; cause?: string | undefined },
): LoginBackoff {
  const refusedAt = recent(state, poll.at);
  if (poll.refused > 0) {
    for (let i = 0; i < poll.refused; i++) refusedAt.push(poll.at);
    return {
      failures: state.failures + 1,
      lastRefusedAt: poll.at,
      refusedAt,
      cause: poll.cause ?? state.cause,
    };
  }
  if (poll.loggedIn) return { failures: 0, lastRefusedAt: null, refusedAt, cause: null };
  return { ...state, refusedAt };
}

/**
 * A technician asked for a poll, or gave the camera new credentials: the next attempt may go at
 * once. The hourly bound stays: it is what keeps the camera from locking the account.
 */
export function resetLoginBackoff(state: LoginBackoff): LoginBackoff {
  return { ...state, failures: 0, lastRefusedAt: null };
}

/** Whole minutes until `at`, at least 1, for "next try in 4 min". */
export function minutesUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 60_000));
}
