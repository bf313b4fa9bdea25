import type { Clock } from '../shared/clock.js';

/** What every network call of one poll shares: its time budget and the poller's shutdown signal. */

export class CallTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CallTimeout';
  }
}

/** The first error of class `type` along an error's `cause` chain (undici and urllib wrap errors). */
export function findCause<T extends Error>(
  err: unknown,
  type: abstract new (...args: never[]) => T,
): T | null {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof type) return current;
    current = current.cause;
  }
  return null;
}

export function describeError(err: unknown): string {
  const timeout = findCause(err, CallTimeout);
  if (timeout) return timeout.message;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Runs `fn` with a signal that fires after `timeoutMs` on the injected clock, or when `outer` aborts. */
export type CallRunner = <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

export function callRunner(clock: Clock, timeoutMs: number, outer?: AbortSignal): CallRunner {
  return async (fn) => {
    const controller = new AbortController();
    const timer = clock.setTimeout(() => controller.abort(new CallTimeout(timeoutMs)), timeoutMs);
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onOuterAbort();
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await fn(controller.signal);
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw err;
    } finally {
      clock.clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    }
  };
}
