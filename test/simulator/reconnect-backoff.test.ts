import { describe, expect, it } from 'vitest';
import { PROTOCOL_BACKOFF, ReconnectBackoff } from '../../simulators/speaker-cluster/reconnect-backoff.js';

const noJitter = () => 0.5;

describe('reconnect backoff', () => {
  it('waits 1 s after a loss, doubling per failed attempt up to 60 s', () => {
    const backoff = new ReconnectBackoff(PROTOCOL_BACKOFF, noJitter);
    const delays = Array.from({ length: 8 }, () => backoff.nextDelay(0));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('starts at 2 s after a refused login', () => {
    const backoff = new ReconnectBackoff(PROTOCOL_BACKOFF, noJitter);
    backoff.refusedLogin();
    expect([backoff.nextDelay(0), backoff.nextDelay(0)]).toEqual([2_000, 4_000]);
  });

  it('resets only after a connection stayed up for 60 s', () => {
    const backoff = new ReconnectBackoff(PROTOCOL_BACKOFF, noJitter);
    backoff.nextDelay(0);
    backoff.nextDelay(0);
    backoff.connected(10_000);
    expect(backoff.nextDelay(69_999)).toBe(4_000);
    backoff.connected(100_000);
    expect(backoff.nextDelay(160_000)).toBe(1_000);
  });

  it('spreads delays by ±20 %', () => {
    expect(new ReconnectBackoff(PROTOCOL_BACKOFF, () => 0).nextDelay(0)).toBe(800);
    expect(new ReconnectBackoff(PROTOCOL_BACKOFF, () => 0.999_999).nextDelay(0)).toBe(1_200);
  });
});
