import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import {
  api,
  startTestPlatform,
  TEST_ADMIN_PASSWORD,
  type TestPlatform,
} from '../support/platform-harness.js';

describe('failed sign-ins', () => {
  let clock: ManualClock;
  let t: TestPlatform;
  const login = (username: string, password: string) =>
    api(t.httpUrl, '/api/v1/auth/login', { method: 'POST', body: { username, password } });

  beforeEach(async () => {
    clock = new ManualClock();
    t = await startTestPlatform({ clock });
    await t.api('/api/v1/users', {
      method: 'POST',
      body: {
        username: 'nguoi-bi-doan',
        displayName: 'Bị dò',
        password: 'mat-khau-that-su',
        roles: ['operator'],
      },
    });
  });
  afterEach(() => t.close());

  it('locks an account after 20 wrong passwords in a row while another user still signs in', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const attempt = await login('nguoi-bi-doan', `doan-sai-${i}`);
      statuses.push(attempt.status);
      if (i === 10) {
        // Meanwhile, from the same address, the admin signs in normally.
        expect((await login('admin', TEST_ADMIN_PASSWORD)).status).toBe(200);
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array(15).fill(429));

    // While locked, even the right password is refused, with a Retry-After.
    const locked = await login('nguoi-bi-doan', 'mat-khau-that-su');
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('locked');
    expect(Number(locked.headers.get('retry-after'))).toBe(30);

    clock.advance(30_000);
    expect((await login('nguoi-bi-doan', 'mat-khau-that-su')).status).toBe(200);
  });

  it('counts wrong passwords sent in parallel exactly: five are checked, the rest are locked out', async () => {
    // All sent before the first answer: each used to pass the lock check while the others hashed.
    const statuses = (
      await Promise.all(Array.from({ length: 25 }, (_, i) => login('nguoi-bi-doan', `song-song-${i}`)))
    ).map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    expect((await login('nguoi-bi-doan', 'mat-khau-that-su')).status).toBe(429);
  });

  it('doubles the lockout with each further failure, up to 15 minutes', async () => {
    const lockFor = async () => Number((await login('nguoi-bi-doan', 'sai')).headers.get('retry-after'));
    for (let i = 0; i < 5; i++) await login('nguoi-bi-doan', 'sai');
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const wait = await lockFor();
      waits.push(wait);
      clock.advance(wait * 1000);
      expect((await login('nguoi-bi-doan', 'sai-nua')).status).toBe(401); // the lock lapsed: checked, and wrong
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 900, 900]);
  });

  it('treats unknown usernames the same way, so locking reveals nothing about which accounts exist', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login('khong-ton-tai', 'sai')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('limits sign-in attempts per address across accounts', async () => {
    const limited = await startTestPlatform({ config: { LOGIN_RATE_LIMIT_PER_MIN: 5 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push(
          (
            await api(limited.httpUrl, '/api/v1/auth/login', {
              method: 'POST',
              body: { username: `u${i}`, password: 'x' },
            })
          ).status,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const limitedAnswer = await api(limited.httpUrl, '/api/v1/auth/login', {
        method: 'POST',
        body: { username: 'u', password: 'x' },
      });
      expect(limitedAnswer.body.error.code).toBe('rate_limited');
    } finally {
      await limited.close();
    }
  });
});
