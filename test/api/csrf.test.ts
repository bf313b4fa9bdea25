import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * A page on another site making the operator's browser send a state-changing request with the
 * session cookie (cross-site request forgery). SameSite=Strict keeps the cookie off such requests
 * in today's browsers; these checks are the second line, and hold for a browser that sends it.
 */
describe('state-changing requests with a session', () => {
  let t: TestPlatform;
  let cookie: Record<string, string>;
  const logout = (headers: Record<string, string>) =>
    fetch(`${t.httpUrl}/api/v1/auth/logout`, { method: 'POST', headers: { ...cookie, ...headers } });

  beforeAll(async () => {
    t = await startTestPlatform();
    cookie = await t.headersFor('operator');
  });
  afterAll(() => t.close());

  it('are refused from another origin, or when the browser says they come from another site', async () => {
    for (const headers of <Record<string, string>[]>[
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      const response = await logout(headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/cross-site/);
    }
    // Still signed in: none of them reached the handler.
    expect((await t.api('/api/v1/auth/me', { as: { headers: cookie } })).status).toBe(200);
  });

  it('are refused with the content types a plain HTML form can send', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await logout({ 'content-type': type, origin: t.httpUrl });
      expect(response.status, type).toBe(415);
    }
    expect((await t.api('/api/v1/auth/me', { as: { headers: cookie } })).status).toBe(200);
  });

  it('are accepted from the console’s own origin', async () => {
    const response = await logout({ origin: t.httpUrl, 'sec-fetch-site': 'same-origin' });
    expect(response.status).toBe(204);
    expect((await t.api('/api/v1/auth/me', { as: { headers: cookie } })).status).toBe(401);
  });
});
