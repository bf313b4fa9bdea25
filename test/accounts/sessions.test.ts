import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import {
  api,
  startTestPlatform,
  TEST_ADMIN_PASSWORD,
  type TestPlatform,
} from '../support/platform-harness.js';

const login = (t: TestPlatform, username: string, password: string) =>
  api(t.httpUrl, '/api/v1/auth/login', { method: 'POST', body: { username, password } });
const cookieOf = (setCookie: string | null) => ({ cookie: (setCookie ?? '').split(';')[0] as string });

describe('sign-in and sessions', () => {
  let clock: ManualClock;
  let t: TestPlatform;

  beforeEach(async () => {
    clock = new ManualClock();
    t = await startTestPlatform({ clock, config: { SESSION_IDLE_MIN: 120, SESSION_MAX_H: 12 } });
  });
  afterEach(() => t.close());

  it('sets an httpOnly, SameSite=Strict session cookie and answers /auth/me with the account', async () => {
    const response = await login(t, 'admin', TEST_ADMIN_PASSWORD);
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^sc_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Secure/i); // plain HTTP on a commune LAN: 'auto' leaves it off
    expect(response.body.user).toMatchObject({ username: 'admin', roles: ['admin'] });
    expect(JSON.stringify(response.body)).not.toMatch(/scrypt|password/i);

    const me = await t.api('/api/v1/auth/me', { as: { headers: cookieOf(setCookie) } });
    expect(me.body).toMatchObject({ via: 'session', roles: ['admin'], user: { username: 'admin' } });
    expect(Date.parse(me.body.sessionExpiresAt)).toBe(clock.now() + 120 * 60_000);
  });

  it('refuses a wrong password or an unknown user with the same answer', async () => {
    const wrong = await login(t, 'admin', 'not-the-password');
    const unknown = await login(t, 'nobody', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('ends the session on logout', async () => {
    const headers = cookieOf((await login(t, 'admin', TEST_ADMIN_PASSWORD)).headers.get('set-cookie'));
    expect((await t.api('/api/v1/auth/logout', { method: 'POST', as: { headers } })).status).toBe(204);
    expect((await t.api('/api/v1/auth/me', { as: { headers } })).status).toBe(401);
  });

  it('expires a session after two idle hours, and after twelve hours however active', async () => {
    const idle = cookieOf((await login(t, 'admin', TEST_ADMIN_PASSWORD)).headers.get('set-cookie'));
    const unused = cookieOf((await login(t, 'admin', TEST_ADMIN_PASSWORD)).headers.get('set-cookie'));
    clock.advance(119 * 60_000);
    expect((await t.api('/api/v1/auth/me', { as: { headers: idle } })).status).toBe(200);
    clock.advance(120 * 60_000);
    expect((await t.api('/api/v1/auth/me', { as: { headers: idle } })).status).toBe(401);
    expect((await t.api('/api/v1/auth/me', { as: { headers: unused } })).status).toBe(401);

    // A session used every 90 minutes never idles out, but still ends 12 h after sign-in.
    const active = cookieOf((await login(t, 'admin', TEST_ADMIN_PASSWORD)).headers.get('set-cookie'));
    for (let elapsed = 0; elapsed < 11 * 60; elapsed += 90) {
      expect((await t.api('/api/v1/auth/me', { as: { headers: active } })).status).toBe(200);
      clock.advance(90 * 60_000);
    }
    clock.advance(60 * 60_000); // now past 12 h since sign-in
    expect((await t.api('/api/v1/auth/me', { as: { headers: active } })).status).toBe(401);
  });

  it('signs a user out everywhere when an admin disables them or resets their password', async () => {
    await t.api('/api/v1/users', {
      method: 'POST',
      body: {
        username: 'can-bo',
        displayName: 'Cán bộ',
        password: 'mat-khau-dai-du-12',
        roles: ['operator'],
      },
    });
    const session = cookieOf((await login(t, 'can-bo', 'mat-khau-dai-du-12')).headers.get('set-cookie'));
    const { body: users } = await t.api('/api/v1/users');
    const id = users.items.find((u: { username: string }) => u.username === 'can-bo').id;

    expect(
      (
        await t.api(`/api/v1/users/${id}/password`, {
          method: 'POST',
          body: { password: 'mat-khau-moi-12345' },
        })
      ).status,
    ).toBe(200);
    expect((await t.api('/api/v1/auth/me', { as: { headers: session } })).status).toBe(401);
    expect((await login(t, 'can-bo', 'mat-khau-dai-du-12')).status).toBe(401);
    const again = cookieOf((await login(t, 'can-bo', 'mat-khau-moi-12345')).headers.get('set-cookie'));

    expect(
      (await t.api(`/api/v1/users/${id}`, { method: 'PATCH', body: { disabled: true } })).body.disabled,
    ).toBe(true);
    expect((await t.api('/api/v1/auth/me', { as: { headers: again } })).status).toBe(401);
    expect((await login(t, 'can-bo', 'mat-khau-moi-12345')).status).toBe(401);
  });

  it('lets a user change their own password, ending their other sessions but not this one', async () => {
    await t.api('/api/v1/users', {
      method: 'POST',
      body: {
        username: 'ky-thuat',
        displayName: 'Kỹ thuật',
        password: 'mat-khau-ban-dau',
        roles: ['technician'],
      },
    });
    const here = cookieOf((await login(t, 'ky-thuat', 'mat-khau-ban-dau')).headers.get('set-cookie'));
    const elsewhere = cookieOf((await login(t, 'ky-thuat', 'mat-khau-ban-dau')).headers.get('set-cookie'));
    const short = await t.api('/api/v1/auth/password', {
      method: 'POST',
      body: { currentPassword: 'mat-khau-ban-dau', newPassword: 'ngan' },
      as: { headers: here },
    });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toContain('body.newPassword');
    const wrong = await t.api('/api/v1/auth/password', {
      method: 'POST',
      body: { currentPassword: 'sai-mat-khau-roi', newPassword: 'mat-khau-moi-dai-hon' },
      as: { headers: here },
    });
    expect(wrong.status).toBe(401);
    const changed = await t.api('/api/v1/auth/password', {
      method: 'POST',
      body: { currentPassword: 'mat-khau-ban-dau', newPassword: 'mat-khau-moi-dai-hon' },
      as: { headers: here },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ tokensRevoked: 0 });
    expect((await t.api('/api/v1/auth/me', { as: { headers: here } })).status).toBe(200);
    expect((await t.api('/api/v1/auth/me', { as: { headers: elsewhere } })).status).toBe(401);
  });

  it('requires passwords of at least 12 characters and unique usernames', async () => {
    const short = await t.api('/api/v1/users', {
      method: 'POST',
      body: { username: 'ngan', displayName: 'N', password: 'short', roles: ['police'] },
    });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/body\.password: at least 12 characters/);
    const body = {
      username: 'cong-an',
      displayName: 'Công an',
      password: 'mat-khau-cong-an',
      roles: ['police'],
    };
    expect((await t.api('/api/v1/users', { method: 'POST', body })).status).toBe(201);
    expect(
      (await t.api('/api/v1/users', { method: 'POST', body: { ...body, username: 'CONG-AN' } })).status,
    ).toBe(409);
  });
});

describe('the first admin account', () => {
  it('is created with a generated password shown once when ADMIN_PASSWORD is not set', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sc-first-'));
    const announced: string[] = [];
    try {
      const first = await startTestPlatform({
        dataDir,
        config: { ADMIN_PASSWORD: undefined },
        announce: (m) => announced.push(m),
      });
      const password = /password (\S+)/.exec(announced[0] ?? '')?.[1] as string;
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect((await login(first, 'admin', password)).status).toBe(200);
      await first.close();
      const second = await startTestPlatform({
        dataDir,
        config: { ADMIN_PASSWORD: undefined },
        announce: (m) => announced.push(m),
      });
      expect(announced).toHaveLength(1);
      expect((await login(second, 'admin', password)).status).toBe(200);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
