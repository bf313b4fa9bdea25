import { describe, expect, it } from 'vitest';
import { localEmitter } from '../../broker/emitter-queue.js';

describe("the broker's message emitter", () => {
  it('delivers a burst far beyond its concurrency in order, completing every publish', async () => {
    // Two deliveries at a time: the rest of the 30,000 wait in the queue, as an emergency's do.
    const mq = localEmitter(2);
    const queued = () => (mq as unknown as { length: number }).length;
    const seen: number[] = [];
    mq.on('sc/v1/+/cmd', (message, done) => {
      seen.push(message.n as number);
      setImmediate(done);
    });
    await new Promise((resolve) => setImmediate(resolve));
    const completions: Promise<void>[] = [];
    for (let n = 0; n < 30_000; n++)
      completions.push(
        new Promise((resolve, reject) =>
          mq.emit({ topic: `sc/v1/c${n % 100}/cmd`, n }, (error?: Error) =>
            error ? reject(error) : resolve(),
          ),
        ),
      );
    expect(queued()).toBeGreaterThan(29_000);
    await Promise.all(completions);
    expect(seen).toEqual(Array.from({ length: 30_000 }, (_, n) => n));
    expect(queued()).toBe(0);
  });
});
