import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../broker/login-throttle.js';

const options = { freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, forgetAfterMs: 60_000 };

describe('LoginThrottle', () => {
  it('answers the first failures at full speed, then doubles the delay up to the cap', () => {
    const throttle = new LoginThrottle(options);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(throttle.delayFor('10.0.0.5', 0));
      throttle.recordFailure('10.0.0.5', 0);
    }
    expect(delays).toEqual([0, 0, 0, 1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it('slows only the failing address', () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 6; i++) throttle.recordFailure('10.0.0.5', 0);
    expect(throttle.delayFor('10.0.0.5', 0)).toBeGreaterThan(0);
    expect(throttle.delayFor('10.0.0.6', 0)).toBe(0);
  });

  it('forgives an address after a success or a quiet period', () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 6; i++) throttle.recordFailure('a', 0);
    throttle.recordSuccess('a');
    expect(throttle.delayFor('a', 0)).toBe(0);
    for (let i = 0; i < 6; i++) throttle.recordFailure('b', 0);
    expect(throttle.delayFor('b', 59_000)).toBeGreaterThan(0);
    expect(throttle.delayFor('b', 61_000)).toBe(0);
  });
});
