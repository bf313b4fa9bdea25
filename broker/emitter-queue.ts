import Denque from 'denque';
import mqemitter from 'mqemitter';

/** The two FIFO queues mqemitter keeps of messages waiting for a free delivery slot. */
interface QueuedEmitter {
  _messageQueue: unknown;
  _messageCallbacks: unknown;
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
  queued._messageQueue = new Denque(queued._messageQueue);
  queued._messageCallbacks = new Denque(queued._messageCallbacks);
  return emitter;
}

/** The emitter Aedes builds by default (concurrency 100, `a/#` matching `a`), with the queue above. */
export function localEmitter(concurrency = 100) {
  return withConstantTimeQueue(mqemitter({ concurrency, matchEmptyLevels: true }));
}
