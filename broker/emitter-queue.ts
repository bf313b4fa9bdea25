import Denque from 'denque';
import mqemitter from 'mqemitter';

/** The two FIFO queues mqemitter keeps of messages waiting for a free delivery slot. */
interface QueuedEmitter {
  _messageQueue: unknown;
  _messageCallbacks: unknown;
  _do: (message: unknown, callback: unknown) => unknown;
}

/**
 * Swaps mqemitter's waiting-message queues (plain arrays it shift()s) for double-ended queues.
 * Aedes delivers at most `concurrency` messages at a time and queues the rest; an emergency to
 * 10,000 clusters queues about that many, and V8's Array.prototype.shift copies the whole array
 * once it no longer fits the young generation, so draining the queue became quadratic (a third of
 * the broker's time during a 10,000-cluster fan-out). Denque has the same push/shift/length.
 */
export function withConstantTimeQueue<T extends object>(emitter: T): T {
  const queued = emitter as unknown as QueuedEmitter;
  if (!Array.isArray(queued._messageQueue) || !Array.isArray(queued._messageCallbacks)) {
    throw new Error('mqemitter no longer keeps its queues as arrays: review withConstantTimeQueue');
  }
  if (typeof queued._do !== 'function') {
    throw new Error('mqemitter no longer dispatches through _do: review withConstantTimeQueue');
  }
  queued._messageQueue = new Denque(queued._messageQueue);
  queued._messageCallbacks = new Denque(queued._messageCallbacks);
  queued._do = trampolined(queued._do);
  return emitter;
}

/**
 * mqemitter starts the next waiting message from inside the callback of the one that finished
 * (`released` → `_do`). When deliveries complete synchronously — a subscriber whose socket is
 * already gone, the platform's own in-process subscription — a queue of N waiting messages becomes
 * a chain of N nested calls, and about 10,000 (an emergency to 10,000 clusters) overflow the
 * stack and kill the process. Here a `_do` called while another is running is queued and run by
 * the outer call's loop instead: the same order, constant stack depth.
 */
function trampolined(run: QueuedEmitter['_do']): QueuedEmitter['_do'] {
  const pending = new Denque<[unknown, unknown]>();
  let running = false;
  return function (this: unknown, message, callback) {
    pending.push([message, callback]);
    if (running) return this;
    running = true;
    try {
      for (let next = pending.shift(); next; next = pending.shift()) run.call(this, next[0], next[1]);
    } finally {
      running = false;
    }
    return this;
  };
}

/** The emitter Aedes builds by default (concurrency 100, `a/#` matching `a`), with the queue above. */
export function localEmitter(concurrency = 100) {
  return withConstantTimeQueue(mqemitter({ concurrency, matchEmptyLevels: true }));
}
