import { describe, expect, it } from 'vitest';
import { availabilityOf, uptimePercent } from '../../services/history/availability.js';

const H = 3_600_000;

describe('availability from presence transitions', () => {
  it('counts the state in force before the range from the range start', () => {
    const a = availabilityOf(
      { device: 'd', before: true, transitions: [{ at: 6 * H, online: false }] },
      0,
      10 * H,
    );
    expect(a).toEqual({ device: 'd', onlineMs: 6 * H, offlineMs: 4 * H, unknownMs: 0 });
  });

  it('treats time before the first known state as unknown, not down', () => {
    const a = availabilityOf(
      { device: 'd', before: null, transitions: [{ at: 4 * H, online: true }] },
      0,
      10 * H,
    );
    expect(a).toEqual({ device: 'd', onlineMs: 6 * H, offlineMs: 0, unknownMs: 4 * H });
    expect(uptimePercent(a)).toBe(100);
  });

  it('ignores transitions outside the range and repeated states', () => {
    const a = availabilityOf(
      {
        device: 'd',
        before: false,
        transitions: [
          { at: -H, online: true },
          { at: 2 * H, online: true },
          { at: 3 * H, online: true },
          { at: 9 * H, online: false },
          { at: 11 * H, online: true },
        ],
      },
      0,
      10 * H,
    );
    expect(a).toEqual({ device: 'd', onlineMs: 7 * H, offlineMs: 3 * H, unknownMs: 0 });
    expect(uptimePercent(a)).toBe(70);
  });

  it('has no uptime figure when nothing is known', () => {
    expect(uptimePercent({ onlineMs: 0, offlineMs: 0 })).toBeNull();
    expect(uptimePercent({ onlineMs: 2, offlineMs: 1 })).toBe(66.67);
  });
});
