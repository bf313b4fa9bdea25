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

  it('drains 100,000 waiting messages whose deliveries complete at once without overflowing the stack', () => {
    // Deliveries that finish synchronously (a subscriber already gone) used to start the next
    // waiting message one call deeper each time: about 10,000 overflowed the stack.
    const mq = localEmitter(100);
    const held: (() => void)[] = [];
    let delivered = 0;
    let order = 0;
    let inOrder = true;
    mq.on('sc/v1/+/cmd', (message, done) => {
      delivered++;
      if (message.hold) {
        held.push(done);
        return;
      }
      if ((message.n as number) !== order++) inOrder = false;
      done();
    });
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        for (let i = 0; i < 100; i++) mq.emit({ topic: 'sc/v1/held/cmd', hold: true });
        for (let n = 0; n < 100_000; n++) mq.emit({ topic: `sc/v1/c${n % 100}/cmd`, n });
        expect(delivered).toBe(100);
        expect(() => {
          for (const done of held) done();
        }).not.toThrow();
        expect(delivered).toBe(100_100);
        expect(inOrder).toBe(true);
        expect((mq as unknown as { length: number }).length).toBe(0);
        resolve();
      }),
    );
  });
});
